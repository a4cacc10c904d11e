//! Exports on their own thread (encoding a large PNG takes seconds): the result, or a
//! before/after picture for family chats. Files are written atomically, never over the original.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use image::{DynamicImage, Rgb, RgbImage};
use serde::{Deserialize, Serialize};

use super::prefs::ShareLayout;
use super::{Notice, RenderKey};
use crate::io::decode::Carried;
use crate::io::encode::{self, Format};
use crate::io::provenance::{self, Provenance};

pub enum What {
    Result,
    Share(ShareLayout),
}

pub struct Request {
    pub photo: u64,
    pub source: PathBuf,
    /// What the file written is named after: the source's name, and for one of several prints
    /// of a scan its number ("album-print2").
    pub stem: String,
    pub original: Arc<DynamicImage>,
    pub result: Arc<DynamicImage>,
    /// What the picture carries of its source, for the picture as turned.
    pub carried: Carried,
    pub what: What,
    pub format: Format,
    pub folder: PathBuf,
    /// The model's name, for the record in the file.
    pub model: String,
    /// What made the result.
    pub key: RenderKey,
}

pub struct Outcome {
    pub photo: u64,
    /// A before/after picture, not the result itself.
    pub shared: bool,
    pub written: Result<SavedAs, String>,
}

/// Where a photo's result was last saved and what made it: "Export all" does not save it again
/// while the model, the settings, the format and the file are as they were. Kept with the photo
/// list, so this holds in the next run too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedAs {
    pub file: PathBuf,
    /// The model, settings and format, written out (`made_with`). Text, so the list's file
    /// need not mirror the engine's types; a change in how they are written only costs one
    /// more export.
    pub made_with: String,
}

impl SavedAs {
    pub fn new(file: PathBuf, key: &RenderKey, format: Format) -> Self {
        Self { file, made_with: made_with(key, format) }
    }

    /// Whether saving `key` as `format` in `folder` would only make a copy of this file.
    pub fn is_same(&self, key: &RenderKey, format: Format, folder: &Path) -> bool {
        self.made_with == made_with(key, format) && self.file.parent() == Some(folder) && self.file.is_file()
    }
}

/// An export handed to the exporter and not yet written.
pub struct InFlight {
    photo: u64,
    /// What its file will be made with (`made_with`); None for a before/after picture.
    made_with: Option<String>,
    folder: PathBuf,
}

impl InFlight {
    pub fn of(request: &Request) -> Self {
        let made_with = matches!(request.what, What::Result).then(|| made_with(&request.key, request.format));
        Self { photo: request.photo, made_with, folder: request.folder.clone() }
    }

    /// Whether it is `photo`'s result (or, `shared`, its before/after picture).
    pub fn is_for(&self, photo: u64, shared: bool) -> bool {
        self.photo == photo && self.made_with.is_none() == shared
    }

    /// Whether it saves `photo`'s result made with `key` as `format` in `folder`.
    pub fn saves(&self, photo: u64, key: &RenderKey, format: Format, folder: &Path) -> bool {
        self.photo == photo && self.made_with.as_ref() == Some(&made_with(key, format)) && self.folder == folder
    }
}

fn made_with(key: &RenderKey, format: Format) -> String {
    // Debug prints floats so that they read back exactly: equal text, equal settings.
    format!("{key:?}; {format:?}")
}

pub struct Exporter {
    requests: Sender<Request>,
    outcomes: Receiver<Outcome>,
}

impl Exporter {
    pub fn spawn(notify: impl Fn() + Send + 'static) -> Self {
        let (requests, rx) = mpsc::channel::<Request>();
        let (tx, outcomes) = mpsc::channel();
        std::thread::Builder::new()
            .name("tintype-export".into())
            .spawn(move || {
                for r in rx {
                    let (photo, shared) = (r.photo, matches!(r.what, What::Share(_)));
                    let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| export(&r)))
                        .unwrap_or_else(|_| Err(format!("{}: internal error while exporting", r.source.display())))
                        .map(|file| SavedAs::new(file, &r.key, r.format));
                    let _ = tx.send(Outcome { photo, shared, written });
                    notify();
                }
            })
            .expect("spawning the export thread");
        Self { requests, outcomes }
    }

    pub fn submit(&self, request: Request) {
        let _ = self.requests.send(request);
    }

    pub fn poll(&self) -> Vec<Outcome> {
        self.outcomes.try_iter().collect()
    }
}

