//! Reading photos: JPEG, PNG (8/16-bit), TIFF (8/16-bit, first page), WebP, BMP, GIF (first
//! frame), with the EXIF orientation applied, the ICC profile, XMP and the scan's resolution
//! kept for export, and decompression bombs refused before their pixels are allocated.

use std::io::{BufRead, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    pub carried: Carried,
    /// Pictures the file holds besides this one, which are not read: a multi-page TIFF's other
    /// pages (a scanner's "multi-TIFF" of a whole album page), its reduced-size previews aside.
    pub other_pictures: usize,
}

/// What of a photo's file its colorized copy carries, besides EXIF (which export reads from the
/// file itself): how to show its colours, at what size to print it, and the XMP packet and IPTC
/// datasets in which photo managers and archives keep captions, people and keywords.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Carried {
    pub icc_profile: Option<Arc<Vec<u8>>>,
    /// The scan's resolution, as the photo stands upright.
    pub density: Option<Density>,
    /// The XMP packet, saying the photo stands upright (as its pixels now do); for a photo with
    /// IPTC and no XMP, one told from its IPTC.
    pub xmp: Option<Arc<Vec<u8>>>,
    /// A JPEG's or TIFF's IPTC datasets (IIM), as they were.
    pub iptc: Option<Arc<Vec<u8>>>,
}

impl Carried {
    /// The same, for the photo turned by `quarter_turns` clockwise.
    pub fn turned(&self, quarter_turns: u8) -> Carried {
        Carried { density: self.density.map(|d| d.turned(quarter_turns)), ..self.clone() }
    }
}

/// Pixels per inch across and down: what a scanner was set to (600 dpi), so that the photo
/// prints at its own size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Density {
    pub x: f32,
    pub y: f32,
}

impl Density {
    const CM_PER_INCH: f32 = 2.54;

    /// From pixels per inch, or per centimetre; None when it says nothing or nonsense (under
    /// one pixel per inch, not a number).
    fn per_inch(x: f32, y: f32, per_centimetre: bool) -> Option<Density> {
        let scale = if per_centimetre { Self::CM_PER_INCH } else { 1.0 };
        let (x, y) = (x * scale, y * scale);
        (x.is_finite() && y.is_finite() && x >= 1.0 && y >= 1.0).then_some(Density { x, y })
    }

