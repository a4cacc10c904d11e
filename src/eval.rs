//! Colour quality metrics (shared/design/quality.md): PSNR, CIEDE2000, colourfulness (signed
//! Hasler–Süsstrunk), hue entropy and brown-band share, luminance kept; and the two ways of
//! judging a model on a folder — re-grayscaled colour photos against their truth, and old
//! photos with no truth.

use image::RgbImage;
use rayon::prelude::*;

/// sRGB (0–255) → CIELAB, D65, 2° observer.
pub fn srgb_to_lab(rgb: [u8; 3]) -> [f64; 3] {
    let lin = |c: u8| {
        let c = c as f64 / 255.0;
        if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let (r, g, b) = (lin(rgb[0]), lin(rgb[1]), lin(rgb[2]));
    let x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
    let y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
    let z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883;
    let f = |t: f64| if t > 216.0 / 24389.0 { t.cbrt() } else { (24389.0 / 27.0 * t + 16.0) / 116.0 };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// CIEDE2000 colour difference (Sharma, Wu & Dalal 2005), kL = kC = kH = 1.
pub fn ciede2000(lab1: [f64; 3], lab2: [f64; 3]) -> f64 {
    let [l1, a1, b1] = lab1;
    let [l2, a2, b2] = lab2;
    let c_bar = ((a1 * a1 + b1 * b1).sqrt() + (a2 * a2 + b2 * b2).sqrt()) / 2.0;
    let c7 = c_bar.powi(7);
    let g = 0.5 * (1.0 - (c7 / (c7 + 25f64.powi(7))).sqrt());
    let (a1p, a2p) = ((1.0 + g) * a1, (1.0 + g) * a2);
    let (c1p, c2p) = ((a1p * a1p + b1 * b1).sqrt(), (a2p * a2p + b2 * b2).sqrt());
    let hue = |b: f64, a: f64| {
        if b == 0.0 && a == 0.0 {
            0.0
        } else {
            let h = b.atan2(a).to_degrees();
            if h < 0.0 { h + 360.0 } else { h }
        }
    };
    let (h1p, h2p) = (hue(b1, a1p), hue(b2, a2p));
    let dlp = l2 - l1;
    let dcp = c2p - c1p;
    let dhp = if c1p * c2p == 0.0 {
        0.0
    } else if (h2p - h1p).abs() <= 180.0 {
        h2p - h1p
    } else if h2p - h1p > 180.0 {
        h2p - h1p - 360.0
    } else {
        h2p - h1p + 360.0
    };
    let dhp_big = 2.0 * (c1p * c2p).sqrt() * (dhp.to_radians() / 2.0).sin();
    let lp_bar = (l1 + l2) / 2.0;
    let cp_bar = (c1p + c2p) / 2.0;
    let hp_bar = if c1p * c2p == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= 180.0 {
        (h1p + h2p) / 2.0
    } else if h1p + h2p < 360.0 {
        (h1p + h2p + 360.0) / 2.0
    } else {
        (h1p + h2p - 360.0) / 2.0
    };
    let t = 1.0 - 0.17 * (hp_bar - 30.0).to_radians().cos()
        + 0.24 * (2.0 * hp_bar).to_radians().cos()
        + 0.32 * (3.0 * hp_bar + 6.0).to_radians().cos()
        - 0.20 * (4.0 * hp_bar - 63.0).to_radians().cos();
    let d_theta = 30.0 * (-((hp_bar - 275.0) / 25.0).powi(2)).exp();
    let cp7 = cp_bar.powi(7);
    let rc = 2.0 * (cp7 / (cp7 + 25f64.powi(7))).sqrt();
    let sl = 1.0 + 0.015 * (lp_bar - 50.0).powi(2) / (20.0 + (lp_bar - 50.0).powi(2)).sqrt();
    let sc = 1.0 + 0.045 * cp_bar;
    let sh = 1.0 + 0.015 * cp_bar * t;
    let rt = -(2.0 * d_theta).to_radians().sin() * rc;
    ((dlp / sl).powi(2) + (dcp / sc).powi(2) + (dhp_big / sh).powi(2) + rt * (dcp / sc) * (dhp_big / sh)).sqrt()
}

/// PSNR over all 8-bit RGB values.
pub fn psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    let mse = a.as_raw().iter().zip(b.as_raw()).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum::<f64>()
        / a.as_raw().len().max(1) as f64;
    10.0 * (255.0f64.powi(2) / mse.max(1e-12)).log10()
}

/// Mean CIEDE2000 over the pixels.
pub fn mean_ciede2000(a: &RgbImage, b: &RgbImage) -> f64 {
    let total: f64 = a
        .as_raw()
        .par_chunks_exact(3)
        .zip(b.as_raw().par_chunks_exact(3))
        .map(|(p, q)| ciede2000(srgb_to_lab([p[0], p[1], p[2]]), srgb_to_lab([q[0], q[1], q[2]])))
        .sum();
    total / (a.as_raw().len() / 3).max(1) as f64
}

/// Hasler–Süsstrunk colourfulness, signed variant: rg = R − G, yb = (R + G)/2 − B.
pub fn colourfulness(img: &RgbImage) -> f64 {
    let n = (img.as_raw().len() / 3).max(1) as f64;
    let (mut srg, mut syb, mut srg2, mut syb2) = (0.0, 0.0, 0.0, 0.0);
    for p in img.as_raw().chunks_exact(3) {
        let (r, g, b) = (p[0] as f64, p[1] as f64, p[2] as f64);
        let (rg, yb) = (r - g, 0.5 * (r + g) - b);
        srg += rg;
        syb += yb;
        srg2 += rg * rg;
        syb2 += yb * yb;
    }
    let (mrg, myb) = (srg / n, syb / n);
    let (vrg, vyb) = (srg2 / n - mrg * mrg, syb2 / n - myb * myb);
    (vrg.max(0.0) + vyb.max(0.0)).sqrt() + 0.3 * (mrg * mrg + myb * myb).sqrt()
}

/// (hue entropy, brown-band share) over pixels with chroma C*ab > 5: an 18-bin (20°)
/// chroma-weighted hue histogram's entropy / log2(18), and the share of those pixels with a
/// hue between 40° and 100°. `None` when no pixel has chroma.
pub fn hue_stats(img: &RgbImage) -> Option<(f64, f64)> {
    let mut hist = [0f64; 18];
    let (mut coloured, mut brown) = (0usize, 0usize);
    for p in img.as_raw().chunks_exact(3) {
        let [_, a, b] = srgb_to_lab([p[0], p[1], p[2]]);
        let c = (a * a + b * b).sqrt();
        if c <= 5.0 {
            continue;
        }
        let h = b.atan2(a).to_degrees().rem_euclid(360.0);
        hist[((h / 20.0) as usize).min(17)] += c;
        coloured += 1;
        if (40.0..=100.0).contains(&h) {
            brown += 1;
        }
    }
    if coloured == 0 {
        return None;
    }
    let total: f64 = hist.iter().sum();
    let entropy: f64 = hist.iter().filter(|&&w| w > 0.0).map(|&w| -(w / total) * (w / total).log2()).sum();
    Some((entropy / 18f64.log2(), brown as f64 / coloured as f64))
}

/// PSNR between the BT.601 luma of two images (luminance kept ≥ 40 dB).
pub fn luminance_psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    let y = |p: &[u8]| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64;
    let mse =
        a.as_raw().chunks_exact(3).zip(b.as_raw().chunks_exact(3)).map(|(p, q)| (y(p) - y(q)).powi(2)).sum::<f64>()
            / (a.as_raw().len() / 3).max(1) as f64;
    10.0 * (255.0f64.powi(2) / mse.max(1e-12)).log10()
}