/// An "Export all" under way. Each photo is saved once it is colorized with the current
/// settings, so the batch waits for some; it tells how far it has got and about how long it has
/// left, then what came of it.
pub struct Batch {
    waiting: HashSet<u64>,
    total: usize,
    saved: usize,
    problems: Vec<String>,
    /// Photos that had already failed to colorize, so were not part of it.
    left_out: usize,
    /// Photos already saved in the folder as they are, so not saved again.
    already: usize,
    /// Photos not saved because the batch was stopped before their turn.
    stopped: usize,
    folder: PathBuf,
    /// Photos that were not colorized when the batch began: what the time left is spent on
    /// (the others are saved at once).
    to_colorize: HashSet<u64>,
    started: Instant,
    /// When the batch began and when the latest few of `to_colorize` were settled, after
    /// `started`: the pace of the estimate.
    recent: VecDeque<Duration>,
}

/// How many of the latest photos colorized set the pace, so that it follows a change (a
/// different model, larger scans further down the list).
const PACE_WINDOW: usize = 8;

impl Batch {
    pub fn new(photos: impl IntoIterator<Item = u64>, left_out: usize, already: usize, folder: PathBuf) -> Self {
        let waiting: HashSet<u64> = photos.into_iter().collect();
        Self {
            total: waiting.len(),
            waiting,
            saved: 0,
            problems: Vec::new(),
            left_out,
            already,
            stopped: 0,
            folder,
            to_colorize: HashSet::new(),
            started: Instant::now(),
            recent: VecDeque::from([Duration::ZERO]),
        }
    }

    /// Those of its photos that wait to be colorized before they are saved.
    pub fn colorizing(&mut self, photos: impl IntoIterator<Item = u64>) {
        self.to_colorize = photos.into_iter().filter(|p| self.waiting.contains(p)).collect();
    }

    pub fn waits_for(&self, photo: u64) -> bool {
        self.waiting.contains(&photo)
    }

    /// What came of one of its photos: saved, or why not.
    pub fn settle(&mut self, photo: u64, outcome: Result<(), String>) {
        self.settle_at(photo, outcome, self.started.elapsed());
    }

    /// [`Self::settle`], `after` the batch began.
    fn settle_at(&mut self, photo: u64, outcome: Result<(), String>, after: Duration) {
        if self.waiting.remove(&photo) {
            if self.to_colorize.remove(&photo) {
                if self.recent.len() > PACE_WINDOW {
                    self.recent.pop_front();
                }
                self.recent.push_back(after);
            }
            match outcome {
                Ok(()) => self.saved += 1,
                Err(why) => self.problems.push(why),
            }
        }
    }

    /// A photo taken off the list is no longer counted.
    pub fn forget(&mut self, photo: u64) {
        if self.waiting.remove(&photo) {
            self.total -= 1;
        }
    }

    /// Stopped by the person: `not_started` (photos not yet being written) are not saved; the
    /// batch still waits for those being written.
    pub fn stop(&mut self, not_started: impl IntoIterator<Item = u64>) {
        for photo in not_started {
            if self.waiting.remove(&photo) {
                self.stopped += 1;
            }
        }
    }

    /// Photos saved so far, and how many it saves in all.
    pub fn progress(&self) -> (usize, usize) {
        (self.saved, self.total)
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped > 0
    }

    pub fn is_done(&self) -> bool {
        self.waiting.is_empty()
    }

    /// About how long the photos still to be colorized will take, at the pace of the latest
    /// few; None until two have been.
    fn time_left(&self) -> Option<Duration> {
        let colorized = self.recent.len() as u32 - 1;
        let (first, last) = (self.recent.front()?, self.recent.back()?);
        let per_photo = last.checked_sub(*first)?.checked_div(colorized)?;
        (colorized >= 2).then(|| per_photo * self.to_colorize.len() as u32)
    }

