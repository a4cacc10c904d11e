//! IPTC, the older home of a photo's caption, credit and keywords (picture agencies and
//! archives still fill it): read from a JPEG's Photoshop segment (APP13) or a TIFF's IPTC-NAA
//! field, carried into JPEG and TIFF exports as it was, and told again as XMP for a photo that
//! has none, so that PNG and WebP exports, which have no place for IPTC, keep the caption too.

/// The IPTC datasets (IIM stream) in a JPEG APP13 segment's payload: "Photoshop 3.0", then
/// image resources ("8BIM", an id, a padded name, a size, padded data), of which 0x0404 is IPTC.
pub fn from_photoshop_segment(app13: &[u8]) -> Option<Vec<u8>> {
    let mut rest = app13.strip_prefix(b"Photoshop 3.0\0")?;
    while let Some(resource) = rest.strip_prefix(b"8BIM") {
        let id = u16::from_be_bytes(resource.get(..2)?.try_into().ok()?);
        // A Pascal string, its length byte included, padded to an even length.
        let name = (1 + *resource.get(2)? as usize).next_multiple_of(2);
        let at = 2 + name;
        let size = u32::from_be_bytes(resource.get(at..at + 4)?.try_into().ok()?) as usize;
        let data = resource.get(at + 4..at + 4 + size)?;
        if id == 0x0404 {
            return Some(data.to_vec());
        }
        rest = resource.get(at + 4 + size.next_multiple_of(2)..)?;
    }
    None
}

/// A JPEG APP13 segment (marker included) holding `iim` as Photoshop's IPTC resource; None when
/// it does not fit in one segment.
pub fn photoshop_segment(iim: &[u8]) -> Option<Vec<u8>> {
    let size = u32::try_from(iim.len()).ok()?;
    let mut payload = b"Photoshop 3.0\08BIM\x04\x04\0\0".to_vec();
    payload.extend(size.to_be_bytes());
    payload.extend(iim);
    if iim.len() % 2 == 1 {
        payload.push(0);
    }
    let length = u16::try_from(payload.len() + 2).ok()?;
    Some([&[0xFF, 0xED][..], &length.to_be_bytes(), &payload].concat())
}

/// `stream` up to the end of its last whole dataset (a TIFF pads it to a multiple of 4 bytes);
/// None when it begins with none.
pub fn whole_datasets(stream: &[u8]) -> Option<Vec<u8>> {
    let length: usize = datasets(stream).iter().map(|(_, _, value)| 5 + value.len()).sum();
    (length > 0).then(|| stream[..length].to_vec())
}

/// The datasets of an IIM stream: record, dataset number, value.
fn datasets(iim: &[u8]) -> Vec<(u8, u8, &[u8])> {
    let mut found = Vec::new();
    let mut rest = iim;
    // Each: 0x1C, record, dataset, a 2-byte length (the extended form, top bit set, is not read).
    while let [0x1C, record, dataset, hi, lo, tail @ ..] = rest {
        let length = u16::from_be_bytes([*hi, *lo]) as usize;
        if length & 0x8000 != 0 || tail.len() < length {
            break;
        }
        found.push((*record, *dataset, &tail[..length]));
        rest = &tail[length..];
    }
    found
}

