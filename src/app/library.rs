//! The photo list: what was added, how far each photo has got, and a background loader that
//! walks dropped folders and makes thumbnails, so the window never waits on the disk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};

use image::DynamicImage;

use super::RenderKey;
use super::thumbnails;
use crate::engine::Settings;
use crate::engine::worker::{ModelChoice, Stage};
use crate::io::photos;

#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Waiting for the worker.
    Queued,
    Working(Stage),
    Done,
    Failed(String),
    /// Not rendered yet (added, or settings changed while it was not selected).
    Idle,
}

pub struct Photo {
    pub id: u64,
    pub path: PathBuf,
    pub name: String,
    pub status: Status,
    /// The render size, turn and adjustments it is colorized with: its own, set while it is
    /// on screen (the render size and adjustments can be given to all by "Apply to all photos").
    pub settings: Settings,
    pub thumbnail: Option<egui::TextureHandle>,
    pub original: Option<Arc<DynamicImage>>,
    /// The quarter turns `original` was given.
    pub original_turns: u8,
    /// The newest result and what made it.
    pub result: Option<(RenderKey, Arc<DynamicImage>)>,
    /// What made a result whose pixels were let go to bound memory: the photo counts as done
    /// with those settings, and is rendered again only when it is shown or exported.
    pub released: Option<RenderKey>,
    /// When it was last on screen or finished (the window's own clock), to let go of the
    /// longest unused first.
    pub last_used: u64,
    /// Kept from the last run and not shown since: it is rendered when shown or exported, not
    /// in the background as the window opens (a long list would keep the CPU busy for what the
    /// person has seen before).
    pub waits_until_shown: bool,
    /// How its result was last saved by Export or Export all.
    pub saved_as: Option<super::export::SavedAs>,
    /// How long its last render took, and where the model ran, for the status line.
    pub took: Option<(std::time::Duration, &'static str)>,
    /// Pictures in its file besides the one read (a multi-page TIFF's other pages), which the
    /// list tells of: they are not colorized.
    pub other_pictures: usize,
    /// Its number among the prints of its scan listed as photos of their own (see
    /// [`number_prints`]); `None` when its file is listed once.
    pub print: Option<usize>,
}

/// The name of the file at `path`, as the list shows it.
fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// Names each photo by its file, and the prints of one scan listed as photos of their own by
/// their place among them: "album.jpg (print 2)".
pub fn number_prints(photos: &mut [Photo]) {
    let mut listed: HashMap<PathBuf, usize> = HashMap::new();
    for p in photos.iter() {
        *listed.entry(p.path.clone()).or_default() += 1;
    }
    let mut numbered: HashMap<PathBuf, usize> = HashMap::new();
    for p in photos.iter_mut() {
        p.print = (listed[&p.path] > 1).then(|| {
            let k = numbered.entry(p.path.clone()).or_default();
            *k += 1;
            *k
        });
        p.name = match p.print {
            Some(k) => format!("{} (print {k})", file_name(&p.path)),
            None => file_name(&p.path),
        };
    }
}

impl Photo {
    pub fn new(id: u64, path: PathBuf, settings: Settings) -> Self {
        let name = file_name(&path);
        Self {
            id,
            path,
            name,
            status: Status::Idle,
            settings,
            thumbnail: None,
            original: None,
            original_turns: 0,
            result: None,
            released: None,
            last_used: 0,
            waits_until_shown: false,
            saved_as: None,
            took: None,
            other_pictures: 0,
            print: None,
        }
    }

    /// A result made by `key` is on hand.
    pub fn is_current(&self, key: &RenderKey) -> bool {
        self.result.as_ref().is_some_and(|(k, _)| k == key)
    }

    /// The photo as it is to be shown, turned as its settings say (`None` until it is read
    /// that way).
    pub fn shown_original(&self) -> Option<&Arc<DynamicImage>> {
        self.original.as_ref().filter(|_| self.original_turns == self.settings.quarter_turns)
    }

    /// The newest result, unless it was made turned or cropped another way than the photo now
    /// is.
    pub fn shown_result(&self) -> Option<&Arc<DynamicImage>> {
        self.result
            .as_ref()
            .filter(|(key, _)| {
                key.settings.quarter_turns == self.settings.quarter_turns && key.settings.crop == self.settings.crop
            })
            .map(|(_, r)| r)
    }

    /// The bytes of the pixels it holds: the original and the result.
    pub fn pixel_bytes(&self) -> usize {
        let original = self.original.as_ref().map_or(0, |o| o.as_bytes().len());
        original + self.result.as_ref().map_or(0, |(_, r)| r.as_bytes().len())
    }

    /// Lets go of its pixels, keeping what made the result.
    pub fn release(&mut self) {
        if let Some((key, _)) = self.result.take() {
            self.released = Some(key);
        }
        self.original = None;
    }

