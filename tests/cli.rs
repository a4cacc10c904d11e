//! The `tintype` command line, run as a person would: batches with bad files in them, folders,
//! 16-bit scans, rotated phone photos, metadata, and outputs that cannot be written.
//! The model is the full-size Artistic generator with the fixture weights (real architecture,
//! meaningless colours), converted with `tintype convert`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use image::{DynamicImage, ImageEncoder, Rgb, RgbImage};
use little_exif::exif_tag::ExifTag;
use little_exif::filetype::FileExtension;
use little_exif::metadata::Metadata;
use tintype::io::provenance;

const EXE: &str = env!("CARGO_BIN_EXE_tintype");

fn tintype(args: &[&str]) -> Output {
    Command::new(EXE).args(args).output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The Artistic fixture as upstream's legacy `.pth`, converted once by the CLI.
fn model() -> &'static Path {
    static MODEL: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &MODEL
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let state = tintype::model::fixture::rebuild_state_dict(&common::deoldify_fixtures(), "artistic").unwrap();
            let pth = dir.path().join("ColorizeArtistic_gen.pth");
            common::torch_save::save_legacy(&state, &pth, false);
            drop(state);
            let folded = dir.path().join("artistic.safetensors");
            let out = tintype(&["convert", pth.to_str().unwrap(), folded.to_str().unwrap(), "--half"]);
            assert!(out.status.success(), "{}", text(&out));
            assert!(text(&out).contains("artistic"), "{}", text(&out));
            // f16: about half of the 255 MB f32 file.
            let size = std::fs::metadata(&folded).unwrap().len();
            assert!(size < 140_000_000, "{size} bytes");
            std::fs::remove_file(&pth).unwrap();
            (dir, folded)
        })
        .1
}

/// A small photo-like test picture: smooth gradients and a few shapes.
fn picture(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let fx = x as f32 / w as f32;
        let fy = y as f32 / h as f32;
        let disc = ((fx - 0.4).powi(2) + (fy - 0.5).powi(2)) < 0.04;
        let v = if disc { 0.85 } else { 0.2 + 0.6 * fx * (1.0 - 0.5 * fy) };
        Rgb([(v * 255.0) as u8, (v * 235.0) as u8, (v * 200.0) as u8])
    })
}

fn colorize(inputs: &[&Path], out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["colorize".to_string()];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap().to_string()));
    args.extend(["-o".into(), out.to_str().unwrap().into(), "--model".into(), model().to_str().unwrap().into()]);
    args.extend(["--render-factor".into(), "7".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    tintype(&refs)
}

/// BT.601 luma of the pixels of `result` where no channel is clipped (DeOldify's 8-bit merge
/// saturates a channel that the chroma pushes out of range, and the fixture's random weights
/// make wild chroma), with the same pixels of `orig`.
fn unclipped_luma(result: &RgbImage, orig: &RgbImage) -> (Vec<f64>, Vec<f64>) {
    let luma = |p: &Rgb<u8>| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64;
    result
        .pixels()
        .zip(orig.pixels())
        .filter(|(r, _)| r.0.iter().all(|&v| v > 0 && v < 255))
        .map(|(r, o)| (luma(r), luma(o)))
        .unzip()
}

fn psnr(a: &[f64], b: &[f64]) -> f64 {
    let mse = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64;
    10.0 * (255.0f64.powi(2) / mse.max(1e-12)).log10()
}

/// A PNG whose header claims 100 000 × 100 000 pixels (a decompression bomb's header).
fn bomb_png() -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32fast::hash(&ihdr).to_be_bytes());
    png.extend_from_slice(&[0, 0, 0, 0]);
    png.extend_from_slice(b"IEND");
    png.extend_from_slice(&crc32fast::hash(b"IEND").to_be_bytes());
    png
}

