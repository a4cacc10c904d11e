//! Reading photos: JPEG, PNG (8/16-bit), TIFF (8/16-bit, first page), WebP, BMP, with the
//! EXIF orientation applied, the ICC profile kept for export, and decompression
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
    /// Upright pixels (EXIF orientation applied), in the file's own colour type and depth.
    pub pixels: DynamicImage,
    pub icc_profile: Option<Vec<u8>>,
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
    let open = |e| DecodeError::Open { path: path.to_owned(), source: e };
    let mut head = Vec::with_capacity(64);
    std::io::Read::read_to_end(&mut std::io::Read::take(std::fs::File::open(path).map_err(open)?, 64), &mut head)
        .map_err(open)?;
    check_content(path, &head)?;
    let reader = ImageReader::open(path).map_err(open)?.with_guessed_format().map_err(open)?;
    decode_reader(path, reader)
}

/// Decodes an in-memory file (drops, the clipboard, fuzzing); `label` names it in errors.
pub fn decode_bytes(label: &Path, bytes: &[u8]) -> Result<Photo, DecodeError> {
    check_content(label, &bytes[..bytes.len().min(64)])?;
    let reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Open { path: label.to_owned(), source: e })?;
    decode_reader(label, reader)
}

/// Judges a file by its first bytes, not its name: an empty file or one that is no picture
/// gets that said plainly instead of a decoder's complaint.
fn check_content(path: &Path, head: &[u8]) -> Result<(), DecodeError> {
    let unsupported = |why: &str| Err(DecodeError::Unsupported { path: path.to_owned(), why: why.into() });
    if head.is_empty() {
        return unsupported("the file is empty");
    }
    match image::guess_format(head) {
        Ok(f) if f.reading_enabled() => Ok(()),
        Ok(f) => unsupported(&format!("{f:?} pictures are not supported")),
        Err(_) => unsupported("the file is not a picture"),
    }
}

fn decode_reader<R: std::io::BufRead + std::io::Seek>(
    path: &Path,
    mut reader: ImageReader<R>,
) -> Result<Photo, DecodeError> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| classify(path, e))?;
    // Metadata is a courtesy: a broken block must not cost the photo. (EXIF is carried over
    // at export from the source file itself.)
    let icc_profile = decoder.icc_profile().ok().flatten();
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut pixels = DynamicImage::from_decoder(decoder).map_err(|e| classify(path, e))?;
    pixels.apply_orientation(orientation);
    Ok(Photo { pixels, icc_profile })
}
