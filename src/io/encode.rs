//! Writing results: PNG (8/16-bit), JPEG, TIFF, WebP, with what they carry of their source
//! (the ICC profile, a grey scan's made into the RGB one that shows its greys alike; the
//! resolution; XMP; EXIF), written to a temporary file beside the target and renamed, so a crash
//! never leaves half a file and an input is never overwritten.

use std::io::Write;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageEncoder};

use super::decode::{Carried, Density};

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

/// Encodes `image` to bytes with what it carries of its source (the ICC profile, see
/// [`profile_for_rgb`]; the resolution, in the format's own field, where WebP has none and
/// keeps it in EXIF; the XMP packet) and an EXIF block (see `provenance::exif_for`). 16-bit
/// images stay 16-bit in PNG and TIFF; JPEG and WebP are 8-bit. Metadata a format cannot hold is
/// left out rather than failing the export.
pub fn encode(image: &DynamicImage, format: Format, carried: &Carried, exif: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let icc_profile = carried.icc_profile.as_deref().and_then(|icc| profile_for_rgb(icc));
    let density = carried.density;
    let xmp = carried.xmp.as_deref().map(Vec::as_slice);
    let iptc = carried.iptc.as_deref().map(Vec::as_slice);
    let mut out = Vec::new();
    let sixteen =
        matches!(image, DynamicImage::ImageRgb16(_) | DynamicImage::ImageLuma16(_) | DynamicImage::ImageRgba16(_));
    let with_meta = |enc: &mut dyn ImageEncoder| {
        if let Some(icc) = &icc_profile {
            // Formats without ICC support simply go without.
            let _ = enc.set_icc_profile(icc.clone());
        }
        if let Some(exif) = exif {
            let _ = enc.set_exif_metadata(exif.to_vec());
        }
    };
    match format {
        Format::Png => {
            let mut enc = image::codecs::png::PngEncoder::new(&mut out);
            with_meta(&mut enc);
            write_rgb(enc, image, sixteen).map(|()| {
                let density = density.map(|d| (b"pHYs", png_density(d)));
                // iTXt: keyword, NUL, uncompressed, no language or translated keyword.
                let xmp = xmp.map(|x| (b"iTXt", [b"XML:com.adobe.xmp\0\0\0\0\0".as_slice(), x].concat()));
                let chunks: Vec<_> = density.into_iter().chain(xmp).collect();
                if !chunks.is_empty() {
                    out = with_png_chunks(&out, &chunks);
                }
            })
        }
        Format::Jpeg { quality } => {
            let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
            with_meta(&mut enc);
            if let Some(Density { x, y }) = density {
                let dots = |v: f32| v.round().clamp(1.0, u16::MAX as f32) as u16;
                let unit = image::codecs::jpeg::PixelDensityUnit::Inches;
                enc.set_pixel_density(image::codecs::jpeg::PixelDensity { density: (dots(x), dots(y)), unit });
            }
            write_rgb(enc, image, false).map(|()| {
                let xmp = xmp.and_then(xmp_segment);
                let iptc = iptc.and_then(super::iptc::photoshop_segment);
                let segments: Vec<u8> = [xmp, iptc].into_iter().flatten().flatten().collect();
                if !segments.is_empty() {
                    out = with_jpeg_segments(&out, &segments);
                }
            })
        }
        Format::Tiff => {
            // image's TIFF encoder writes neither a profile nor EXIF: the tiff crate it wraps
            // writes both.
            out = tiff(image, sixteen, icc_profile.as_deref(), carried, exif).map_err(|e| e.to_string())?;
            Ok(())
        }
        Format::WebP => {
            // image's WebP encoder has no way to set XMP: the image-webp one it wraps has.
            let mut enc = image_webp::WebPEncoder::new(&mut out);
            enc.set_icc_profile(icc_profile.clone().unwrap_or_default());
            enc.set_exif_metadata(exif.map(<[u8]>::to_vec).unwrap_or_default());
            enc.set_xmp_metadata(xmp.map(<[u8]>::to_vec).unwrap_or_default());
            let rgb = image.to_rgb8();
            enc.encode(rgb.as_raw(), rgb.width(), rgb.height(), image_webp::ColorType::Rgb8).map_err(|e| {
                image::ImageError::Encoding(image::error::EncodingError::new(image::ImageFormat::WebP.into(), e))
            })
        }
    }
    .map_err(|e| e.to_string())?;
    Ok(out)
}