#[test]
fn a_batch_goes_on_past_bad_files_and_mirrors_folders() {
    let dir = tempfile::tempdir().unwrap();
    let album = dir.path().join("album");
    std::fs::create_dir_all(album.join("1920s")).unwrap();
    picture(120, 90).save(album.join("porch.jpg")).unwrap();
    // Same name, other format: both results are kept.
    picture(100, 90).save(album.join("porch.bmp")).unwrap();
    picture(64, 100).save(album.join("1920s/wedding.png")).unwrap();
    picture(80, 60).save(album.join("1920s/dance.gif")).unwrap();
    // A phone's photo of a print: no decoder reads it, so it is named, not passed over.
    std::fs::write(album.join("IMG_0042.HEIC"), b"\0\0\0\x18ftypheic\0\0\0\0mif1heic").unwrap();
    std::fs::write(album.join("empty.jpg"), b"").unwrap();
    std::fs::write(album.join("notes.png"), b"this is a text file, not a picture").unwrap();
    let good = std::fs::read(album.join("1920s/wedding.png")).unwrap();
    std::fs::write(album.join("1920s/cut.png"), &good[..good.len() / 2]).unwrap();
    // A JPEG cut short decodes without complaint, its missing rows grey: it must be refused too.
    let jpeg = std::fs::read(album.join("porch.jpg")).unwrap();
    std::fs::write(album.join("1920s/cut.jpg"), &jpeg[..jpeg.len() / 2]).unwrap();
    std::fs::write(album.join("bomb.png"), bomb_png()).unwrap();
    let out_dir = dir.path().join("out");

    let started = std::time::Instant::now();
    let out = colorize(&[&album], &out_dir, &["--recursive"]);
    let log = text(&out);
    println!("{log}");
    assert!(!out.status.success(), "a batch with failures must exit non-zero");
    for bad in ["empty.jpg", "notes.png", "cut.png", "cut.jpg", "bomb.png", "IMG_0042.HEIC"] {
        assert!(log.lines().any(|l| l.starts_with("error:") && l.contains(bad)), "no error line for {bad}:\n{log}");
    }
    assert!(log.contains("too large"), "{log}");
    assert!(log.lines().any(|l| l.contains("empty.jpg") && l.contains("empty")), "{log}");
    assert!(log.lines().any(|l| l.contains("notes.png") && l.contains("not a picture")), "{log}");
    assert!(log.lines().any(|l| l.contains("cut.jpg") && l.contains("ends too early")), "{log}");
    assert!(log.lines().any(|l| l.contains("IMG_0042.HEIC") && l.contains("HEIC") && l.contains("use JPEG")), "{log}");
    assert!(log.contains("colorized 4 photos") && log.contains("6 failed"), "{log}");
    // The good photos were done, in mirrored folders, and nothing else was written.
    assert!(out_dir.join("album/porch.png").exists());
    assert!(out_dir.join("album/porch-2.png").exists());
    assert!(out_dir.join("album/1920s/wedding.png").exists());
    assert!(out_dir.join("album/1920s/dance.png").exists());
    let written: Vec<_> = walk(&out_dir);
    assert_eq!(written.len(), 4, "{written:?}");
    // The bomb was refused from its header, not decoded.
    assert!(started.elapsed().as_secs() < 120);
    // Originals untouched.
    assert_eq!(std::fs::read(album.join("1920s/wedding.png")).unwrap(), good);
}