/// An XMP packet telling the caption, headline, creator, credit, source, copyright, date and
/// keywords of `iim`, as the Metadata Working Group maps them; None when it has none of these.
pub fn as_xmp(iim: &[u8]) -> Option<Vec<u8>> {
    let all = datasets(iim);
    // Text is UTF-8 where the stream says so (ESC % G) and in practice often where it does
    // not; otherwise it is taken as Latin-1.
    let text = |v: &[u8]| match std::str::from_utf8(v) {
        Ok(s) => s.trim().to_owned(),
        Err(_) => v.iter().map(|&b| b as char).collect::<String>().trim().to_owned(),
    };
    let get = |dataset: u8| all.iter().filter(move |(r, d, _)| *r == 2 && *d == dataset).map(|(_, _, v)| text(v));
    // XML's special characters escaped, and the control characters XML 1.0 does not allow left
    // out (an old caption may hold any byte).
    let escape = |s: &str| {
        let allowed: String = s.chars().filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r')).collect();
        allowed.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    };
    let mut body = String::new();
    let mut simple = |tag: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            body.push_str(&format!("<{tag}>{}</{tag}>", escape(&value)));
        }
    };
    simple("photoshop:Headline", get(105).next());
    simple("photoshop:Credit", get(110).next());
    simple("photoshop:Source", get(115).next());
    // CCYYMMDD, as XMP's date CCYY-MM-DD.
    let date = get(55).next().filter(|d| d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()));
    simple("photoshop:DateCreated", date.map(|d| format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])));
    let mut list = |tag: &str, kind: &str, values: Vec<String>| {
        let values: Vec<_> = values.into_iter().filter(|v| !v.is_empty()).collect();
        if values.is_empty() {
            return;
        }
        let items: String = values
            .iter()
            .map(|v| match kind {
                "Alt" => format!("<rdf:li xml:lang=\"x-default\">{}</rdf:li>", escape(v)),
                _ => format!("<rdf:li>{}</rdf:li>", escape(v)),
            })
            .collect();
        body.push_str(&format!("<{tag}><rdf:{kind}>{items}</rdf:{kind}></{tag}>"));
    };
    list("dc:description", "Alt", get(120).take(1).collect());
    list("dc:rights", "Alt", get(116).take(1).collect());
    list("dc:creator", "Seq", get(80).collect());
    list("dc:subject", "Bag", get(25).collect());
    if body.is_empty() {
        return None;
    }
    Some(
        format!(
            "<?xpacket begin=\"\u{FEFF}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\
             <x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
             <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
             xmlns:photoshop=\"http://ns.adobe.com/photoshop/1.0/\">{body}</rdf:Description></rdf:RDF></x:xmpmeta>\
             <?xpacket end=\"w\"?>"
        )
        .into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(number: u8, value: &str) -> Vec<u8> {
        [&[0x1C, 2, number][..], &(value.len() as u16).to_be_bytes(), value.as_bytes()].concat()
    }

    #[test]
    fn a_caption_goes_through_a_photoshop_segment_and_comes_out_as_xmp() {
        let iim = [
            dataset(120, "circa 1890: A group of Maori girls <& friends>\u{7}"),
            dataset(80, "Denton"),
            dataset(25, "portrait"),
            dataset(25, "Maori"),
            dataset(55, "18900101"),
        ]
        .concat();
        let segment = photoshop_segment(&iim).unwrap();
        assert_eq!(&segment[..2], [0xFF, 0xED]);
        assert_eq!(u16::from_be_bytes([segment[2], segment[3]]) as usize, segment.len() - 2);
        assert_eq!(from_photoshop_segment(&segment[4..]).as_deref(), Some(&iim[..]));

        let xmp = String::from_utf8(as_xmp(&iim).unwrap()).unwrap();
        for part in [
            "<dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">circa 1890: A group of Maori girls &lt;&amp; friends&gt;</rdf:li>",
            "<dc:creator><rdf:Seq><rdf:li>Denton</rdf:li></rdf:Seq></dc:creator>",
            "<dc:subject><rdf:Bag><rdf:li>portrait</rdf:li><rdf:li>Maori</rdf:li></rdf:Bag></dc:subject>",
            "<photoshop:DateCreated>1890-01-01</photoshop:DateCreated>",
        ] {
            assert!(xmp.contains(part), "{part} in {xmp}");
        }
        assert_eq!(as_xmp(&dataset(0, "record version only")), None);
        assert_eq!(from_photoshop_segment(b"Photoshop 3.0\x008BIM\x03\xed\0\0\0\0\0\x02ab"), None, "no IPTC resource");
    }

    #[test]
    fn a_real_archive_photos_iptc_is_read() {
        // Hulton Archive's caption and credit on one of the old photos.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/old-photos/deoldify__NativeAmericans.jpg");
        let photo = crate::io::decode::decode(std::path::Path::new(path)).unwrap();
        let iim = photo.carried.iptc.expect("IPTC");
        let xmp = String::from_utf8(as_xmp(&iim).unwrap()).unwrap();
        assert!(xmp.contains("A group of Maori girls from New Zealand"), "{xmp}");
        assert!(xmp.contains("<photoshop:Credit>Getty Images</photoshop:Credit>"), "{xmp}");
        // It had no XMP of its own: the one told from its IPTC is carried.
        assert_eq!(photo.carried.xmp.as_deref(), Some(&as_xmp(&iim).unwrap()));
    }
}