/// A pHYs chunk's data: pixels per metre across and down, and the unit, the metre.
fn png_density(density: Density) -> Vec<u8> {
    let per_metre = |v: f32| (v / 0.0254).round() as u32;
    let mut data = per_metre(density.x).to_be_bytes().to_vec();
    data.extend(per_metre(density.y).to_be_bytes());
    data.push(1);
    data
}

/// `png` (a whole file) with `chunks` (each a type and its data) right after the header chunk,
/// before the image data, where the specification wants pHYs and XMP; one copy of the file for
/// all of them.
fn with_png_chunks(png: &[u8], chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    // The signature (8 bytes), then IHDR: length, type, 13 bytes of data, checksum.
    const AFTER_IHDR: usize = 8 + 4 + 4 + 13 + 4;
    let added: usize = chunks.iter().map(|(_, data)| 12 + data.len()).sum();
    let mut out = Vec::with_capacity(png.len() + added);
    out.extend(&png[..AFTER_IHDR]);
    for (kind, data) in chunks {
        let typed = [kind.as_slice(), data].concat();
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(&typed);
        out.extend(crc32fast::hash(&typed).to_be_bytes());
    }
    out.extend(&png[AFTER_IHDR..]);
    out
}

/// A JPEG APP1 segment (marker included) holding `xmp`; None when it does not fit in one
/// segment (64 KB: the extended form that splits a larger packet is not written).
fn xmp_segment(xmp: &[u8]) -> Option<Vec<u8>> {
    const NAMESPACE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
    let length = u16::try_from(2 + NAMESPACE.len() + xmp.len()).ok()?;
    Some([&[0xFF, 0xE1][..], &length.to_be_bytes(), NAMESPACE, xmp].concat())
}

/// `jpeg` (a whole file) with `segments` after the JFIF and EXIF segments the encoder wrote,
/// where XMP's specification and Photoshop place XMP and IPTC.
fn with_jpeg_segments(jpeg: &[u8], segments: &[u8]) -> Vec<u8> {
    let mut at = 2; // after the start-of-image marker
    while let Some(&[0xFF, 0xE0 | 0xE1, hi, lo, ..]) = jpeg.get(at..) {
        at += 2 + u16::from_be_bytes([hi, lo]) as usize;
    }
    let at = at.min(jpeg.len());
    [&jpeg[..at], segments, &jpeg[at..]].concat()
}

