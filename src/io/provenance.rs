//! EXIF for exported results: the source's EXIF carried over with its orientation reset (the
//! pixels are already upright), and an invisible record that the picture was colorized —
//! which model, which render factor, turn and adjustments, when.

use std::path::Path;

use little_exif::exif_tag::ExifTag;
use little_exif::filetype::FileExtension;
use little_exif::metadata::Metadata;
use little_exif::rational::uR64;

use super::decode::Density;

/// What the record says about how the picture was made.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub model: String,
    /// The render factor and adjustments (`Settings::describe`).
    pub settings: String,
    /// Seconds since the Unix epoch.
    pub when: u64,
}

impl Provenance {
    pub fn now(model: impl Into<String>, settings: impl Into<String>) -> Self {
        let when = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Self { model: model.into(), settings: settings.into(), when }
    }

    /// `Colorized by Tintype 0.1.0 (model artistic, render factor 35, colour strength 1.20) on
    /// 2026-11-26 07:30 UTC`.
    pub fn description(&self) -> String {
        let (y, mo, d, h, mi, _) = civil_time(self.when);
        format!(
            "{RECORD_START} {} (model {}, {}) on {y:04}-{mo:02}-{d:02} {h:02}:{mi:02} UTC",
            env!("CARGO_PKG_VERSION"),
            self.model,
            self.settings
        )
    }

    fn exif_date(&self) -> String {
        let (y, mo, d, h, mi, s) = civil_time(self.when);
        format!("{y:04}:{mo:02}:{d:02} {h:02}:{mi:02}:{s:02}")
    }
}

/// UTC calendar time of a Unix timestamp (Howard Hinnant's days-to-civil).
fn civil_time(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + (month <= 2) as i64;
    (year, month, day, (rem / 3600) as u32, (rem % 3600 / 60) as u32, (rem % 60) as u32)
}

/// The source's EXIF, if it has any that can be read; metadata is a courtesy, never a reason
/// to fail. Only the first image's fields (IFD0 and the directories it points to): the second
/// (IFD1) holds the source's thumbnail, its grey picture, which file browsers would show for the
/// colorized one.
fn source_exif(source: &Path) -> Metadata {
    let read = std::panic::catch_unwind(|| Metadata::new_from_path(source).ok()).ok().flatten();
    let mut kept = Metadata::new();
    for ifd in read.iter().flat_map(|m| m.get_ifds()).filter(|ifd| ifd.get_generic_ifd_nr() == 0) {
        for tag in ifd.get_tags() {
            kept.set_tag(tag.clone());
        }
    }
    kept
}

/// How the record begins, and what stands between it and a caption before it.
const RECORD_START: &str = "Colorized by Tintype";
const RECORD_SEPARATOR: &str = " — ";

/// Length of the APP1 marker, segment length and "Exif\0\0" header before the TIFF structure.
const JPEG_APP1_PREFIX: usize = 2 + 2 + 6;