#[test]
fn a_stopped_batch_goes_on_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let album = dir.path().join("album");
    std::fs::create_dir_all(&album).unwrap();
    for name in ["a.jpg", "b.jpg", "c.png"] {
        picture(96, 72).save(album.join(name)).unwrap();
    }
    let out_dir = dir.path().join("out");
    let out = colorize(&[&album], &out_dir, &[]);
    assert!(out.status.success(), "{}", text(&out));
    // As if the batch had been stopped before c: its output was never written.
    std::fs::remove_file(out_dir.join("album/c.png")).unwrap();
    let a_before = std::fs::metadata(out_dir.join("album/a.png")).unwrap().modified().unwrap();

    let out = colorize(&[&album], &out_dir, &["--skip-existing"]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("colorized 1 photo into") && log.contains("2 already there, 0 failed"), "{log}");
    assert!(out_dir.join("album/c.png").exists());
    let a_after = std::fs::metadata(out_dir.join("album/a.png")).unwrap().modified().unwrap();
    assert_eq!(a_before, a_after, "a photo already done was written again");

    // Without the flag every photo is done again.
    let out = colorize(&[&album], &out_dir, &[]);
    assert!(text(&out).contains("colorized 3 photos"), "{}", text(&out));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn unwritable_output_and_overwriting_an_original_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("photo.png");
    picture(80, 60).save(&photo).unwrap();
    let original = std::fs::read(&photo).unwrap();

    // The output "folder" is a file: nothing can be created under it.
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let out = colorize(&[&photo], &blocker, &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("not-a-folder"), "{}", text(&out));

    // Output folder = the input's folder, same name and format: refused.
    let out = colorize(&[&photo], dir.path(), &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("refusing to overwrite"), "{}", text(&out));
    assert_eq!(std::fs::read(&photo).unwrap(), original);
    // No temporary files left behind.
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
}

#[test]
fn sixteen_bit_in_gives_sixteen_bit_out_with_its_own_luminance() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (96u32, 72u32);
    let scan = image::ImageBuffer::<Rgb<u16>, Vec<u16>>::from_fn(w, h, |x, y| {
        let v = ((x * 613 + y * 397) * 3 % 60_000 + 1000) as u16; // uses all 16 bits, not multiples of 257
        Rgb([v, v, v])
    });
    let input = dir.path().join("scan16.png");
    DynamicImage::ImageRgb16(scan.clone()).save(&input).unwrap();
    let out_dir = dir.path().join("out");
    for format in ["png", "tiff"] {
        let out = colorize(&[&input], &out_dir, &["--format", format, "--saturation", "1.2", "--warmth", "-0.3"]);
        assert!(out.status.success(), "{}", text(&out));
        let ext = if format == "png" { "png" } else { "tif" };
        let result = image::open(out_dir.join(format!("scan16.{ext}"))).unwrap();
        let DynamicImage::ImageRgb16(result) = result else { panic!("{format}: not 16-bit RGB: {:?}", result.color()) };
        let lum = |p: &Rgb<u16>| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64;
        let max_err = scan.pixels().zip(result.pixels()).map(|(a, b)| (lum(a) - lum(b)).abs()).fold(0.0, f64::max);
        println!("16-bit {format}: max luminance error {max_err:.2} of 65535");
        // Exact but for the rounding of three channels to 16 bits.
        assert!(max_err < 1.5, "{format}: luminance moved by {max_err}");
        assert!(result.pixels().any(|p| p[0] % 257 != 0), "{format}: looks like 8-bit data widened");
    }
}

fn jpeg_with_exif(img: &RgbImage, tags: Vec<ExifTag>) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .unwrap();
    let mut meta = Metadata::new();
    for t in tags {
        meta.set_tag(t);
    }
    meta.write_to_vec(&mut bytes, FileExtension::JPEG).unwrap();
    bytes
}

#[test]
fn a_scan_on_its_side_is_turned_before_colorizing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("sideways.png");
    let stored = picture(120, 80);
    stored.save(&input).unwrap();
    let out_dir = dir.path().join("out");
    let out = colorize(&[&input], &out_dir, &["--rotate", "90"]);
    assert!(out.status.success(), "{}", text(&out));
    let path = out_dir.join("sideways.png");
    let result = image::open(&path).unwrap();
    assert_eq!((result.width(), result.height()), (80, 120));
    // The luminance is the turned scan's own.
    let luma = |img: &RgbImage, x: u32, y: u32| {
        let p = img.get_pixel(x, y);
        0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
    };
    let turned = image::imageops::rotate90(&stored);
    let result = result.to_rgb8();
    for (x, y) in [(5, 5), (70, 20), (40, 100)] {
        assert!((luma(&result, x, y) - luma(&turned, x, y)).abs() < 3.0, "at ({x}, {y})");
    }
    let description = provenance::read_description(&path).unwrap_or_default();
    assert!(description.contains("render factor 7, turned 90° clockwise)"), "{description:?}");
    let out = colorize(&[&input], &out_dir, &["--rotate", "45"]);
    assert!(!out.status.success() && text(&out).contains("45"), "{}", text(&out));
}

