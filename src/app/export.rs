//! Exports on their own thread (encoding a large PNG takes seconds): the result, or a
//! before/after picture for family chats. Files are written atomically, never over the original.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};

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
/// settings, so the batch waits for some; it tells how far it has got, then what came of it.
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
}

impl Batch {
    pub fn new(photos: impl IntoIterator<Item = u64>, left_out: usize, already: usize, folder: PathBuf) -> Self {
        let waiting: HashSet<u64> = photos.into_iter().collect();
        Self { total: waiting.len(), waiting, saved: 0, problems: Vec::new(), left_out, already, stopped: 0, folder }
    }

    pub fn waits_for(&self, photo: u64) -> bool {
        self.waiting.contains(&photo)
    }

    /// What came of one of its photos: saved, or why not.
    pub fn settle(&mut self, photo: u64, outcome: Result<(), String>) {
        if self.waiting.remove(&photo) {
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

    /// The status line: progress, then the tally with the folder to open.
    pub fn notice(&self) -> Notice {
        if !self.is_done() {
            let doing = if self.is_stopped() { "Stopping" } else { "Exporting" };
            return Notice::info(format!("{doing}: {} of {} saved…", self.saved, self.total));
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

fn export(r: &Request) -> Result<PathBuf, String> {
    std::fs::create_dir_all(&r.folder)
        .map_err(|e| format!("{}: cannot create the export folder: {e}; choose another folder", r.folder.display()))?;
    let stem = r.source.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "photo".into());
    let (image, suffix) = match r.what {
        What::Result => ((*r.result).clone(), "colorized"),
        What::Share(layout) => (DynamicImage::ImageRgb8(share_image(&r.original, &r.result, layout)), "before-after"),
    };
    let target = unused_name(&r.folder, &format!("{stem}-{suffix}"), r.format.extension());
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