/// The EXIF block (TIFF structure) for an export: the source's tags, orientation reset to
/// upright, the resolution the export carries (WebP has no other place for it; 72 dpi, EXIF's
/// default, where the photo has none), and the provenance record (ImageDescription, after the
/// photo's own caption if it has one; Software; ModifyDate). `None` when it cannot be built; the
/// export then goes without EXIF.
pub fn exif_for(source: Option<&Path>, provenance: &Provenance, density: Option<Density>) -> Option<Vec<u8>> {
    let mut meta = source.map(source_exif).unwrap_or_default();
    meta.set_tag(ExifTag::Orientation(vec![1]));
    // EXIF asks a JPEG's first directory for where its chroma samples sit; image's encoder, like
    // JFIF, centres them. Other formats' exports leave the field out (`tiff_fields`) or ignore it.
    if meta.get_tag(&ExifTag::YCbCrPositioning(vec![])).next().is_none() {
        meta.set_tag(ExifTag::YCbCrPositioning(vec![1]));
    }
    // EXIF requires a resolution; where the photo gives none, EXIF's own default, 72 dpi.
    let has_one = meta.get_tag(&ExifTag::XResolution(vec![])).next().is_some();
    if let Some(Density { x, y }) = density.or((!has_one).then_some(Density { x: 72.0, y: 72.0 })) {
        // In hundredths, as the TIFF export writes it.
        let rational = |v: f32| vec![uR64 { nominator: (v * 100.0).round() as u32, denominator: 100 }];
        meta.set_tag(ExifTag::XResolution(rational(x)));
        meta.set_tag(ExifTag::YResolution(rational(y)));
        meta.set_tag(ExifTag::ResolutionUnit(vec![2])); // inches
    }
    // A caption the photo already has ("Rose at Coney Island, 1952") stays first; the record
    // of an earlier colorizing does not pile up.
    let caption = meta.get_tag(&ExifTag::ImageDescription(String::new())).find_map(|t| match t {
        ExifTag::ImageDescription(text) => {
            let text = text.trim_end_matches('\0');
            let own = text.find(RECORD_START).map_or(text, |at| &text[..at]);
            Some(own.trim().trim_end_matches(RECORD_SEPARATOR.trim()).trim().to_owned())
        }
        _ => None,
    });
    let description = match caption {
        Some(caption) if !caption.is_empty() => format!("{caption}{RECORD_SEPARATOR}{}", provenance.description()),
        _ => provenance.description(),
    };
    meta.set_tag(ExifTag::ImageDescription(description));
    meta.set_tag(ExifTag::Software(format!("Tintype {}", env!("CARGO_PKG_VERSION"))));
    meta.set_tag(ExifTag::ModifyDate(provenance.exif_date()));
    let app1 =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| meta.as_u8_vec(FileExtension::JPEG).ok())).ok()??;
    app1.get(JPEG_APP1_PREFIX..).map(<[u8]>::to_vec)
}

/// Where a TIFF keeps an EXIF field: in the image's own directory (IFD0: the description,
/// artist, copyright, dates) or in the EXIF or GPS directory it points to (camera and capture
/// fields; where it was taken).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TiffDirectory {
    Image,
    Exif,
    Gps,
}

/// A field of an EXIF block as a TIFF directory entry holds it: where, its tag, its TIFF type
/// and its value's bytes in this machine's byte order (the order the `tiff` encoder writes).
pub struct TiffField {
    pub directory: TiffDirectory,
    pub tag: u16,
    pub field_type: u16,
    pub bytes: Vec<u8>,
}

/// The fields of `exif` (a block from [`exif_for`]) for a TIFF file, which keeps EXIF as
/// directory entries rather than as a block. Fields that describe the image's layout (its size,
/// strips, thumbnail, the pointers to other directories) are the encoder's own and left out.
pub fn tiff_fields(exif: &[u8]) -> Vec<TiffField> {
    use little_exif::endian::Endian;
    use little_exif::ifd::ExifTagGroup;
    // Tags the encoder writes from the pixels, the thumbnail's, how a JPEG's YCbCr is laid out
    // (the TIFF export is RGB), and directory pointers.
    const LAYOUT: [u16; 20] = [
        0x0100, 0x0101, 0x0102, 0x0103, 0x0106, 0x0111, 0x0115, 0x0116, 0x0117, 0x011C, 0x013D, 0x0153, 0x0201, 0x0202,
        0x0211, 0x0212, 0x0213, 0x8769, 0x8825, 0xA005,
    ];
    let Ok(meta) = std::panic::catch_unwind(|| Metadata::new_from_vec(&exif.to_vec(), FileExtension::TIFF)) else {
        return Vec::new();
    };
    let Ok(meta) = meta else { return Vec::new() };
    let endian = if cfg!(target_endian = "little") { Endian::Little } else { Endian::Big };
    let mut fields = Vec::new();
    for tag in &meta {
        let directory = match tag.get_group() {
            ExifTagGroup::GENERIC => TiffDirectory::Image,
            ExifTagGroup::EXIF => TiffDirectory::Exif,
            ExifTagGroup::GPS => TiffDirectory::Gps,
            _ => continue,
        };
        if LAYOUT.contains(&tag.as_u16()) {
            continue;
        }
        let mut bytes = tag.value_as_u8_vec(&endian);
        if tag.is_string() {
            // One NUL at the end, as TIFF's ASCII asks: readers cut a value at its first.
            while bytes.last() == Some(&0) {
                bytes.pop();
            }
            bytes.push(0);
        }
        if !bytes.is_empty() {
            fields.push(TiffField { directory, tag: tag.as_u16(), field_type: tag.format().as_u16(), bytes });
        }
    }
    fields
}

