//! The photo list's thumbnails, and a cache of them on disk: a list kept between runs would
//! otherwise read every scan in full at each start, and an archival scan can be a 150 MB TIFF.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use image::DynamicImage;
use sha2::{Digest, Sha256};

use crate::io::decode;

/// Thumbnails' longest side, in pixels.
pub const SIDE: u32 = 96;
/// The most thumbnails kept; the least recently used go first (a thumbnail is about 4 KB).
const KEPT_MAX: usize = 10_000;

/// Thumbnails made before, by the photo's path, size and time of change: a photo edited since
/// gets a new one.
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The cache in `dir`, trimmed to its size. Nothing here is precious: a failure to read or
    /// write only costs a thumbnail made again.
    pub fn open(dir: PathBuf) -> Self {
        let cache = Self { dir };
        cache.trim();
        cache
    }

    /// `photo`'s thumbnail: from the cache, or made from the photo and kept.
    pub fn thumbnail(&self, photo: &Path) -> Option<DynamicImage> {
        let file = self.file_for(photo);
        if let Some((file, kept)) = file.as_ref().and_then(|f| Some((f, image::open(f).ok()?))) {
            // Its time of change marks its last use, which is what `trim` goes by.
            let _ = std::fs::File::options().write(true).open(file).and_then(|f| f.set_modified(SystemTime::now()));
            return Some(kept);
        }
        let made = make(photo)?;
        if let Some(file) = file {
            self.keep(&file, &made);
        }
        Some(made)
    }

    fn file_for(&self, photo: &Path) -> Option<PathBuf> {
        let meta = std::fs::metadata(photo).ok()?;
        let changed = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
        let mut key = Sha256::new();
        key.update(photo.as_os_str().as_encoded_bytes());
        key.update(meta.len().to_le_bytes());
        key.update(changed.as_nanos().to_le_bytes());
        let hex: String = key.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect();
        Some(self.dir.join(format!("{hex}.jpg")))
    }

    fn keep(&self, file: &Path, thumb: &DynamicImage) {
        let mut bytes = Vec::new();
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut bytes), 90);
        if DynamicImage::ImageRgb8(thumb.to_rgb8()).write_with_encoder(encoder).is_ok()
            && std::fs::create_dir_all(&self.dir).is_ok()
        {
            let _ = crate::io::encode::write_atomic(file, &bytes, &[]);
        }
    }

    /// Removes the least recently used thumbnails beyond `KEPT_MAX`.
    fn trim(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        let mut kept: Vec<(SystemTime, PathBuf)> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "jpg"))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        if kept.len() <= KEPT_MAX {
            return;
        }
        kept.sort_unstable();
        for (_, path) in &kept[..kept.len() - KEPT_MAX] {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// `photo`'s thumbnail made from the photo itself.
pub fn make(photo: &Path) -> Option<DynamicImage> {
    Some(decode::decode(photo).ok()?.pixels.thumbnail(SIDE, SIDE))
}

/// Where thumbnails are cached: `TINTYPE_CACHE_DIR`, or the per-user cache folder.
pub fn default_dir() -> Option<PathBuf> {
    std::env::var_os("TINTYPE_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| crate::store::project_dirs().map(|d| d.cache_dir().join("thumbnails")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thumbnail_is_made_once_and_again_when_the_photo_changes() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("scan.png");
        image::RgbImage::from_pixel(300, 200, image::Rgb([200, 30, 30])).save(&photo).unwrap();
        let cache = Cache::open(dir.path().join("cache"));
        let thumb = cache.thumbnail(&photo).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (96, 64));
        let kept = cache.file_for(&photo).unwrap();
        assert!(kept.is_file());

        // A second look reads the cache, not the photo.
        image::RgbImage::from_pixel(12, 8, image::Rgb([30, 200, 30])).save(&kept).unwrap();
        assert_eq!(cache.thumbnail(&photo).unwrap().width(), 12);

        // Changed (another picture): made again.
        image::RgbImage::from_pixel(100, 300, image::Rgb([30, 30, 200])).save(&photo).unwrap();
        assert_ne!(cache.file_for(&photo).unwrap(), kept);
        let thumb = cache.thumbnail(&photo).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (32, 96));
        let blue = thumb.to_rgb8().get_pixel(16, 48).0;
        assert!(blue[2] > 150 && blue[0] < 80, "{blue:?}");
    }

    #[test]
    fn the_least_recently_used_thumbnails_go_beyond_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("cache");
        std::fs::create_dir(&cache_dir).unwrap();
        let hour_ago = SystemTime::now() - std::time::Duration::from_secs(3600);
        for i in 0..KEPT_MAX + 3 {
            let f = std::fs::File::create(cache_dir.join(format!("{i:05}.jpg"))).unwrap();
            if i < 4 {
                f.set_modified(hour_ago).unwrap();
            }
        }
        // A thumbnail made long ago but looked at now is kept over ones made since.
        let photo = dir.path().join("scan.png");
        image::RgbImage::from_pixel(30, 20, image::Rgb([200, 30, 30])).save(&photo).unwrap();
        let cache = Cache { dir: cache_dir.clone() };
        cache.thumbnail(&photo).unwrap();
        let looked_at = cache.file_for(&photo).unwrap();
        let f = std::fs::File::options().write(true).open(&looked_at).unwrap();
        f.set_modified(hour_ago - std::time::Duration::from_secs(3600)).unwrap();
        cache.thumbnail(&photo).unwrap();

        Cache::open(cache_dir.clone());
        assert_eq!(std::fs::read_dir(&cache_dir).unwrap().count(), KEPT_MAX);
        assert!(looked_at.exists());
        assert!((0..4).all(|i| !cache_dir.join(format!("{i:05}.jpg")).exists()));
        assert!(cache_dir.join("00004.jpg").exists());
    }
}
