//! Reading photos: JPEG, PNG (8/16-bit), TIFF (8/16-bit, first page), WebP, BMP, GIF (first
//! frame), with the EXIF orientation applied, the ICC profile kept for export, and
//! decompression bombs refused before their pixels are allocated.

use std::io::{BufRead, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Largest side accepted (a 9000 px scan fits with room to spare).
pub const MAX_SIDE: u32 = 30_000;
/// Largest decoded buffer: 1.5 GiB, a 16-bit RGBA image of about 200 megapixels.
pub const MAX_DECODED_BYTES: u64 = 1536 << 20;

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("{path}: cannot open the file: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a picture Tintype can read ({why}); use JPEG, PNG, TIFF, WebP, BMP or GIF")]
    Unsupported { path: PathBuf, why: String },
    #[error("{path}: the picture is damaged or incomplete ({why}); export it again from the original")]
    Damaged { path: PathBuf, why: String },
    #[error("{path}: the picture is too large to open ({why}); scale it below {MAX_SIDE} px per side")]
    TooLarge { path: PathBuf, why: String },
}

const ENDS_EARLY: &str = "the file ends too early";

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
        E::Unsupported(u) => {
            let why = match u.kind() {
                // The decoder's own words name an internal type ("Unknown(32)").
                image::error::UnsupportedErrorKind::Color(_) => {
                    "its pixel format, such as 32-bit floating point, is not supported; save it as 8- or 16-bit".into()
                }
                _ => u.to_string(),
            };
            DecodeError::Unsupported { path, why }
        }
        E::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            DecodeError::Damaged { path, why: ENDS_EARLY.into() }
        }
        E::IoError(io) => DecodeError::Open { path, source: io },
        other => DecodeError::Damaged { path, why: other.to_string() },
    }
}

/// Decodes `path`, upright. Never allocates more than [`MAX_DECODED_BYTES`] for pixels.
pub fn decode(path: &Path) -> Result<Photo, DecodeError> {
    let open = |e| DecodeError::Open { path: path.to_owned(), source: e };
    let mut head = Vec::with_capacity(64);
    std::fs::File::open(path).map_err(open)?.take(64).read_to_end(&mut head).map_err(open)?;
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
    if is_heif(head) {
        return unsupported("HEIC pictures, as phones take them, are not supported");
    }
    match image::guess_format(head) {
        Ok(f) if f.reading_enabled() => Ok(()),
        Ok(f) => unsupported(&format!("{f:?} pictures are not supported")),
        Err(_) => unsupported("its contents match no picture format, whatever its name says"),
    }
}

/// HEIF/HEIC (an ISO media file whose brand is a HEIF one): what phones save photos of prints
/// as. The image crate has no decoder for it, and without this it would be called no picture.
fn is_heif(head: &[u8]) -> bool {
    const BRANDS: [&[u8; 4]; 9] = [b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1"];
    head.len() >= 12 && &head[4..8] == b"ftyp" && BRANDS.iter().any(|b| &head[8..12] == *b)
}

/// Walks a JPEG's markers to its end-of-image marker (EOI), skipping each segment by its length
/// (so a thumbnail's own EOI inside the EXIF block does not count) and the entropy-coded data
/// after each start of scan. False when the file ends first. PNG's decoder reports a file cut
/// short; JPEG's fills the missing rows with grey and says nothing, and the model then paints
/// that grey in wild colour, so a half-copied JPEG would come back looking colorized.
fn jpeg_reaches_end(mut r: impl BufRead) -> std::io::Result<bool> {
    loop {
        match next_marker(&mut r)? {
            None => return Ok(false),
            Some(0xD9) => return Ok(true),
            Some(0xD8 | 0x01) => {} // start of image, TEM: no length, no payload
            Some(_) => {
                let mut length = [0; 2];
                if r.read_exact(&mut length).is_err() {
                    return Ok(false);
                }
                let payload = u64::from(u16::from_be_bytes(length)).saturating_sub(2);
                if std::io::copy(&mut r.by_ref().take(payload), &mut std::io::sink())? < payload {
                    return Ok(false);
                }
            }
        }
    }
}

/// The next marker's code: 0xFF, any fill bytes (0xFF), then a code. Skips what lies between,
/// which within a scan is entropy-coded data with its stuffed zeros (0xFF 0x00) and restart
/// markers (0xFF 0xD0–0xD7). None at the end of the file.
fn next_marker(r: &mut impl BufRead) -> std::io::Result<Option<u8>> {
    let mut after_ff = false;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        let mut found = None;
        let mut used = buf.len();
        for (i, &b) in buf.iter().enumerate() {
            match (after_ff, b) {
                (false, 0xFF) => after_ff = true,
                (false, _) | (true, 0xFF) => {}
                (true, 0x00 | 0xD0..=0xD7) => after_ff = false,
                (true, code) => {
                    found = Some(code);
                    used = i + 1;
                    break;
                }
            }
        }
        r.consume(used);
        if found.is_some() {
            return Ok(found);
        }
    }
}