    /// The status line: progress, then the tally with the folder to open.
    pub fn notice(&self) -> Notice {
        if !self.is_done() {
            let doing = if self.is_stopped() { "Stopping" } else { "Exporting" };
            let left = match self.time_left() {
                Some(left) if !self.is_stopped() => format!(", {}", about(left)),
                _ => String::new(),
            };
            return Notice::info(format!("{doing}: {} of {} saved{left}…", self.saved, self.total));
        }
        let photos = |n: usize| if n == 1 { "1 photo".to_string() } else { format!("{n} photos") };
        let folder = self.folder.display();
        let mut text = if self.is_stopped() && self.saved == 0 {
            format!("Export all stopped before any of {} was saved", photos(self.total))
        } else if self.is_stopped() {
            let total = photos(self.total);
            format!("Export all stopped: saved {} of {total} to {folder}; {} not saved", self.saved, self.stopped)
        } else if self.problems.is_empty() {
            format!("Saved {} to {folder}", photos(self.saved))
        } else if self.saved == 0 {
            format!("Saved none of {} to {folder}", photos(self.total))
        } else {
            format!("Saved {} of {} to {folder}", self.saved, photos(self.total))
        };
        if self.already > 0 {
            text += &format!(
                "; {} already saved there as {} now",
                photos(self.already),
                if self.already == 1 { "it is" } else { "they are" }
            );
        }
        if self.left_out > 0 {
            text += &format!("; left out {} that could not be colorized", photos(self.left_out));
        }
        if let Some(first) = self.problems.first() {
            text += &format!(". Not saved: {first}");
            if self.problems.len() > 1 {
                text += &format!(" (and {} more)", self.problems.len() - 1);
            }
        }
        Notice { text, error: !self.problems.is_empty(), folder: (self.saved > 0).then(|| self.folder.clone()) }
    }
}

/// "about 12 min left": in minutes under an hour, to the nearest five minutes beyond.
fn about(left: Duration) -> String {
    let minutes = (left.as_secs_f64() / 60.0).round() as u64;
    match minutes {
        0 => "under a minute left".into(),
        1..60 => format!("about {minutes} min left"),
        _ => match (minutes + 2) / 5 * 5 {
            m if m % 60 == 0 => format!("about {} h left", m / 60),
            m => format!("about {} h {} min left", m / 60, m % 60),
        },
    }
}

fn export(r: &Request) -> Result<PathBuf, String> {
    std::fs::create_dir_all(&r.folder)
        .map_err(|e| format!("{}: cannot create the export folder: {e}; choose another folder", r.folder.display()))?;
    let (image, suffix) = match r.what {
        What::Result => ((*r.result).clone(), "colorized"),
        What::Share(layout) => (DynamicImage::ImageRgb8(share_image(&r.original, &r.result, layout)), "before-after"),
    };
    let target = unused_name(&r.folder, &format!("{}-{suffix}", r.stem), r.format.extension());
    let record = Provenance::now(r.model.clone(), r.key.settings.describe());
    let exif = provenance::exif_for(Some(&r.source), &record, r.carried.density);
    let bytes = encode::encode(&image, r.format, &r.carried, exif.as_deref())
        .map_err(|e| format!("{}: cannot encode: {e}", target.display()))?;
    encode::write_atomic(&target, &bytes, &[&r.source]).map_err(|e| format!("{e}; choose another export folder"))?;
    Ok(target)
}

/// `folder/stem.ext`, or `stem-2.ext`, … so an export never replaces an earlier one.
pub fn unused_name(folder: &Path, stem: &str, ext: &str) -> PathBuf {
    std::iter::once(folder.join(format!("{stem}.{ext}")))
        .chain((2..).map(|n| folder.join(format!("{stem}-{n}.{ext}"))))
        .find(|p| !p.exists())
        .expect("an unused name exists")
}

