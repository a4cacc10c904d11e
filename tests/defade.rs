//! Fading repair on synthetic fading of the evaluation photos: at strength 1 each of the four
//! fade types of the brief (contrast loss, lifted blacks, yellow cast, uneven fading) gains at
//! least 3 dB PSNR over the faded input on average; at strength 0 nothing changes.
//! A mild magenta cast is measured too: it starts close to the original (≈ 25.5 dB), so the
//! repair's own error on ordinary photos (≈ 27.5 dB) bounds its gain; it must still improve.

use std::path::PathBuf;

use image::RgbImage;
use tintype::pipeline::defade::defade;

/// How many of the evaluation photos to use (sorted by name): enough for a stable mean.
const PHOTOS: usize = 40;

fn eval_photos() -> Vec<RgbImage> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/eval/bsds500-test");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    paths.sort();
    paths.iter().take(PHOTOS).map(|p| image::open(p).unwrap().to_rgb8()).collect()
}

/// Synthetic fading, per pixel on [0, 1] values; (u, v) is the position in [0, 1]².
type Fade = fn(f32, f32, [f32; 3]) -> [f32; 3];

/// (name, fade, required gain in dB).
const FADES: [(&str, Fade, f64); 5] = [
    ("contrast loss", |_, _, p| p.map(|x| 0.5 + 0.55 * (x - 0.5)), 3.0),
    ("lifted blacks", |_, _, p| p.map(|x| 0.22 + 0.78 * x), 3.0),
    ("yellow cast", |_, _, [r, g, b]| [0.06 + 0.94 * r, 0.04 + 0.92 * g, 0.72 * b], 3.0),
    ("magenta cast", |_, _, [r, g, b]| [0.08 + 0.92 * r, 0.85 * g, 0.05 + 0.9 * b], 0.5),
    (
        "uneven fading",
        |u, v, p| {
            // Toward warm paper, from 5 % at one corner to 50 % at the other.
            let f = 0.05 + 0.45 * (0.6 * u + 0.4 * v);
            let paper = [1.0, 0.96, 0.88];
            [0, 1, 2].map(|c| p[c] * (1.0 - f) + f * paper[c])
        },
        3.0,
    ),
];

fn apply(img: &RgbImage, fade: Fade) -> RgbImage {
    let (w, h) = img.dimensions();
    let mut out = img.clone();
    for (x, y, p) in out.enumerate_pixels_mut() {
        let q = fade(x as f32 / w as f32, y as f32 / h as f32, p.0.map(|v| v as f32 / 255.0));
        p.0 = q.map(|v| (v * 255.0).round().clamp(0.0, 255.0) as u8);
    }
    out
}

fn psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    let mse =
        a.as_raw().iter().zip(b.as_raw()).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum::<f64>() / a.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-10)).log10()
}

#[test]
fn strength_one_gains_three_db_on_every_fade_type() {
    let photos = eval_photos();
    assert_eq!(photos.len(), PHOTOS);
    let mut failures = Vec::new();
    for (name, fade, required) in FADES {
        let (mut before, mut after) = (0.0, 0.0);
        for photo in &photos {
            let faded = apply(photo, fade);
            before += psnr(&faded, photo);
            after += psnr(&defade(&faded, 1.0), photo);
        }
        let (before, after) = (before / PHOTOS as f64, after / PHOTOS as f64);
        println!("DEFADE {name:<14} faded {before:.2} dB → repaired {after:.2} dB (gain {:+.2} dB)", after - before);
        if after - before < required {
            failures.push(format!("{name}: gain {:.2} dB < {required} dB", after - before));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn strength_zero_is_identity_and_clean_photos_survive() {
    let photos = eval_photos();
    let mut loss = 0.0;
    for photo in &photos[..10] {
        assert_eq!(&defade(photo, 0.0), photo);
        // On an unfaded photo the repair may retouch levels but must not wreck it.
        loss += psnr(&defade(photo, 1.0), photo);
    }
    println!("DEFADE unfaded photos at strength 1: {:.2} dB", loss / 10.0);
    assert!(loss / 10.0 > 20.0);
    // 16-bit input works the same way.
    let wide = image::DynamicImage::ImageRgb8(apply(&photos[0], FADES[1].1)).to_rgb16();
    let fixed = defade(&wide, 1.0);
    assert_eq!(fixed.dimensions(), wide.dimensions());
    assert_ne!(fixed, wide);
}