fn decode_reader<R: BufRead + Seek>(path: &Path, reader: ImageReader<R>) -> Result<Photo, DecodeError> {
    let mut reader = if reader.format() == Some(ImageFormat::Jpeg) {
        let open = |e| DecodeError::Open { path: path.to_owned(), source: e };
        let mut inner = reader.into_inner();
        let start = inner.stream_position().map_err(open)?;
        let complete = jpeg_reaches_end(&mut inner).map_err(open)?;
        if !complete {
            return Err(DecodeError::Damaged { path: path.to_owned(), why: ENDS_EARLY.into() });
        }
        inner.seek(SeekFrom::Start(start)).map_err(open)?;
        ImageReader::with_format(inner, ImageFormat::Jpeg)
    } else {
        reader
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A small baseline JPEG (the progressive files are among the real photos below).
    fn jpeg(quality: u8) -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(96, 64, |x, y| image::Rgb([(x * 2) as u8, (y * 3) as u8, ((x + y) * 7) as u8]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(&img).unwrap();
        out
    }

    #[test]
    fn an_unreadable_pixel_format_is_named_without_the_decoders_internals() {
        use image::error::{ImageFormatHint, UnsupportedError, UnsupportedErrorKind};
        let float_grey = UnsupportedError::from_format_and_kind(
            ImageFormatHint::Exact(ImageFormat::Tiff),
            UnsupportedErrorKind::Color(image::ExtendedColorType::Unknown(32)),
        );
        let message = classify(Path::new("scan.tif"), image::ImageError::Unsupported(float_grey)).to_string();
        assert!(message.starts_with("scan.tif: ") && message.contains("8- or 16-bit"), "{message}");
        assert!(!message.contains("Unknown"), "{message}");
    }

    #[test]
    fn a_jpeg_cut_anywhere_is_incomplete_and_a_whole_one_is_not() {
        let whole = jpeg(90);
        assert!(jpeg_reaches_end(&whole[..]).unwrap());
        for cut in (2..whole.len() - 1).step_by(37) {
            assert!(!jpeg_reaches_end(&whole[..cut]).unwrap(), "cut at {cut} of {}", whole.len());
        }
        // Bytes after the end (a phone's appended video, padding) do not matter.
        let mut padded = whole.clone();
        padded.extend_from_slice(&[0xFF, 0x00, 0x12, 0x34, 0xFF]);
        assert!(jpeg_reaches_end(&padded[..]).unwrap());
    }

    #[test]
    fn a_thumbnails_end_does_not_count_as_the_photos() {
        // A whole JPEG inside an APP1 block, as an EXIF thumbnail sits, ahead of a main picture
        // that is cut short.
        let thumb = jpeg(50);
        let main = jpeg(90);
        let mut file = vec![0xFF, 0xD8, 0xFF, 0xE1];
        file.extend_from_slice(&((thumb.len() + 2) as u16).to_be_bytes());
        file.extend_from_slice(&thumb);
        file.extend_from_slice(&main[2..main.len() * 2 / 3]);
        assert!(!jpeg_reaches_end(&file[..]).unwrap());
        let err = decode_bytes(Path::new("cut.jpg"), &file).unwrap_err();
        assert!(matches!(err, DecodeError::Damaged { .. }), "{err}");
        assert!(err.to_string().contains("cut.jpg") && err.to_string().contains("ends too early"), "{err}");
        file.extend_from_slice(&main[main.len() * 2 / 3..]);
        assert!(jpeg_reaches_end(&file[..]).unwrap());
        assert!(decode_bytes(Path::new("whole.jpg"), &file).is_ok());
    }

    #[test]
    fn every_real_jpeg_in_the_photo_sets_is_complete() {
        // Progressive files, EXIF thumbnails, restart markers: whatever real cameras, scanners
        // and archives wrote must pass.
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"))
                {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        for dir in ["../shared/data", "assets", "tests/fixtures"] {
            walk(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).as_path(), &mut files);
        }
        assert!(files.len() > 1000, "the photo sets are missing: {} JPEGs", files.len());
        for path in &files {
            let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
            assert!(jpeg_reaches_end(file).unwrap(), "{} reads as cut short", path.display());
        }
    }
}
