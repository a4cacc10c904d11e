//! Exports on their own thread (encoding a large PNG takes seconds): the result, or a
//! before/after picture for family chats. Files are written atomically, never over the original.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};

use image::{DynamicImage, Rgb, RgbImage};

use super::prefs::ShareLayout;
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
    pub icc_profile: Option<Arc<Vec<u8>>>,
    pub what: What,
    pub format: Format,
    pub folder: PathBuf,
    pub model: String,
    pub render_factor: u32,
}

pub struct Outcome {
    pub photo: u64,
    pub written: Result<PathBuf, String>,
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
                    let photo = r.photo;
                    let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| export(&r)))
                        .unwrap_or_else(|_| Err(format!("{}: internal error while exporting", r.source.display())));
                    let _ = tx.send(Outcome { photo, written });
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

fn export(r: &Request) -> Result<PathBuf, String> {
    std::fs::create_dir_all(&r.folder)
        .map_err(|e| format!("{}: cannot create the export folder: {e}; choose another folder", r.folder.display()))?;
    let stem = r.source.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "photo".into());
    let (image, suffix) = match r.what {
        What::Result => ((*r.result).clone(), "colorized"),
        What::Share(layout) => (DynamicImage::ImageRgb8(share_image(&r.original, &r.result, layout)), "before-after"),
    };
    let target = unused_name(&r.folder, &format!("{stem}-{suffix}"), r.format.extension());
    let record = Provenance::now(r.model.clone(), r.render_factor);
    let exif = provenance::exif_for(Some(&r.source), &record);
    let bytes = encode::encode(&image, r.format, r.icc_profile.as_deref().map(|v| v.as_slice()), exif.as_deref())
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