/// `--trim` cuts each scan's margin (the scanner's lid around the print) and leaves a photo
/// that has none whole; after `--rotate`, on the turned scan.
#[test]
fn trim_cuts_each_scan_to_its_print() {
    let dir = tempfile::tempdir().unwrap();
    let print = image::open(env!("CARGO_MANIFEST_DIR").to_owned() + "/assets/samples/walt-whitman.jpg").unwrap();
    let (pw, ph) = (print.width(), print.height());
    let mut scan = RgbImage::from_pixel(pw + 200, ph + 120, Rgb([240, 240, 236]));
    image::imageops::overlay(&mut scan, &print.to_rgb8(), 150, 20);
    let scanned = dir.path().join("scanned.png");
    scan.save(&scanned).unwrap();
    let cropped_already = dir.path().join("print.png");
    print.save(&cropped_already).unwrap();
    // The print laid 4° anticlockwise on the lid: straightened as well as trimmed.
    let askew = dir.path().join("askew.png");
    let (w, h) = (pw + 240, ph + 200);
    let (sin, cos) = (-4f32).to_radians().sin_cos();
    let print_rgb = print.to_rgb8();
    RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - w as f32 / 2.0, y as f32 + 0.5 - h as f32 / 2.0);
        let (px, py) = (cos * dx + sin * dy + pw as f32 / 2.0, -sin * dx + cos * dy + ph as f32 / 2.0);
        let inside = (0.0..pw as f32).contains(&px) && (0.0..ph as f32).contains(&py);
        if inside { *print_rgb.get_pixel(px as u32, py as u32) } else { Rgb([240, 240, 236]) }
    })
    .save(&askew)
    .unwrap();
    let out_dir = dir.path().join("out");
    let out = colorize(&[&scanned, &cropped_already, &askew], &out_dir, &["--trim", "--rotate", "90"]);
    assert!(out.status.success(), "{}", text(&out));
    let trimmed = image::open(out_dir.join("scanned.png")).unwrap();
    // Turned a quarter, the print is ph wide and pw high.
    assert!(
        trimmed.width().abs_diff(ph) <= 6 && trimmed.height().abs_diff(pw) <= 6,
        "{}x{}",
        trimmed.width(),
        trimmed.height()
    );
    assert!(trimmed.width() <= ph && trimmed.height() <= pw, "never more than the print");
    let description = provenance::read_description(&out_dir.join("scanned.png")).unwrap_or_default();
    assert!(description.contains("turned 90° clockwise, cropped to"), "{description:?}");
    let whole = image::open(out_dir.join("print.png")).unwrap();
    assert_eq!((whole.width(), whole.height()), (ph, pw));
    let description = provenance::read_description(&out_dir.join("askew.png")).unwrap_or_default();
    let angle = description
        .split_once("turned 90° clockwise, straightened ")
        .and_then(|(_, rest)| rest.split_once("° clockwise, cropped to"))
        .and_then(|(angle, _)| angle.parse::<f32>().ok());
    assert!(angle.is_some_and(|a| (a - 4.0).abs() <= 0.2), "{description:?}");
    let straightened = image::open(out_dir.join("askew.png")).unwrap();
    assert!(straightened.width() <= ph && straightened.width() > ph * 95 / 100, "{}", straightened.width());
}