    /// One line for the list and for screen readers; `model` is what a render would be made
    /// with now, when a model can run.
    pub fn status_text(&self, model: Option<&ModelChoice>) -> String {
        let made_with = self.result.as_ref().map(|(k, _)| k).or(self.released.as_ref());
        let outdated = made_with.zip(model).is_some_and(|(k, m)| k.model != *m || k.settings != self.settings);
        match &self.status {
            Status::Idle | Status::Done if outdated => "done (older settings)".into(),
            Status::Idle if made_with.is_some() => "done".into(),
            Status::Idle if self.waits_until_shown => "colorized when shown".into(),
            Status::Idle => "not colorized yet".into(),
            Status::Queued => "queued".into(),
            Status::Working(stage) => stage.describe().into(),
            Status::Done => "done".into(),
            Status::Failed(_) => "failed".into(),
        }
    }
}

/// What the loader reports.
pub enum Loaded {
    /// A photo to add to the list.
    Found(PathBuf),
    /// Its thumbnail, small and already in RGBA.
    Thumbnail(PathBuf, egui::ColorImage),
    /// A file or folder that could not be read, with what to do.
    Problem(String),
    /// A photo kept from the last run that is no longer where it was.
    Gone(PathBuf),
}

enum Request {
    /// Photos and folders added, and the export folder.
    Add(Vec<PathBuf>, PathBuf),
    /// Photos kept from the last run, already on the list.
    Kept(Vec<PathBuf>),
}

/// Walks dropped files and folders, looks for the photos kept from the last run, and makes
/// thumbnails, on its own thread: a folder on a network drive that is gone can keep a look at
/// the disk waiting for many seconds.
pub struct Loader {
    requests: Sender<Request>,
    results: Receiver<Loaded>,
}

impl Loader {
    /// A loader keeping thumbnails in `cache` (a folder), if given.
    pub fn spawn(notify: impl Fn() + Send + 'static, cache: Option<PathBuf>) -> Self {
        let (requests, rx) = mpsc::channel::<Request>();
        let (tx, results) = mpsc::channel();
        std::thread::Builder::new()
            .name("tintype-loader".into())
            .spawn(move || {
                let cache = cache.map(thumbnails::Cache::open);
                // Failures show when the photo is colorized, with the decoder's message.
                let thumbnail = |photo: &std::path::Path| {
                    let thumb = match &cache {
                        Some(cache) => cache.thumbnail(photo),
                        None => thumbnails::make(photo),
                    };
                    thumb.map(|t| to_color_image(&t))
                };
                for request in rx {
                    let send = |l| {
                        let _ = tx.send(l);
                        notify();
                    };
                    let (inputs, exports) = match request {
                        Request::Add(inputs, exports) => (inputs, exports),
                        Request::Kept(kept) => {
                            let (here, gone): (Vec<_>, Vec<_>) = kept.into_iter().partition(|p| p.is_file());
                            for path in gone {
                                send(Loaded::Gone(path));
                            }
                            for path in here {
                                if let Some(thumb) = thumbnail(&path) {
                                    send(Loaded::Thumbnail(path, thumb));
                                }
                            }
                            continue;
                        }
                    };
                    let mut problems = Vec::new();
                    // A folder brings its subfolders' photos too: scans are filed by box,
                    // album or year, and a dropped folder that showed nothing would look broken.
                    let mut found = photos::collect(&inputs, true, &mut problems);
                    // A folder dropped from above the export folder (Pictures holds Pictures/Tintype)
                    // must not bring back earlier exports as photos; the export folder itself, or a
                    // folder in it, dropped on purpose, does.
                    let exports = exports.canonicalize().unwrap_or(exports);
                    let inside = |p: &PathBuf| p.canonicalize().is_ok_and(|p| p.starts_with(&exports));
                    if !inputs.iter().any(inside) {
                        found.retain(|f| !inside(&f.input));
                    }
                    for p in problems {
                        send(Loaded::Problem(p));
                    }
                    for f in &found {
                        send(Loaded::Found(f.input.clone()));
                    }
                    for f in found {
                        if let Some(thumb) = thumbnail(&f.input) {
                            send(Loaded::Thumbnail(f.input, thumb));
                        }
                    }
                }
            })
            .expect("spawning the loader thread");
        Self { requests, results }
    }

    /// Photos and folders to add; photos found under `exports` (the export folder) are left out
    /// unless a path handed over lies in it.
    pub fn add(&self, paths: Vec<PathBuf>, exports: PathBuf) {
        let _ = self.requests.send(Request::Add(paths, exports));
    }

    /// Photos kept from the last run, already on the list: each is reported gone or given its
    /// thumbnail.
    pub fn look_for_kept(&self, paths: Vec<PathBuf>) {
        let _ = self.requests.send(Request::Kept(paths));
    }

    pub fn poll(&self) -> Vec<Loaded> {
        self.results.try_iter().collect()
    }
}

pub fn to_color_image(img: &DynamicImage) -> egui::ColorImage {
    let rgba = img.to_rgba8();
    egui::ColorImage::from_rgba_unmultiplied([rgba.width() as usize, rgba.height() as usize], rgba.as_raw())
}