/// Before and after in one picture: side by side with a white gap, or one picture split down
/// the middle (left before, right after) with a white line.
pub fn share_image(before: &DynamicImage, after: &DynamicImage, layout: ShareLayout) -> RgbImage {
    let before = before.to_rgb8();
    let after = after.to_rgb8();
    let (w, h) = after.dimensions();
    let before = if before.dimensions() == (w, h) {
        before
    } else {
        image::imageops::resize(&before, w, h, image::imageops::FilterType::Triangle)
    };
    let white = Rgb([255, 255, 255]);
    match layout {
        ShareLayout::SideBySide => {
            let gap = (w / 50).max(4);
            let mut out = RgbImage::from_pixel(2 * w + 3 * gap, h + 2 * gap, white);
            image::imageops::replace(&mut out, &before, gap as i64, gap as i64);
            image::imageops::replace(&mut out, &after, (2 * gap + w) as i64, gap as i64);
            out
        }
        ShareLayout::Split => {
            let line = (w / 200).max(2);
            let mid = w / 2;
            let mut out = after;
            for (x, y, p) in out.enumerate_pixels_mut() {
                if x < mid {
                    *p = *before.get_pixel(x, y);
                }
                if x + line / 2 >= mid && x < mid + line.div_ceil(2) {
                    *p = white;
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_counts_its_photos_then_tells_where_they_went() {
        let mut batch = Batch::new([1, 2, 3], 0, 0, PathBuf::from("/exports"));
        assert_eq!(batch.notice().text, "Exporting: 0 of 3 saved…");
        batch.settle(1, Ok(()));
        batch.settle(1, Ok(())); // a second export of the same photo, pressed on its own
        batch.settle(9, Ok(())); // not one of the batch's
        assert_eq!(batch.notice().text, "Exporting: 1 of 3 saved…");
        batch.forget(3);
        batch.settle(2, Ok(()));
        assert!(batch.is_done());
        let notice = batch.notice();
        assert_eq!(notice.text, "Saved 2 photos to /exports");
        assert!(!notice.error);
        assert_eq!(notice.folder, Some(PathBuf::from("/exports")));
    }

    #[test]
    fn a_batch_says_about_how_long_it_has_left_at_the_pace_of_its_latest_photos() {
        let mut batch = Batch::new(0..200, 0, 0, PathBuf::from("/exports"));
        let secs = Duration::from_secs_f64;
        // Five already colorized, saved at once; the others one every 4 s.
        batch.colorizing(5..200);
        for id in 0..5 {
            batch.settle_at(id, Ok(()), secs(0.2 + id as f64 * 0.01));
        }
        batch.settle_at(5, Ok(()), secs(4.0));
        assert_eq!(batch.notice().text, "Exporting: 6 of 200 saved…", "one photo tells no pace");
        batch.settle_at(6, Err("g.jpg: not a picture".into()), secs(8.0));
        // 193 left at 4 s each.
        assert_eq!(batch.notice().text, "Exporting: 6 of 200 saved, about 13 min left…");
        // Larger scans further down: the pace follows within a few photos.
        for id in 7..20 {
            batch.settle_at(id, Ok(()), secs(8.0 + (id - 6) as f64 * 8.0));
        }
        assert_eq!(batch.notice().text, "Exporting: 19 of 200 saved, about 24 min left…");
        assert_eq!(about(secs(25.0)), "under a minute left");
        assert_eq!(about(secs(95.0)), "about 2 min left");
        assert_eq!(about(secs(3599.0)), "about 1 h left");
        assert_eq!(about(secs(4920.0)), "about 1 h 20 min left");
        // Stopping: the estimate no longer holds.
        batch.stop(20..199);
        assert_eq!(batch.notice().text, "Stopping: 19 of 200 saved…");
    }

    #[test]
    fn a_stopped_batch_waits_for_the_files_being_written_then_says_how_many_were_not_saved() {
        let mut batch = Batch::new([1, 2, 3, 4], 0, 0, PathBuf::from("/exports"));
        batch.settle(1, Ok(()));
        // 2 is being written; 3 and 4 wait to be colorized.
        batch.stop([3, 4]);
        assert!(!batch.is_done());
        assert_eq!(batch.notice().text, "Stopping: 1 of 4 saved…");
        batch.settle(2, Ok(()));
        assert!(batch.is_done());
        let notice = batch.notice();
        assert_eq!(notice.text, "Export all stopped: saved 2 of 4 photos to /exports; 2 not saved");
        assert!(!notice.error);
        assert_eq!(notice.folder, Some(PathBuf::from("/exports")));

        let mut early = Batch::new([1, 2], 0, 0, PathBuf::from("/exports"));
        early.stop([1, 2]);
        assert!(early.is_done());
        assert_eq!(early.notice().text, "Export all stopped before any of 2 photos was saved");
        assert_eq!(early.notice().folder, None);
    }

    #[test]
    fn a_batch_names_what_it_could_not_save_and_what_it_left_out_or_had_saved_before() {
        let mut batch = Batch::new([1, 2, 3], 1, 2, PathBuf::from("/exports"));
        batch.settle(1, Ok(()));
        batch.settle(2, Err("b.jpg: not a picture".into()));
        batch.settle(3, Err("c.jpg: disk full".into()));
        let notice = batch.notice();
        assert_eq!(
            notice.text,
            "Saved 1 of 3 photos to /exports; 2 photos already saved there as they are now; left out 1 photo \
             that could not be colorized. Not saved: b.jpg: not a picture (and 1 more)"
        );
        assert!(notice.error);

        let mut nothing = Batch::new([1, 2], 0, 0, PathBuf::from("/exports"));
        nothing.settle(1, Err("a.jpg: disk full".into()));
        nothing.settle(2, Err("b.jpg: disk full".into()));
        let notice = nothing.notice();
        assert_eq!(notice.text, "Saved none of 2 photos to /exports. Not saved: a.jpg: disk full (and 1 more)");
        assert_eq!(notice.folder, None, "no folder to open when nothing went there");
    }
}