/// An uncompressed RGB TIFF (8 or 16 bits a sample), with `icc`, what else it `carried`
/// (resolution, XMP, IPTC) and the fields of `exif`, in the image's directory and an EXIF
/// directory.
fn tiff(
    image: &DynamicImage,
    sixteen: bool,
    icc: Option<&[u8]>,
    carried: &Carried,
    exif: Option<&[u8]>,
) -> tiff::TiffResult<Vec<u8>> {
    use super::provenance::{TiffDirectory, tiff_fields};
    use tiff::encoder::{DirectoryEncoder, Rational, TiffEncoder, TiffKindStandard, colortype};
    use tiff::tags::{ResolutionUnit, Tag, Type};

    /// Brings the file to an even offset: TIFF asks that values start on a word boundary, and the
    /// encoder writes each where the last one ended (after a 13-byte date, or odd-length pixels).
    fn align<W: std::io::Write + std::io::Seek>(
        directory: &mut DirectoryEncoder<'_, W, TiffKindStandard>,
    ) -> tiff::TiffResult<()> {
        if directory.write_data(&[][..] as &[u8])? % 2 == 1 {
            directory.write_data(&[0u8][..])?;
        }
        Ok(())
    }

    /// Adds an entry of `field_type` holding `bytes` (in the file's byte order) to `directory`.
    fn put<W: std::io::Write + std::io::Seek>(
        directory: &mut DirectoryEncoder<'_, W, TiffKindStandard>,
        tag: Tag,
        field_type: Type,
        bytes: &[u8],
    ) -> tiff::TiffResult<()> {
        align(directory)?;
        let entry = directory.write_entry_bytes(field_type, bytes)?;
        directory.extend_from(&[(tag, entry)].into_iter().collect());
        Ok(())
    }

    /// Adds `fields` to `directory` as entries.
    fn add<'a, W: std::io::Write + std::io::Seek>(
        directory: &mut DirectoryEncoder<'_, W, TiffKindStandard>,
        fields: impl Iterator<Item = &'a super::provenance::TiffField>,
    ) -> tiff::TiffResult<()> {
        for field in fields {
            if let Some(field_type) = Type::from_u16(field.field_type) {
                put(directory, Tag::from_u16_exhaustive(field.tag), field_type, &field.bytes)?;
            }
        }
        Ok(())
    }

    let density = carried.density;
    let xmp = carried.xmp.as_deref().map(Vec::as_slice);
    let iptc = carried.iptc.as_deref().map(Vec::as_slice);
    let fields = exif.map(tiff_fields).unwrap_or_default();
    let in_dir = |d: TiffDirectory| fields.iter().filter(move |f| f.directory == d);
    // Sized for the pixels and the metadata at once: grown by doubling, a 24-megapixel scan's
    // 144 MB would be copied over and over.
    let pixel_bytes = image.width() as usize * image.height() as usize * if sixteen { 6 } else { 3 };
    let metadata_bytes: usize = [icc, xmp, iptc, exif].iter().flatten().map(|b| b.len()).sum();
    let mut cursor = std::io::Cursor::new(Vec::with_capacity(pixel_bytes + metadata_bytes + 4096));
    let mut encoder = TiffEncoder::new(&mut cursor)?;
    // The EXIF and GPS directories first, so the image's can point to them.
    let mut sub_directory = |kind: TiffDirectory| -> tiff::TiffResult<Option<u32>> {
        if in_dir(kind).next().is_none() {
            return Ok(None);
        }
        let mut directory = encoder.extra_directory()?;
        add(&mut directory, in_dir(kind))?;
        Ok(Some(directory.finish_with_offsets()?.offset))
    };
    let (exif_dir, gps_dir) = (sub_directory(TiffDirectory::Exif)?, sub_directory(TiffDirectory::Gps)?);
    let (w, h) = (image.width(), image.height());
    macro_rules! write {
        ($colour:ty, $pixels:expr) => {{
            let mut picture = encoder.new_image::<$colour>(w, h)?;
            if let Some(Density { x, y }) = density {
                // In hundredths: a resolution need not be whole (a scan set in dots per cm).
                let rational = |v: f32| Rational { n: (v * 100.0).round() as u32, d: 100 };
                picture.x_resolution(rational(x));
                picture.y_resolution(rational(y));
                picture.resolution_unit(ResolutionUnit::Inch);
            }
            let directory = picture.encoder();
            add(directory, in_dir(TiffDirectory::Image))?;
            if let Some(icc) = icc {
                put(directory, Tag::IccProfile, Type::UNDEFINED, icc)?;
            }
            if let Some(xmp) = xmp {
                put(directory, Tag::Unknown(700), Type::BYTE, xmp)?;
            }
            if let Some(iptc) = iptc {
                // As LONGs, as Photoshop writes it (and exiftool expects), padded with zeros.
                let padded = [iptc, &vec![0; iptc.len().next_multiple_of(4) - iptc.len()]].concat();
                put(directory, Tag::Unknown(33723), Type::LONG, &padded)?;
            }
            if let Some(offset) = exif_dir {
                directory.write_tag(Tag::ExifDirectory, offset)?;
            }
            if let Some(offset) = gps_dir {
                directory.write_tag(Tag::GpsDirectory, offset)?;
            }
            // Strip by strip rather than `write_data`, so the fields the encoder writes after
            // the pixels (sample layout, strip offsets) start on a word boundary too.
            let picture_buffer = $pixels;
            let pixels = picture_buffer.as_raw();
            let mut done = 0;
            while picture.next_strip_sample_count() > 0 {
                let strip = picture.next_strip_sample_count() as usize;
                picture.write_strip(&pixels[done..done + strip])?;
                done += strip;
            }
            align(picture.encoder())?;
            picture.finish()?;
        }};
    }
    if sixteen {
        write!(colortype::RGB16, image.to_rgb16());
    } else {
        write!(colortype::RGB8, image.to_rgb8());
    }
    Ok(cursor.into_inner())
}