    pub fn turned(self, quarter_turns: u8) -> Density {
        if quarter_turns % 2 == 1 { Density { x: self.y, y: self.x } } else { self }
    }
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
/// after each start of scan: whether it gets there (false when the file ends first). PNG's
/// decoder reports a file cut short; JPEG's fills the missing rows with grey and says nothing,
/// and the model then paints that grey in wild colour, so a half-copied JPEG would come back
/// looking colorized. On the way it reads the JFIF header's density, where it gives dots per
/// inch or centimetre, and the IPTC datasets of a Photoshop segment.
fn walk_jpeg(mut r: impl BufRead) -> std::io::Result<JpegWalk> {
    let mut walk = JpegWalk { complete: false, density: None, iptc: None };
    loop {
        match next_marker(&mut r)? {
            None => return Ok(walk),
            Some(0xD9) => return Ok(JpegWalk { complete: true, ..walk }),
            Some(0xD8 | 0x01) => {} // start of image, TEM: no length, no payload
            Some(code) => {
                let mut length = [0; 2];
                if r.read_exact(&mut length).is_err() {
                    return Ok(walk);
                }
                let payload = u64::from(u16::from_be_bytes(length)).saturating_sub(2);
                let mut head = Vec::new();
                if code == 0xE0 {
                    r.by_ref().take(payload.min(12)).read_to_end(&mut head)?;
                    walk.density = walk.density.or_else(|| jfif_density(&head));
                } else if code == 0xED {
                    r.by_ref().take(payload).read_to_end(&mut head)?;
                    walk.iptc = walk.iptc.or_else(|| super::iptc::from_photoshop_segment(&head));
                }
                let rest = payload - head.len() as u64;
                if std::io::copy(&mut r.by_ref().take(rest), &mut std::io::sink())? < rest {
                    return Ok(walk);
                }
            }
        }
    }
}

/// What walking a JPEG found.
struct JpegWalk {
    /// Whether it reached the end-of-image marker.
    complete: bool,
    density: Option<Density>,
    iptc: Option<Vec<u8>>,
}

/// The density of a JFIF APP0 segment's payload: "JFIF\0", version, units (1: per inch, 2: per
/// centimetre; 0 gives only the pixels' aspect), then the densities across and down.
fn jfif_density(app0: &[u8]) -> Option<Density> {
    let [b'J', b'F', b'I', b'F', 0, _, _, units, x0, x1, y0, y1] = *app0 else { return None };
    let (x, y) = (u16::from_be_bytes([x0, x1]) as f32, u16::from_be_bytes([y0, y1]) as f32);
    match units {
        1 => Density::per_inch(x, y, false),
        2 => Density::per_inch(x, y, true),
        _ => None,
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
    let open = |e| DecodeError::Open { path: path.to_owned(), source: e };
    let format = reader.format();
    let mut inner = reader.into_inner();
    let start = inner.stream_position().map_err(open)?;
    // The resolution and IPTC are read by each format's own means, as the image crate does not
    // give them.
    let (density, iptc, other_pictures) = match format {
        Some(ImageFormat::Jpeg) => {
            let walk = walk_jpeg(&mut inner).map_err(open)?;
            if !walk.complete {
                return Err(DecodeError::Damaged { path: path.to_owned(), why: ENDS_EARLY.into() });
            }
            (walk.density, walk.iptc, 0)
        }
        Some(ImageFormat::Png) => (png_density(&mut inner), None, 0),
        Some(ImageFormat::Tiff) => tiff_metadata(&mut inner),
        _ => (None, None, 0),
    };
    inner.seek(SeekFrom::Start(start)).map_err(open)?;
    let mut reader = ImageReader::new(inner);
    if let Some(format) = format {
        reader.set_format(format);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| classify(path, e))?;
    // Metadata is a courtesy: a broken block must not cost the photo. (EXIF is carried over
    // at export from the source file itself.)
    let icc_profile = decoder.icc_profile().ok().flatten().map(Arc::new);
    let xmp = decoder.xmp_metadata().ok().flatten().and_then(|x| upright_xmp(&x));
    let xmp = xmp.or_else(|| iptc.as_deref().and_then(super::iptc::as_xmp)).map(Arc::new);
    let iptc = iptc.map(Arc::new);
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut pixels = DynamicImage::from_decoder(decoder).map_err(|e| classify(path, e))?;
    pixels.apply_orientation(orientation);
    use image::metadata::Orientation::{Rotate90, Rotate90FlipH, Rotate270, Rotate270FlipH};
    let on_its_side = matches!(orientation, Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH);
    let density = density.map(|d| d.turned(on_its_side as u8));
    Ok(Photo { pixels, carried: Carried { icc_profile, density, xmp, iptc }, other_pictures })
}

/// `xmp` with its orientation (tiff:Orientation, as an attribute or an element) set to 1,
/// upright: the pixels are turned upright when read, and an XMP still saying "turn me" would
/// have a viewer turn them again. None when it is not UTF-8 text, as XMP must be.
fn upright_xmp(xmp: &[u8]) -> Option<Vec<u8>> {
    let mut text = std::str::from_utf8(xmp).ok()?.to_owned();
    for (open, close) in [("tiff:Orientation=\"", "\""), ("<tiff:Orientation>", "</tiff:Orientation>")] {
        let mut from = 0;
        while let Some(at) = text[from..].find(open).map(|i| from + i + open.len()) {
            let Some(end) = text[at..].find(close).map(|i| at + i) else { break };
            text.replace_range(at..end, "1");
            from = at + 1;
        }
    }
    Some(text.into_bytes())
}

/// A PNG's pHYs chunk, when it gives pixels per metre.
fn png_density(r: &mut (impl BufRead + Seek)) -> Option<Density> {
    let reader = png::Decoder::new(r).read_info().ok()?;
    let dims = reader.info().pixel_dims?;
    let per_metre = |v: u32| v as f32 / 100.0;
    (dims.unit == png::Unit::Meter).then(|| Density::per_inch(per_metre(dims.xppu), per_metre(dims.yppu), true))?
}

/// A TIFF's resolution, IPTC datasets, and how many full-size pictures follow the first.
fn tiff_metadata(r: &mut (impl Read + Seek)) -> (Option<Density>, Option<Vec<u8>>, usize) {
    let Ok(mut decoder) = tiff::decoder::Decoder::new(r) else { return (None, None, 0) };
    (tiff_density(&mut decoder), tiff_iptc(&mut decoder), tiff_other_pages(&mut decoder))
}

/// The pages after the decoder's current one that are pictures of their own: not marked as a
/// reduced-size version of another (NewSubfileType bit 0). Counted as far as they can be read.
fn tiff_other_pages<R: Read + Seek>(decoder: &mut tiff::decoder::Decoder<R>) -> usize {
    let mut pages = 0;
    while decoder.more_images() && decoder.next_image().is_ok() {
        let subfile = decoder.find_tag_unsigned::<u32>(tiff::tags::Tag::NewSubfileType).ok().flatten();
        pages += usize::from(subfile.unwrap_or(0) & 1 == 0);
    }
    pages
}

/// A TIFF's XResolution and YResolution, in its ResolutionUnit (inches when it names none, as
/// the specification has it; none when it says the unit is unknown).
fn tiff_density<R: Read + Seek>(decoder: &mut tiff::decoder::Decoder<R>) -> Option<Density> {
    use tiff::decoder::ifd::Value;
    use tiff::tags::Tag;
    let unit = decoder.find_tag(Tag::ResolutionUnit).ok()?.map_or(Some(2), |v| v.into_u16().ok())?;
    let mut read = |tag| match decoder.get_tag(tag).ok()? {
        Value::Rational(n, d) if d > 0 => Some(n as f32 / d as f32),
        other => other.into_f32().ok(),
    };
    let (x, y) = (read(Tag::XResolution)?, read(Tag::YResolution)?);
    match unit {
        2 => Density::per_inch(x, y, false),
        3 => Density::per_inch(x, y, true),
        _ => None,
    }
}

/// A TIFF's IPTC datasets (tag 33723, IPTC-NAA). Photoshop stores the byte stream as LONGs,
/// which the decoder reads as numbers in the file's byte order; they are turned back into the
/// bytes they were, and the zeros padding the last one left off.
fn tiff_iptc<R: Read + Seek>(decoder: &mut tiff::decoder::Decoder<R>) -> Option<Vec<u8>> {
    use tiff::decoder::ifd::Value;
    let big_endian = decoder.byte_order() == tiff::tags::ByteOrder::BigEndian;
    fn bytes_of(value: Value, big_endian: bool, out: &mut Vec<u8>) {
        match value {
            Value::Byte(b) => out.push(b),
            Value::Unsigned(v) => out.extend(if big_endian { v.to_be_bytes() } else { v.to_le_bytes() }),
            Value::List(values) => values.into_iter().for_each(|v| bytes_of(v, big_endian, out)),
            _ => {}
        }
    }
    let mut stream = Vec::new();
    bytes_of(decoder.find_tag(tiff::tags::Tag::Unknown(33723)).ok()??, big_endian, &mut stream);
    super::iptc::whole_datasets(&stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_xmp_packet_is_made_to_say_upright() {
        let xmp = br#"<rdf:Description tiff:Orientation="6" dc:x="a"><tiff:Orientation>8</tiff:Orientation>"#;
        let upright = String::from_utf8(upright_xmp(xmp).unwrap()).unwrap();
        assert_eq!(upright, r#"<rdf:Description tiff:Orientation="1" dc:x="a"><tiff:Orientation>1</tiff:Orientation>"#);
        assert_eq!(upright_xmp(b"<x:xmpmeta/>").unwrap(), b"<x:xmpmeta/>");
        assert_eq!(upright_xmp(&[0xFF, 0xFE, 0x00]), None, "not UTF-8");
    }

    #[test]
    fn a_scans_resolution_is_read_from_its_jfif_header() {
        // One of the old photos, scanned at 600 dpi.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/old-photos/deoldify__AnselAdamsBuildings.jpg");
        assert_eq!(decode(Path::new(path)).unwrap().carried.density, Some(Density { x: 600.0, y: 600.0 }));
        let app0 = |units: u8| [b'J', b'F', b'I', b'F', 0, 1, 2, units, 0, 118, 0, 59];
        assert_eq!(jfif_density(&app0(1)), Some(Density { x: 118.0, y: 59.0 }));
        let per_cm = jfif_density(&app0(2)).unwrap();
        assert!((per_cm.x - 299.72).abs() < 0.01 && (per_cm.y - 149.86).abs() < 0.01, "{per_cm:?}");
        // Units 0 give only the pixels' shape.
        assert_eq!(jfif_density(&app0(0)), None);
        assert_eq!(jfif_density(b"Exif"), None);
        assert_eq!(Density { x: 300.0, y: 150.0 }.turned(3), Density { x: 150.0, y: 300.0 });
    }

    #[test]
    fn a_tiffs_iptc_is_read_whatever_its_byte_order_and_carried_as_it_was() {
        // A big-endian TIFF with IPTC as exiftool writes it (as LONGs, like Photoshop):
        //   convert -size 24x16 gradient:gray20-gray80 -type TrueColor -depth 8 \
        //     -define tiff:endian=msb -compress none big-endian.tif
        //   exiftool -IPTC:Caption-Abstract='A family picnic, Coney Island, 1952 — née Müller' \
        //     -IPTC:Credit='The Rose family' -IPTC:Keywords=picnic -IPTC:Keywords=family \
        //     -IPTC:CodedCharacterSet=UTF8 big-endian.tif
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/iptc/big-endian.tif");
        let carried = decode(Path::new(path)).unwrap().carried;
        let iim = carried.iptc.clone().expect("IPTC");
        // `exiftool -b -IPTC-NAA` gives 124 bytes: 121 of datasets, then the LONGs' padding.
        assert_eq!((iim.len(), &iim[..5]), (121, &[0x1C, 1, 90, 0, 3][..]));
        let xmp = String::from_utf8(carried.xmp.clone().expect("XMP told from the IPTC").to_vec()).unwrap();
        assert!(xmp.contains("A family picnic, Coney Island, 1952 — née Müller"), "{xmp}");
        assert!(xmp.contains("<rdf:li>picnic</rdf:li><rdf:li>family</rdf:li>"), "{xmp}");
        // Written again, in this machine's byte order, and read back: the same datasets.
        for format in [crate::io::encode::Format::Tiff, crate::io::encode::Format::Jpeg { quality: 90 }] {
            let bytes = crate::io::encode::encode(&decode(Path::new(path)).unwrap().pixels, format, &carried, None);
            let again = decode_bytes(Path::new("again"), &bytes.unwrap()).unwrap().carried;
            assert_eq!(again.iptc.as_deref(), Some(&*iim), "{format:?}");
        }
    }

    #[test]
    fn a_tiffs_other_pages_are_counted_and_its_previews_are_not() {
        use tiff::encoder::{TiffEncoder, colortype::Gray8};
        let mut file = std::io::Cursor::new(Vec::new());
        let mut tiff = TiffEncoder::new(&mut file).unwrap();
        // An album page scanned as three photos, the second with a reduced-size preview.
        for (shade, preview) in [(40u8, false), (90, false), (90, true), (140, false)] {
            let side = if preview { 4 } else { 16 };
            let mut page = tiff.new_image::<Gray8>(side, side).unwrap();
            if preview {
                page.encoder().write_tag(tiff::tags::Tag::NewSubfileType, 1u32).unwrap();
            }
            page.write_data(&vec![shade; (side * side) as usize]).unwrap();
        }
        let photo = decode_bytes(Path::new("album.tif"), file.get_ref()).unwrap();
        assert_eq!(photo.other_pictures, 2);
        assert_eq!(photo.pixels.to_luma8().get_pixel(0, 0).0, [40], "the first page is the one read");
        let single = crate::io::encode::encode(&photo.pixels, crate::io::encode::Format::Tiff, &photo.carried, None);
        assert_eq!(decode_bytes(Path::new("one.tif"), &single.unwrap()).unwrap().other_pictures, 0);
    }

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
        assert!(walk_jpeg(&whole[..]).unwrap().complete);
        for cut in (2..whole.len() - 1).step_by(37) {
            assert!(!walk_jpeg(&whole[..cut]).unwrap().complete, "cut at {cut} of {}", whole.len());
        }
        // Bytes after the end (a phone's appended video, padding) do not matter.
        let mut padded = whole.clone();
        padded.extend_from_slice(&[0xFF, 0x00, 0x12, 0x34, 0xFF]);
        assert!(walk_jpeg(&padded[..]).unwrap().complete);
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
        assert!(!walk_jpeg(&file[..]).unwrap().complete);
        let err = decode_bytes(Path::new("cut.jpg"), &file).unwrap_err();
        assert!(matches!(err, DecodeError::Damaged { .. }), "{err}");
        assert!(err.to_string().contains("cut.jpg") && err.to_string().contains("ends too early"), "{err}");
        file.extend_from_slice(&main[main.len() * 2 / 3..]);
        assert!(walk_jpeg(&file[..]).unwrap().complete);
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
            assert!(walk_jpeg(file).unwrap().complete, "{} reads as cut short", path.display());
        }
    }
}