/// `--split` gives each print of a scan of several as its own output, in reading order, and
/// a scan of one print trimmed under its own name.
#[test]
fn split_gives_each_print_of_a_scan_its_own_output() {
    let dir = tempfile::tempdir().unwrap();
    let samples = env!("CARGO_MANIFEST_DIR").to_owned() + "/assets/samples/";
    let whitman = image::open(samples.clone() + "walt-whitman.jpg").unwrap().to_rgb8();
    let mother = image::open(samples + "migrant-mother.jpg").unwrap().to_rgb8();
    let whitman = image::imageops::resize(&whitman, 384, 310, image::imageops::Triangle);
    let mother = image::imageops::resize(&mother, 400, 310, image::imageops::Triangle);
    let mut scan = RgbImage::from_pixel(1000, 800, Rgb([242, 241, 236]));
    // The mother above and to the right, Whitman below and to the left.
    image::imageops::overlay(&mut scan, &mother, 560, 30);
    image::imageops::overlay(&mut scan, &whitman, 40, 420);
    let album = dir.path().join("album.png");
    scan.save(&album).unwrap();
    let single = dir.path().join("single.png");
    image::imageops::crop_imm(&scan, 0, 380, 480, 420).to_image().save(&single).unwrap();
    let out_dir = dir.path().join("out");
    let out = colorize(&[&album, &single], &out_dir, &["--split"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("album.png holds 2 prints"), "{}", text(&out));
    for (name, (w, h)) in
        [("album-print1.png", (400, 310)), ("album-print2.png", (384, 310)), ("single.png", (384, 310))]
    {
        let print = image::open(out_dir.join(name)).unwrap();
        let (pw, ph) = (print.width(), print.height());
        assert!(pw <= w && ph <= h && pw + 6 >= w && ph + 6 >= h, "{name}: {pw}x{ph} for a print of {w}x{h}");
    }
    assert!(!out_dir.join("album.png").exists());
}

#[test]
fn rotated_photos_come_out_upright_with_their_metadata_and_a_provenance_record() {
    let dir = tempfile::tempdir().unwrap();
    // Stored 120 × 80, EXIF orientation 6: shown rotated 90° clockwise, 80 × 120.
    let stored = picture(120, 80);
    let input = dir.path().join("phone.jpg");
    std::fs::write(
        &input,
        jpeg_with_exif(
            &stored,
            vec![
                ExifTag::Orientation(vec![6]),
                ExifTag::Artist("Grandma Rose".into()),
                ExifTag::ImageDescription("Rose at Coney Island, 1952".into()),
                // Kept in the EXIF directory, not the image's.
                ExifTag::DateTimeOriginal("1952:07:04 15:30:00".into()),
                // And in the GPS directory: where a phone photographed the print.
                ExifTag::GPSLatitudeRef("N".into()),
                ExifTag::GPSLatitude(
                    [(40, 1), (34, 1), (2964, 100)]
                        .map(|(n, d)| little_exif::rational::uR64 { nominator: n, denominator: d })
                        .to_vec(),
                ),
            ],
        ),
    )
    .unwrap();
    assert_eq!(provenance::read_orientation(&input), Some(6));
    let out_dir = dir.path().join("out");
    for format in ["png", "jpeg", "webp", "tiff"] {
        let out = colorize(&[&input], &out_dir, &["--format", format, "--saturation", "1.2", "--warmth", "-0.3"]);
        assert!(out.status.success(), "{}", text(&out));
        let ext = match format {
            "jpeg" => "jpg",
            "tiff" => "tif",
            other => other,
        };
        let path = out_dir.join(format!("phone.{ext}"));
        let result = image::open(&path).unwrap();
        assert_eq!((result.width(), result.height()), (80, 120), "{format}: not upright");
        assert_eq!(provenance::read_orientation(&path), Some(1), "{format}: orientation not reset");
        let description = provenance::read_description(&path).unwrap_or_default();
        // The photo's caption first, then the record.
        assert!(
            description.starts_with("Rose at Coney Island, 1952 — Colorized by Tintype")
                && description.contains("artistic")
                && description.contains("render factor 7, colour strength 1.20, warmth -0.30)"),
            "{format}: {description:?}"
        );
        let meta = Metadata::new_from_path(&path).unwrap();
        let artist = meta.get_tag(&ExifTag::Artist(String::new())).next().cloned();
        assert!(matches!(artist, Some(ExifTag::Artist(a)) if a.starts_with("Grandma Rose")), "{format}: artist lost");
        let taken = meta.get_tag(&ExifTag::DateTimeOriginal(String::new())).next().cloned();
        assert!(
            matches!(&taken, Some(ExifTag::DateTimeOriginal(d)) if d.starts_with("1952:07:04 15:30:00")),
            "{format}: date taken lost: {taken:?}"
        );
        let latitude = meta.get_tag(&ExifTag::GPSLatitude(Vec::new())).next().cloned();
        assert!(
            matches!(&latitude, Some(ExifTag::GPSLatitude(l)) if l.len() == 3 && l[2].nominator == 2964),
            "{format}: where it was taken lost: {latitude:?}"
        );
    }
    // Colorized again, the caption stays and the records do not pile up.
    let again = dir.path().join("again");
    let out = colorize(&[&out_dir.join("phone.jpg")], &again, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let description = provenance::read_description(&again.join("phone.png")).unwrap_or_default();
    assert!(description.starts_with("Rose at Coney Island, 1952 — Colorized by Tintype"), "{description:?}");
    assert_eq!(description.matches("Colorized by Tintype").count(), 1, "{description:?}");
}

#[test]
fn a_scans_resolution_is_carried_over_in_every_format_and_turned_with_it() {
    let dir = tempfile::tempdir().unwrap();
    // Scanned at 300 dpi across and 150 down (unusual, so that a turn shows), lying on its side.
    let mut jpeg = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95);
    let unit = image::codecs::jpeg::PixelDensityUnit::Inches;
    enc.set_pixel_density(image::codecs::jpeg::PixelDensity { density: (300, 150), unit });
    enc.encode_image(&picture(64, 48)).unwrap();
    let input = dir.path().join("scan.jpg");
    std::fs::write(&input, jpeg).unwrap();
    let out_dir = dir.path().join("out");
    for (format, ext) in [("png", "png"), ("jpeg", "jpg"), ("tiff", "tif"), ("webp", "webp")] {
        let out = colorize(&[&input], &out_dir, &["--format", format, "--rotate", "90"]);
        assert!(out.status.success(), "{}", text(&out));
        let path = out_dir.join(format!("scan.{ext}"));
        let near = |v: f32, want: f32| (v - want).abs() < 0.02;
        // Turned upright, 150 dpi across and 300 down, in the format's own field…
        if format != "webp" {
            let density = tintype::io::decode::decode(&path).unwrap().carried.density.expect("a resolution");
            assert!(near(density.x, 150.0) && near(density.y, 300.0), "{format}: {density:?}");
        }
        // …and in EXIF (WebP's only place for it).
        let meta = Metadata::new_from_path(&path).unwrap();
        let x = meta.get_tag(&ExifTag::XResolution(vec![])).next().cloned();
        let Some(ExifTag::XResolution(x)) = x else { panic!("{format}: no XResolution in EXIF") };
        assert!(near(x[0].nominator as f32 / x[0].denominator as f32, 150.0), "{format}: {x:?}");
    }
}

#[test]
fn an_xmp_caption_is_carried_over_in_every_format_and_says_the_photo_is_upright() {
    let dir = tempfile::tempdir().unwrap();
    // A photo manager's XMP: a caption, and the turn the EXIF asks for too (a quarter turn).
    let xmp = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"><dc:description><rdf:Alt><rdf:li xml:lang="x-default">Rose at Coney Island, 1952</rdf:li></rdf:Alt></dc:description></rdf:Description></rdf:RDF></x:xmpmeta>"#;
    let jpeg = jpeg_with_exif(&picture(120, 80), vec![ExifTag::Orientation(vec![6])]);
    let namespace = b"http://ns.adobe.com/xap/1.0/\0";
    let length = (2 + namespace.len() + xmp.len()) as u16;
    let app1 = [&[0xFF, 0xE1][..], &length.to_be_bytes(), namespace, xmp.as_bytes()].concat();
    let input = dir.path().join("captioned.jpg");
    std::fs::write(&input, [&jpeg[..2], &app1, &jpeg[2..]].concat()).unwrap();
    let out_dir = dir.path().join("out");
    for (format, ext) in [("png", "png"), ("jpeg", "jpg"), ("tiff", "tif"), ("webp", "webp")] {
        let out = colorize(&[&input], &out_dir, &["--format", format]);
        assert!(out.status.success(), "{}", text(&out));
        let photo = tintype::io::decode::decode(&out_dir.join(format!("captioned.{ext}"))).unwrap();
        assert_eq!((photo.pixels.width(), photo.pixels.height()), (80, 120), "{format}: upright");
        let kept = photo.carried.xmp.map(|x| String::from_utf8(x.to_vec()).unwrap()).unwrap_or_default();
        assert!(kept.contains("Rose at Coney Island, 1952"), "{format}: caption lost: {kept:?}");
        assert!(kept.contains(r#"tiff:Orientation="1""#), "{format}: still says turn me: {kept:?}");
    }
}

#[test]
fn an_archive_photos_iptc_caption_is_carried_over_in_every_format() {
    // Hulton Archive's caption, credit and keywords, in IPTC only (no XMP).
    let source =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/old-photos/deoldify__NativeAmericans.jpg");
    let iim = tintype::io::decode::decode(&source).unwrap().carried.iptc.expect("IPTC in the source");
    let dir = tempfile::tempdir().unwrap();
    for (format, ext) in [("png", "png"), ("jpeg", "jpg"), ("tiff", "tif"), ("webp", "webp")] {
        let out = colorize(&[&source], dir.path(), &["--format", format]);
        assert!(out.status.success(), "{}", text(&out));
        let path = dir.path().join(format!("deoldify__NativeAmericans.{ext}"));
        // Every format: told as XMP.
        let carried = tintype::io::decode::decode(&path).unwrap().carried;
        let xmp = carried.xmp.map(|x| String::from_utf8(x.to_vec()).unwrap()).unwrap_or_default();
        assert!(xmp.contains("A group of Maori girls from New Zealand"), "{format}: {xmp:?}");
        assert!(xmp.contains("<photoshop:Credit>Getty Images</photoshop:Credit>"), "{format}: {xmp:?}");
        // JPEG and TIFF: the IPTC itself, as it was.
        if matches!(format, "jpeg" | "tiff") {
            assert_eq!(carried.iptc.as_deref(), Some(&*iim), "{format}");
        }
    }
}

#[test]
fn a_multi_page_tiff_is_colorized_from_its_first_page_and_the_others_are_named() {
    let dir = tempfile::tempdir().unwrap();
    // A scanner's "multi-TIFF": three photos of an album page in one file.
    let mut file = std::io::Cursor::new(Vec::new());
    let mut tiff = tiff::encoder::TiffEncoder::new(&mut file).unwrap();
    for _ in 0..3 {
        tiff.write_image::<tiff::encoder::colortype::RGB8>(64, 48, picture(64, 48).as_raw()).unwrap();
    }
    let input = dir.path().join("album.tif");
    std::fs::write(&input, file.into_inner()).unwrap();
    let out = colorize(&[&input], &dir.path().join("out"), &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(dir.path().join("out/album.png").is_file());
    assert!(text(&out).contains("album.tif holds 3 pictures (pages); only the first was colorized"), "{}", text(&out));
}

#[test]
fn icc_profiles_are_carried_over() {
    let dir = tempfile::tempdir().unwrap();
    let img = picture(64, 48);
    // An RGB profile comes back byte for byte (PNG stores it compressed).
    let icc = moxcms::ColorProfile::new_adobe_rgb().encode().unwrap();
    let mut png = Vec::new();
    let mut enc = image::codecs::png::PngEncoder::new(&mut png);
    enc.set_icc_profile(icc.clone()).unwrap();
    enc.write_image(img.as_raw(), 64, 48, image::ExtendedColorType::Rgb8).unwrap();
    let input = dir.path().join("profiled.png");
    std::fs::write(&input, png).unwrap();
    // A grey scan's profile cannot describe the colorized copy: it carries the RGB profile that
    // shows its greys alike (io/encode.rs tests how).
    let grey_scan =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/old-photos/deoldify__BoulevardDuTemple1838.jpg");
    let out_dir = dir.path().join("out");
    let out = colorize(&[&input, &grey_scan], &out_dir, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let photo = tintype::io::decode::decode(&out_dir.join("profiled.png")).unwrap();
    assert_eq!(photo.carried.icc_profile.as_deref(), Some(&icc));
    let grey = tintype::io::decode::decode(&grey_scan).unwrap().carried.icc_profile.unwrap();
    let colorized = tintype::io::decode::decode(&out_dir.join("deoldify__BoulevardDuTemple1838.png")).unwrap();
    let colorized = colorized.carried.icc_profile.map(|p| p.to_vec());
    assert_eq!(colorized, tintype::io::encode::profile_for_rgb(&grey));
    let profile = moxcms::ColorProfile::new_from_slice(&colorized.unwrap()).unwrap();
    assert_eq!(profile.color_space, moxcms::DataColorSpace::Rgb);
    // TIFF, written by its own path, carries it too.
    let out = colorize(&[&grey_scan], &out_dir, &["--format", "tiff"]);
    assert!(out.status.success(), "{}", text(&out));
    let tiff = tintype::io::decode::decode(&out_dir.join("deoldify__BoulevardDuTemple1838.tif")).unwrap();
    assert_eq!(tiff.carried.icc_profile.map(|p| p.to_vec()), tintype::io::encode::profile_for_rgb(&grey));
}

#[test]
fn old_photos_end_to_end_keep_their_luminance() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/old-photos");
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = colorize(&[&src], &out_dir, &["--defade", "0"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("colorized 16 photos"), "{}", text(&out));
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tsv") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let result = image::open(out_dir.join("old-photos").join(format!("{stem}.png"))).unwrap().to_rgb8();
        let orig = tintype::io::decode::decode(&path).unwrap().pixels.to_rgb8();
        assert_eq!(result.dimensions(), orig.dimensions(), "{stem}");
        let (got, want) = unclipped_luma(&result, &orig);
        let share = got.len() as f64 / (orig.len() / 3) as f64;
        // The fixture's random weights saturate much of the picture; whatever is left shows
        // whether Y was kept (the compact model's quality gate checks real colours).
        assert!(share > 0.005, "{stem}: only {:.1} % of pixels unclipped", share * 100.0);
        let p = psnr(&got, &want);
        println!("{stem}: luminance PSNR {p:.1} dB over the {:.0} % unclipped pixels", share * 100.0);
        assert!(p >= 40.0, "{stem}: luminance PSNR {p:.1} dB");
    }
}

#[test]
fn eval_reports_both_modes_with_the_grey_baseline() {
    let model = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/compact.safetensors");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("regrey.json");
    let eval_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/eval/bsds500-test");
    let args = ["eval", "regrey", eval_dir.to_str().unwrap(), "--model", model.to_str().unwrap(), "--limit", "3"];
    let out = tintype(&[&args[..], &["--render-factor", "7", "--json", json.to_str().unwrap()]].concat());
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    for key in ["photos=3", "ciede2000=", "grey_ciede2000=", "gain_ci95=[", "better_than_grey=", "delta_cf="] {
        assert!(log.contains(key), "{key} missing: {log}");
    }
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["photos"].as_array().unwrap().len(), 3);

    let old_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/old-photos");
    let out = tintype(&[
        "eval",
        "old",
        old_dir.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--limit",
        "2",
        "--render-factor",
        "7",
    ]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("hue_entropy=") && log.contains("brown_share=") && log.contains("luminance_psnr="), "{log}");
}

#[cfg(unix)]
#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    use std::os::unix::process::ExitStatusExt;
    // As `tintype models list | head -n 1` does: the reading end closes before the output ends.
    let mut child = Command::new(EXE)
        .args(["models", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Ended by SIGPIPE like other tools, or done before the pipe closed.
    assert!(out.status.success() || out.status.signal() == Some(libc::SIGPIPE), "{:?}: {stderr}", out.status);
}