/// The ICC profile an RGB result carries, made from its photo's `source` profile. An RGB
/// profile is kept as it is. A grey scan's profile cannot describe RGB pixels (libpng drops it
/// with a warning, other readers ignore it or complain), so it becomes an RGB profile with the
/// scan's own tone curve on each channel and sRGB's primaries: a grey pixel of the result shows
/// as the scan's profile shows that grey, and its colour as sRGB's. Any other profile (CMYK,
/// Lab, one that cannot be read) is left out, and the result is read as sRGB.
pub fn profile_for_rgb(source: &[u8]) -> Option<Vec<u8>> {
    use moxcms::{ColorProfile, DataColorSpace, LocalizableString, ProfileText};
    let profile = ColorProfile::new_from_slice(source).ok()?;
    match profile.color_space {
        DataColorSpace::Rgb => Some(source.to_vec()),
        DataColorSpace::Gray => {
            let tone = profile.gray_trc?;
            let mut rgb = ColorProfile::new_srgb();
            (rgb.red_trc, rgb.green_trc, rgb.blue_trc) = (Some(tone.clone()), Some(tone.clone()), Some(tone));
            // sRGB's coding-independent code points would name sRGB's tone curve over ours.
            rgb.cicp = None;
            let name = "sRGB primaries with the grey scan's tone curve (Tintype)";
            rgb.description =
                Some(ProfileText::Localizable(vec![LocalizableString::new("en".into(), "US".into(), name.into())]));
            rgb.copyright = None;
            let mut made = conformed(&rgb.encode().ok()?)?;
            // The scan profile's date rather than the moment it was made (moxcms writes now), so
            // that one scan always gives one file.
            made[24..36].copy_from_slice(source.get(24..36)?);
            Some(made)
        }
        _ => None,
    }
}