/// The provenance description stored in a file, if any (for tests and `tintype` itself).
pub fn read_description(path: &Path) -> Option<String> {
    let meta = std::panic::catch_unwind(|| Metadata::new_from_path(path).ok()).ok().flatten()?;
    meta.get_tag(&ExifTag::ImageDescription(String::new())).find_map(|t| match t {
        ExifTag::ImageDescription(s) => Some(s.trim_end_matches('\0').to_string()),
        _ => None,
    })
}

/// The EXIF orientation stored in a file (1 = upright), if any.
pub fn read_orientation(path: &Path) -> Option<u16> {
    let meta = std::panic::catch_unwind(|| Metadata::new_from_path(path).ok()).ok().flatten()?;
    meta.get_tag(&ExifTag::Orientation(vec![])).find_map(|t| match t {
        ExifTag::Orientation(v) => v.first().copied(),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sources_thumbnail_is_not_carried_over() {
        use little_exif::ifd::ExifTagGroup::GENERIC;
        // A JPEG whose EXIF has a second directory (IFD1, where the thumbnail lives).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scan.jpg");
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg).encode_image(&image::RgbImage::new(16, 16)).unwrap();
        let mut meta = Metadata::new();
        meta.set_tag(ExifTag::Artist("Rose".into()));
        meta.get_ifd_mut(GENERIC, 1).set_tag(ExifTag::Software("the thumbnail's".into()));
        meta.write_to_vec(&mut jpeg, FileExtension::JPEG).unwrap();
        std::fs::write(&path, &jpeg).unwrap();
        assert!(Metadata::new_from_path(&path).unwrap().get_ifds().iter().any(|i| i.get_generic_ifd_nr() == 1));

        let kept = source_exif(&path);
        assert!(kept.get_ifds().iter().all(|i| i.get_generic_ifd_nr() == 0), "{:?}", kept.get_ifds());
        assert!(kept.get_tag(&ExifTag::Artist(String::new())).next().is_some(), "IFD0 kept");
    }

    #[test]
    fn a_jpegs_chroma_siting_is_said_and_left_out_of_a_tiff() {
        // exiftool -validate: "Missing required JPEG IFD0 tag 0x0213 YCbCrPositioning" without it.
        let exif = exif_for(None, &Provenance::now("compact", "render factor 35"), None).unwrap();
        let meta = Metadata::new_from_vec(&exif, FileExtension::TIFF).unwrap();
        assert!(matches!(
            meta.get_tag(&ExifTag::YCbCrPositioning(vec![])).next(),
            Some(ExifTag::YCbCrPositioning(v)) if v == &vec![1]
        ));
        // The TIFF export is RGB: a YCbCr field there would misdescribe it.
        let tags: Vec<u16> = tiff_fields(&exif).iter().map(|f| f.tag).collect();
        assert!(!tags.contains(&0x0213) && tags.contains(&0x0131), "{tags:x?}");
    }

    #[test]
    fn civil_time_matches_known_dates() {
        assert_eq!(civil_time(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil_time(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(civil_time(1_795_682_096), (2026, 11, 26, 8, 34, 56));
    }
}
