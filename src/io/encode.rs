//! Writing results: PNG (8/16-bit), JPEG, TIFF, WebP, with the source's ICC profile, written
//! to a temporary file beside the target and renamed, so a crash never leaves half a file
//! and an input is never overwritten.

use std::io::Write;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageEncoder};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg { quality: u8 },
    Tiff,
    WebP,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg { .. } => "jpg",
            Format::Tiff => "tif",
            Format::WebP => "webp",
        }
    }

    /// `png`, `jpeg`/`jpg` (quality 92), `tiff`/`tif`, `webp`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "png" => Some(Format::Png),
            "jpg" | "jpeg" => Some(Format::Jpeg { quality: 92 }),
            "tif" | "tiff" => Some(Format::Tiff),
            "webp" => Some(Format::WebP),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("{path}: refusing to overwrite an original photo; choose another output folder")]
    WouldOverwriteInput { path: PathBuf },
    #[error("{path}: cannot write: {source}; check the folder exists and is writable, and the disk has space")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: cannot encode as {format}: {why}")]
    Encode { path: PathBuf, format: &'static str, why: String },
}

/// Encodes `image` to bytes with the source's ICC profile and an EXIF block (see
/// `provenance::exif_for`). 16-bit images stay 16-bit in PNG and TIFF; JPEG and WebP are 8-bit.
/// Metadata a format cannot hold is left out rather than failing the export.
pub fn encode(
    image: &DynamicImage,
    format: Format,
    icc_profile: Option<&[u8]>,
    exif: Option<&[u8]>,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let sixteen =
        matches!(image, DynamicImage::ImageRgb16(_) | DynamicImage::ImageLuma16(_) | DynamicImage::ImageRgba16(_));
    let with_meta = |enc: &mut dyn ImageEncoder| {
        if let Some(icc) = icc_profile {
            // Formats without ICC support simply go without.
            let _ = enc.set_icc_profile(icc.to_vec());
        }
        if let Some(exif) = exif {
            let _ = enc.set_exif_metadata(exif.to_vec());
        }
    };
    match format {
        Format::Png => {
            let mut enc = image::codecs::png::PngEncoder::new(&mut out);
            with_meta(&mut enc);
            write_rgb(enc, image, sixteen)
        }
        Format::Jpeg { quality } => {
            let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
            with_meta(&mut enc);
            write_rgb(enc, image, false)
        }
        Format::Tiff => {
            let mut cursor = std::io::Cursor::new(&mut out);
            let mut enc = image::codecs::tiff::TiffEncoder::new(&mut cursor);
            with_meta(&mut enc);
            write_rgb(enc, image, sixteen)
        }
        Format::WebP => {
            let mut enc = image::codecs::webp::WebPEncoder::new_lossless(&mut out);
            with_meta(&mut enc);
            write_rgb(enc, image, false)
        }
    }
    .map_err(|e| e.to_string())?;
    if let (Format::Tiff, Some(exif)) = (format, exif) {
        super::provenance::write_exif_into_tiff(&mut out, exif);
    }
    Ok(out)
}

/// RGB pixels, 16-bit when asked (the encoders take 16-bit samples as native-endian bytes).
fn write_rgb(enc: impl ImageEncoder, image: &DynamicImage, sixteen: bool) -> image::ImageResult<()> {
    let (w, h) = (image.width(), image.height());
    if sixteen {
        let native: Vec<u8> = image.to_rgb16().as_raw().iter().flat_map(|v| v.to_ne_bytes()).collect();
        enc.write_image(&native, w, h, image::ExtendedColorType::Rgb16)
    } else {
        enc.write_image(image.to_rgb8().as_raw(), w, h, image::ExtendedColorType::Rgb8)
    }
}

/// Writes `bytes` to `target` atomically. `inputs` are files that must never be replaced.
pub fn write_atomic(target: &Path, bytes: &[u8], inputs: &[&Path]) -> Result<(), EncodeError> {
    let same_file = |a: &Path| match (a.canonicalize(), target.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if inputs.iter().any(|i| same_file(i)) {
        return Err(EncodeError::WouldOverwriteInput { path: target.to_owned() });
    }
    let tmp = super::temp_path(target);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, target)
    };
    write().map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        EncodeError::Write { path: target.to_owned(), source }
    })
}