/// 95 % bootstrap interval of the mean of `values` (2,000 resamples, fixed seed).
pub fn bootstrap_ci(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let n = values.len();
    let mut means: Vec<f64> =
        (0..2000).map(|_| (0..n).map(|_| values[(next() % n as u64) as usize]).sum::<f64>() / n as f64).collect();
    means.sort_by(f64::total_cmp);
    (means[50], means[1949])
}

/// Per-photo numbers of the re-grayscale benchmark.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RegreyPhoto {
    pub name: String,
    pub psnr: f64,
    pub ciede2000: f64,
    pub colourfulness: f64,
    pub grey_psnr: f64,
    pub grey_ciede2000: f64,
    pub truth_colourfulness: f64,
}

/// Scores a colorized re-grayscaled photo against its truth, with the plain-grey baseline.
pub fn score_regrey(name: &str, truth: &RgbImage, grey: &RgbImage, colorized: &RgbImage) -> RegreyPhoto {
    RegreyPhoto {
        name: name.to_string(),
        psnr: psnr(colorized, truth),
        ciede2000: mean_ciede2000(colorized, truth),
        colourfulness: colourfulness(colorized),
        grey_psnr: psnr(grey, truth),
        grey_ciede2000: mean_ciede2000(grey, truth),
        truth_colourfulness: colourfulness(truth),
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RegreySummary {
    pub photos: usize,
    pub psnr: f64,
    pub grey_psnr: f64,
    pub ciede2000: f64,
    pub grey_ciede2000: f64,
    /// Mean of (grey ΔE00 − model ΔE00) and its 95 % bootstrap interval.
    pub gain: f64,
    pub gain_ci: (f64, f64),
    /// Share of photos closer to the truth than grey (lower ΔE00).
    pub better_than_grey: f64,
    pub colourfulness: f64,
    pub truth_colourfulness: f64,
    pub delta_colourfulness: f64,
}

pub fn summarise_regrey(photos: &[RegreyPhoto]) -> RegreySummary {
    let n = photos.len().max(1) as f64;
    let mean = |f: fn(&RegreyPhoto) -> f64| photos.iter().map(f).sum::<f64>() / n;
    let gains: Vec<f64> = photos.iter().map(|p| p.grey_ciede2000 - p.ciede2000).collect();
    let colourfulness = mean(|p| p.colourfulness);
    let truth_colourfulness = mean(|p| p.truth_colourfulness);
    RegreySummary {
        photos: photos.len(),
        psnr: mean(|p| p.psnr),
        grey_psnr: mean(|p| p.grey_psnr),
        ciede2000: mean(|p| p.ciede2000),
        grey_ciede2000: mean(|p| p.grey_ciede2000),
        gain: gains.iter().sum::<f64>() / n,
        gain_ci: bootstrap_ci(&gains),
        better_than_grey: photos.iter().filter(|p| p.ciede2000 < p.grey_ciede2000).count() as f64 / n,
        colourfulness,
        truth_colourfulness,
        delta_colourfulness: (colourfulness - truth_colourfulness).abs(),
    }
}

/// Per-photo numbers for old photos (no truth).
#[derive(Debug, Clone, serde::Serialize)]
pub struct OldPhoto {
    pub name: String,
    pub colourfulness: f64,
    pub hue_entropy: f64,
    pub brown_share: f64,
    pub luminance_psnr: f64,
}

pub fn score_old(name: &str, input: &RgbImage, colorized: &RgbImage) -> OldPhoto {
    let (hue_entropy, brown_share) = hue_stats(colorized).unwrap_or((0.0, 0.0));
    OldPhoto {
        name: name.to_string(),
        colourfulness: colourfulness(colorized),
        hue_entropy,
        brown_share,
        luminance_psnr: luminance_psnr(input, colorized),
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct OldSummary {
    pub photos: usize,
    pub colourfulness: f64,
    pub hue_entropy: f64,
    pub brown_share: f64,
    pub luminance_psnr: f64,
    pub min_luminance_psnr: f64,
}

pub fn summarise_old(photos: &[OldPhoto]) -> OldSummary {
    let n = photos.len().max(1) as f64;
    let mean = |f: fn(&OldPhoto) -> f64| photos.iter().map(f).sum::<f64>() / n;
    OldSummary {
        photos: photos.len(),
        colourfulness: mean(|p| p.colourfulness),
        hue_entropy: mean(|p| p.hue_entropy),
        brown_share: mean(|p| p.brown_share),
        luminance_psnr: mean(|p| p.luminance_psnr),
        min_luminance_psnr: photos.iter().map(|p| p.luminance_psnr).fold(f64::INFINITY, f64::min),
    }
}

/// A review sheet: each photo's input beside its colorized result, `pairs_per_row` pairs to a
/// row, every picture scaled to `height` px high, on a white ground with 8 px gaps.
pub fn review_sheet(pairs: &[(RgbImage, RgbImage)], height: u32, pairs_per_row: usize) -> RgbImage {
    use image::imageops::{self, FilterType};
    const GAP: u32 = 8;
    let scaled: Vec<(RgbImage, RgbImage)> = pairs
        .iter()
        .map(|(a, b)| {
            let w = (a.width() as f64 * height as f64 / a.height().max(1) as f64).round().max(1.0) as u32;
            (imageops::resize(a, w, height, FilterType::Triangle), imageops::resize(b, w, height, FilterType::Triangle))
        })
        .collect();
    let rows: Vec<&[(RgbImage, RgbImage)]> = scaled.chunks(pairs_per_row.max(1)).collect();
    let row_width = |row: &[(RgbImage, RgbImage)]| row.iter().map(|(a, _)| 2 * a.width() + 3 * GAP).sum::<u32>() + GAP;
    let width = rows.iter().map(|r| row_width(r)).max().unwrap_or(GAP);
    let mut sheet = RgbImage::from_pixel(width, rows.len() as u32 * (height + GAP) + GAP, image::Rgb([255, 255, 255]));
    for (r, row) in rows.iter().enumerate() {
        let y = GAP + r as u32 * (height + GAP);
        let mut x = GAP;
        for (a, b) in row.iter() {
            imageops::replace(&mut sheet, a, x as i64, y as i64);
            imageops::replace(&mut sheet, b, (x + a.width() + GAP) as i64, y as i64);
            x += 2 * a.width() + 3 * GAP;
        }
    }
    sheet
}