/// `profile` as the ICC specification asks and libpng insists on, where moxcms's writing is
/// looser: each tag's data starting on a 4-byte boundary (tags that share their data still share
/// it), the whole a multiple of 4 bytes long, and the header's illuminant exactly D50.
fn conformed(profile: &[u8]) -> Option<Vec<u8>> {
    let at = |i: usize| Some(u32::from_be_bytes(profile.get(i..i + 4)?.try_into().ok()?) as usize);
    // The header is 128 bytes, then the tag count and 12 bytes a tag: signature, offset, size.
    let count = at(128)?;
    let mut out = profile.get(..132 + 12 * count)?.to_vec();
    let mut moved = std::collections::HashMap::new();
    for entry in (132..).step_by(12).take(count) {
        let (offset, size) = (at(entry + 4)?, at(entry + 8)?);
        let new = match moved.get(&(offset, size)) {
            Some(&new) => new,
            None => {
                out.resize(out.len().next_multiple_of(4), 0);
                let new = out.len();
                out.extend_from_slice(profile.get(offset..offset.checked_add(size)?)?);
                moved.insert((offset, size), new);
                new
            }
        };
        out[entry + 4..entry + 8].copy_from_slice(&u32::try_from(new).ok()?.to_be_bytes());
    }
    out.resize(out.len().next_multiple_of(4), 0);
    let length = u32::try_from(out.len()).ok()?;
    out[..4].copy_from_slice(&length.to_be_bytes());
    // D50's X, Y and Z in s15Fixed16 (ICC.1:2010, 7.2.16).
    let d50: Vec<u8> = [0xF6D6u32, 0x1_0000, 0xD32D].iter().flat_map(|v| v.to_be_bytes()).collect();
    out[68..80].copy_from_slice(&d50);
    Some(out)
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

#[cfg(test)]
mod tests {
    use super::*;
    use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};

    /// The grey profile of one of the old photos (Boulevard du Temple, 1838): a real scan's.
    fn grey_scan_profile() -> Vec<u8> {
        let path =
            concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/old-photos/deoldify__BoulevardDuTemple1838.jpg");
        let profile = crate::io::decode::decode(Path::new(path)).unwrap().carried.icc_profile.expect("a profile");
        assert_eq!(ColorProfile::new_from_slice(&profile).unwrap().color_space, DataColorSpace::Gray);
        profile.to_vec()
    }

    #[test]
    fn a_grey_scans_profile_becomes_an_rgb_one_that_shows_its_greys_alike() {
        let grey = grey_scan_profile();
        let rgb = profile_for_rgb(&grey).expect("an RGB profile");
        assert_eq!(rgb[24..36], grey[24..36], "the scan profile's date: one scan, one profile");
        // What libpng checks: the length in the header, a multiple of 4, tags on 4-byte
        // boundaries and within the profile, the illuminant D50.
        let at = |i: usize| u32::from_be_bytes(rgb[i..i + 4].try_into().unwrap()) as usize;
        assert_eq!((at(0), rgb.len() % 4), (rgb.len(), 0));
        for entry in (132..).step_by(12).take(at(128)) {
            let (offset, size) = (at(entry + 4), at(entry + 8));
            assert!(offset % 4 == 0 && offset + size <= rgb.len(), "tag at {offset}, {size} bytes");
        }
        assert_eq!((at(68), at(72), at(76)), (0xF6D6, 0x1_0000, 0xD32D));

        // Every grey level shows as the scan's profile shows it.
        let parsed = ColorProfile::new_from_slice(&rgb).unwrap();
        assert_eq!(parsed.color_space, DataColorSpace::Rgb);
        let srgb = ColorProfile::new_srgb();
        let options = TransformOptions::default();
        let from_grey = ColorProfile::new_from_slice(&grey).unwrap();
        let from_grey = from_grey.create_transform_8bit(Layout::Gray, &srgb, Layout::Rgb, options).unwrap();
        let from_rgb = parsed.create_transform_8bit(Layout::Rgb, &srgb, Layout::Rgb, options).unwrap();
        let levels: Vec<u8> = (0..=255).collect();
        let (mut want, mut got) = (vec![0u8; 3 * 256], vec![0u8; 3 * 256]);
        from_grey.transform(&levels, &mut want).unwrap();
        from_rgb.transform(&levels.iter().flat_map(|&v| [v; 3]).collect::<Vec<_>>(), &mut got).unwrap();
        for (v, (w, g)) in want.chunks(3).zip(got.chunks(3)).enumerate() {
            assert!(w.iter().zip(g).all(|(a, b)| a.abs_diff(*b) <= 1), "grey {v}: {g:?} against {w:?}");
        }
        // This scan's greys are not sRGB's: its profile matters (mid-grey shows lighter).
        assert!(want[3 * 128] > 140, "{}", want[3 * 128]);
        // And a colour is read with sRGB's primaries.
        let mut red = [0u8; 3];
        from_rgb.transform(&[255, 0, 0], &mut red).unwrap();
        assert!(red[0] >= 250 && red[1] <= 5 && red[2] <= 5, "{red:?}");
    }

    #[test]
    fn a_resolution_comes_back_from_every_format_that_has_a_place_for_it() {
        let picture = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(20, 10, image::Rgb([90, 120, 60])));
        // Across and down differ, as they may in a scan, so a swap would show.
        let carried = Carried { density: Some(Density { x: 300.0, y: 150.0 }), ..Carried::default() };
        for format in [Format::Png, Format::Jpeg { quality: 90 }, Format::Tiff] {
            let bytes = encode(&picture, format, &carried, None).unwrap();
            let photo = crate::io::decode::decode_bytes(Path::new("resolution"), &bytes).unwrap();
            let Density { x, y } = photo.carried.density.expect("a resolution");
            // PNG keeps whole pixels per metre: 300 dpi is 11,811 px/m, 299.9994 dpi.
            assert!((x - 300.0).abs() < 0.02 && (y - 150.0).abs() < 0.02, "{format:?}: {x} × {y}");
            if format != (Format::Jpeg { quality: 90 }) {
                assert_eq!(photo.pixels.to_rgb8(), picture.to_rgb8(), "{format:?}: the pixels unchanged");
            }
        }
        // Without one, none is made up (a TIFF's own default says its unit is unknown).
        for format in [Format::Png, Format::Jpeg { quality: 90 }, Format::Tiff] {
            let bytes = encode(&picture, format, &Carried::default(), None).unwrap();
            let photo = crate::io::decode::decode_bytes(Path::new("none"), &bytes).unwrap();
            assert_eq!(photo.carried.density, None, "{format:?}");
        }
    }

    #[test]
    fn every_tiff_value_starts_on_a_word_boundary() {
        // Odd lengths everywhere: 7 × 5 RGB pixels (105 bytes), an XMP packet, a caption.
        let picture = DynamicImage::ImageRgb8(image::RgbImage::from_fn(7, 5, |x, y| image::Rgb([x as u8, y as u8, 9])));
        let carried = Carried {
            density: Some(Density { x: 300.0, y: 300.0 }),
            xmp: Some(std::sync::Arc::new(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>".to_vec())),
            iptc: Some(std::sync::Arc::new(vec![0x1C, 2, 120, 0, 3, b'R', b'o', b's'])),
            ..Carried::default()
        };
        let record = crate::io::provenance::Provenance::now("compact", "render factor 35");
        let exif = crate::io::provenance::exif_for(None, &record, carried.density);
        let tiff = encode(&picture, Format::Tiff, &carried, exif.as_deref()).unwrap();
        assert_eq!(&tiff[..4], b"II*\0", "little-endian, as this machine writes");
        let u16_at = |i: usize| u16::from_le_bytes([tiff[i], tiff[i + 1]]) as usize;
        let u32_at = |i: usize| u32::from_le_bytes(tiff[i..i + 4].try_into().unwrap()) as usize;
        let mut directories = vec![u32_at(4)];
        let mut out_of_line = 0;
        while let Some(ifd) = directories.pop() {
            for entry in (ifd + 2..).step_by(12).take(u16_at(ifd)) {
                let (tag, kind, count) = (u16_at(entry), u16_at(entry + 2), u32_at(entry + 4));
                let size = count * [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8][kind];
                if tag == 0x8769 || tag == 0x8825 {
                    directories.push(u32_at(entry + 8));
                }
                if size > 4 {
                    out_of_line += 1;
                    assert_eq!(u32_at(entry + 8) % 2, 0, "tag {tag:#06x} ({size} bytes) at an odd offset");
                }
            }
        }
        assert!(out_of_line >= 8, "{out_of_line}");
        let photo = crate::io::decode::decode_bytes(Path::new("aligned"), &tiff).unwrap();
        assert_eq!(photo.pixels.to_rgb8(), picture.to_rgb8());
    }

    #[test]
    fn an_rgb_profile_is_kept_as_it_is_and_others_are_left_out() {
        let adobe = ColorProfile::new_adobe_rgb().encode().unwrap();
        assert_eq!(profile_for_rgb(&adobe).as_deref(), Some(&adobe[..]));
        let cmyk_like = {
            let mut p = ColorProfile::new_gray_with_gamma(2.2).encode().unwrap();
            p[16..20].copy_from_slice(b"CMYK");
            p
        };
        assert_eq!(ColorProfile::new_from_slice(&cmyk_like).unwrap().color_space, DataColorSpace::Cmyk);
        assert_eq!(profile_for_rgb(&cmyk_like), None);
        let junk: Vec<u8> = (0..600u32).map(|i| (i * 7 % 251) as u8).collect();
        assert_eq!(profile_for_rgb(&junk), None);
    }
}
