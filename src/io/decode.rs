//! Reading photos: JPEG, PNG (8/16-bit), TIFF (8/16-bit, first page), WebP, BMP, with the
//! EXIF orientation applied, the ICC profile and EXIF kept for export, and decompression
//! bombs refused before their pixels are allocated.

use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

/// Largest side accepted (a 9000 px scan fits with room to spare).
pub const MAX_SIDE: u32 = 30_000;
/// Largest decoded buffer: 1.5 GiB, a 16-bit RGBA image of about 200 megapixels.
pub const MAX_DECODED_BYTES: u64 = 1536 << 20;

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("{path}: cannot open the file: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a picture Tintype can read ({why}); use JPEG, PNG, TIFF, WebP or BMP")]
    Unsupported { path: PathBuf, why: String },
    #[error("{path}: the picture is damaged or incomplete ({why}); export it again from the original")]
    Damaged { path: PathBuf, why: String },
    #[error("{path}: the picture is too large to open ({why}); scale it below {MAX_SIDE} px per side")]
    TooLarge { path: PathBuf, why: String },
}

/// A decoded photo, upright, with what export carries over.
#[derive(Debug, Clone)]
pub struct Photo {
    pub path: PathBuf,
    /// Upright pixels (EXIF orientation applied), in the file's own colour type and depth.
    pub pixels: DynamicImage,
    pub icc_profile: Option<Vec<u8>>,
    pub exif: Option<Vec<u8>>,
}

impl Photo {
    /// True when the file holds more than 8 bits per channel.
    pub fn is_16_bit(&self) -> bool {
        matches!(
            self.pixels,
            DynamicImage::ImageLuma16(_) | DynamicImage::ImageLumaA16(_) | DynamicImage::ImageRgb16(_) | DynamicImage::ImageRgba16(_)
        ) || matches!(self.pixels, DynamicImage::ImageRgb32F(_) | DynamicImage::ImageRgba32F(_))
    }
}

fn classify(path: &Path, e: image::ImageError) -> DecodeError {
    use image::ImageError as E;
    let path = path.to_owned();
    match e {
        E::Limits(l) => DecodeError::TooLarge { path, why: l.to_string() },
        E::Unsupported(u) => DecodeError::Unsupported { path, why: u.to_string() },
        E::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            DecodeError::Damaged { path, why: "the file ends too early".into() }
        }
        E::IoError(io) => DecodeError::Open { path, source: io },
        other => DecodeError::Damaged { path, why: other.to_string() },
    }
}

/// Decodes `path`, upright. Never allocates more than [`MAX_DECODED_BYTES`] for pixels.
pub fn decode(path: &Path) -> Result<Photo, DecodeError> {
    let reader = ImageReader::open(path)
        .map_err(|e| DecodeError::Open { path: path.to_owned(), source: e })?
        .with_guessed_format()
        .map_err(|e| DecodeError::Open { path: path.to_owned(), source: e })?;
    if reader.format().is_none() {
        let why = if std::fs::metadata(path).map(|m| m.len() == 0).unwrap_or(false) {
            "the file is empty".to_string()
        } else {
            "unknown file content".to_string()
        };
        return Err(DecodeError::Unsupported { path: path.to_owned(), why });
    }
    decode_reader(path, reader)
}

/// Decodes an in-memory file (drops, the clipboard, fuzzing); `label` names it in errors.
pub fn decode_bytes(label: &Path, bytes: &[u8]) -> Result<Photo, DecodeError> {
    let reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Open { path: label.to_owned(), source: e })?;
    if reader.format().is_none() {
        let why = if bytes.is_empty() { "the file is empty" } else { "unknown file content" };
        return Err(DecodeError::Unsupported { path: label.to_owned(), why: why.into() });
    }
    decode_reader(label, reader)
}

fn decode_reader<R: std::io::BufRead + std::io::Seek>(path: &Path, mut reader: ImageReader<R>) -> Result<Photo, DecodeError> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| classify(path, e))?;
    // Metadata is a courtesy: a broken EXIF block must not cost the photo.
    let icc_profile = decoder.icc_profile().ok().flatten();
    let exif = decoder.exif_metadata().ok().flatten();
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut pixels = DynamicImage::from_decoder(decoder).map_err(|e| classify(path, e))?;
    pixels.apply_orientation(orientation);
    Ok(Photo { path: path.to_owned(), pixels, icc_profile, exif })
}
