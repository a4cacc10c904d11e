//! Fading repair ("defade"), which DeOldify promised and never shipped.
//!
//! A faded print is modelled per channel as `observed = original·gain + lift`, where the lift
//! may also vary smoothly across the print (uneven fading toward the paper). The repair:
//! 1. uneven fading: the per-tile black point (darkest channel's 1st percentile) is fitted with
//!    a plane by its lower envelope; a tilt of more than 0.15 across the print is removed as
//!    fading toward white, `(x − r) / (1 − r)` (a smaller tilt is content, not fading);
//! 2. black and white points: each channel's 0.01 % and 99.99 % percentiles are mapped to
//!    those of ordinary photographs (measured on the training photos), which restores contrast,
//!    lifted blacks and the balance between channels (a yellowed print's blue channel).
//!
//! Measured on the training set's validation photos before testing on the evaluation set; see
//! tests/defade.rs. `strength` blends the input with the repair: 0 returns the input unchanged.

use image::{ImageBuffer, Pixel, Rgb};

const TILES: usize = 8;
const TILE_PERCENTILE: f32 = 0.01;
/// Below this tilt of the black-point plane, a gradient is taken as content.
const UNEVEN_MIN_TILT: f32 = 0.15;
/// Left in place of the estimated lift, so content never gets pushed below black.
const UNEVEN_DEAD_ZONE: f32 = 0.03;
const LOW_PERCENTILE: f32 = 1e-4;
const HIGH_PERCENTILE: f32 = 1.0 - 1e-4;
/// Those percentiles' mean over 200 training photos (BSDS500 train + ImageNet sample), per channel.
const PHOTO_BLACK: [f32; 3] = [0.028, 0.036, 0.018];
const PHOTO_WHITE: [f32; 3] = [0.979, 0.973, 0.940];
/// A channel is never stretched by more than this (a nearly flat channel is content, not fading).
const MAX_GAIN: f32 = 4.0;
const BINS: usize = 4096;

/// Percentile `q` of values in [0, 1] from a histogram (resolution 1/1024).
fn percentile(hist: &[u32; BINS], total: u64, q: f32) -> f32 {
    let target = (q as f64 * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0u64;
    for (i, &n) in hist.iter().enumerate() {
        seen += n as u64;
        if seen >= target {
            return (i as f32 + 0.5) / BINS as f32;
        }
    }
    1.0
}

#[inline]
fn bin(v: f32) -> usize {
    ((v * BINS as f32) as usize).min(BINS - 1)
}

/// Least-squares plane a + b·u + c·v through (u, v, value) points, refitted to the lower
/// envelope: points above the plane (tiles that are simply bright) are dropped each round.
fn lower_envelope_plane(points: &[(f32, f32, f32)]) -> [f32; 3] {
    let mut active: Vec<(f32, f32, f32)> = points.to_vec();
    let mut coeffs = fit_plane(&active);
    for _ in 0..8 {
        let kept: Vec<(f32, f32, f32)> =
            active.iter().copied().filter(|&(u, v, z)| z <= coeffs[0] + coeffs[1] * u + coeffs[2] * v).collect();
        if kept.len() < 3 || kept.len() == active.len() {
            break;
        }
        active = kept;
        coeffs = fit_plane(&active);
    }
    coeffs
}

fn fit_plane(points: &[(f32, f32, f32)]) -> [f32; 3] {
    // Normal equations for [1, u, v] in f64.
    let mut m = [[0f64; 3]; 3];
    let mut rhs = [0f64; 3];
    for &(u, v, z) in points {
        let row = [1.0, u as f64, v as f64];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] += row[i] * row[j];
            }
            rhs[i] += row[i] * z as f64;
        }
    }
    solve3(m, rhs).map(|s| [s[0] as f32, s[1] as f32, s[2] as f32]).unwrap_or_else(|| {
        let mean = points.iter().map(|p| p.2).sum::<f32>() / points.len() as f32;
        [mean, 0.0, 0.0]
    })
}

fn solve3(mut m: [[f64; 3]; 3], mut b: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let pivot = (col..3).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        b.swap(col, pivot);
        for row in 0..3 {
            if row != col {
                let f = m[row][col] / m[col][col];
                let pivot_row = m[col];
                for (x, p) in m[row].iter_mut().zip(pivot_row) {
                    *x -= f * p;
                }
                b[row] -= f * b[col];
            }
        }
    }
    Some([b[0] / m[0][0], b[1] / m[1][1], b[2] / m[2][2]])
}

/// The repair as a per-pixel function of (position, value), from the image's statistics.
struct Repair {
    /// Plane of the uneven lift over (u, v) ∈ [0, 1]², relative to its lowest corner; zero
    /// when the print is evenly faded.
    lift: [f32; 3],
    lo: [f32; 3],
    hi: [f32; 3],
}

impl Repair {
    fn estimate(px: &[[f32; 3]], width: usize, height: usize) -> Self {
        // 1. Uneven fading, from the darkest channel's black point per tile.
        let (tw, th) = (width.div_ceil(TILES), height.div_ceil(TILES));
        let mut points = Vec::with_capacity(TILES * TILES);
        for ty in 0..TILES {
            for tx in 0..TILES {
                let mut hists = vec![[0u32; BINS]; 3];
                let mut total = 0u64;
                for y in (ty * th)..((ty + 1) * th).min(height) {
                    for x in (tx * tw)..((tx + 1) * tw).min(width) {
                        let p = px[y * width + x];
                        for c in 0..3 {
                            hists[c][bin(p[c])] += 1;
                        }
                        total += 1;
                    }
                }
                if total > 0 {
                    let black =
                        (0..3).map(|c| percentile(&hists[c], total, TILE_PERCENTILE)).fold(f32::INFINITY, f32::min);
                    let u = ((tx as f32 + 0.5) * tw as f32 / width as f32).min(1.0);
                    let v = ((ty as f32 + 0.5) * th as f32 / height as f32).min(1.0);
                    points.push((u, v, black));
                }
            }
        }
        let plane = if points.len() >= 3 { lower_envelope_plane(&points) } else { [0.0; 3] };
        let at = |u: f32, v: f32| plane[0] + plane[1] * u + plane[2] * v;
        let corners = [at(0.0, 0.0), at(1.0, 0.0), at(0.0, 1.0), at(1.0, 1.0)];
        let min = corners.iter().copied().fold(f32::INFINITY, f32::min);
        let max = corners.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let lift = if max - min >= UNEVEN_MIN_TILT { [plane[0] - min, plane[1], plane[2]] } else { [0.0; 3] };
        let mut repair = Self { lift, lo: [0.0; 3], hi: [1.0; 3] };

        // 2. Black and white points per channel, after the uneven lift is gone.
        let mut hists = vec![[0u32; BINS]; 3];
        for (i, p) in px.iter().enumerate() {
            let (u, v) = ((i % width) as f32 / width as f32, (i / width) as f32 / height as f32);
            let q = repair.unlift(u, v, *p);
            for c in 0..3 {
                hists[c][bin(q[c])] += 1;
            }
        }
        let total = px.len() as u64;
        for (c, hist) in hists.iter().enumerate() {
            let lo = percentile(hist, total, LOW_PERCENTILE);
            let hi = percentile(hist, total, HIGH_PERCENTILE).max(lo + 1.0 / MAX_GAIN);
            repair.lo[c] = lo;
            repair.hi[c] = hi;
        }
        repair
    }

    #[inline]
    fn unlift(&self, u: f32, v: f32, p: [f32; 3]) -> [f32; 3] {
        let r = (self.lift[0] + self.lift[1] * u + self.lift[2] * v - UNEVEN_DEAD_ZONE).clamp(0.0, 0.9);
        if r == 0.0 {
            return p;
        }
        p.map(|x| ((x - r) / (1.0 - r)).clamp(0.0, 1.0))
    }

    #[inline]
    fn apply(&self, u: f32, v: f32, p: [f32; 3]) -> [f32; 3] {
        let q = self.unlift(u, v, p);
        let mut out = q;
        for c in 0..3 {
            let t = ((q[c] - self.lo[c]) / (self.hi[c] - self.lo[c])).clamp(0.0, 1.0);
            out[c] = PHOTO_BLACK[c] + t * (PHOTO_WHITE[c] - PHOTO_BLACK[c]);
        }
        out
    }
}

/// Repairs fading in an RGB image of any sample type (8- or 16-bit), blended by `strength`
/// in [0, 1]. At 0 the input comes back unchanged.
pub fn defade<S>(img: &ImageBuffer<Rgb<S>, Vec<S>>, strength: f32) -> ImageBuffer<Rgb<S>, Vec<S>>
where
    Rgb<S>: Pixel<Subpixel = S>,
    S: image::Primitive + Into<f32> + 'static,
{
    let strength = strength.clamp(0.0, 1.0);
    if strength == 0.0 || img.width() == 0 || img.height() == 0 {
        return img.clone();
    }
    let max: f32 = S::DEFAULT_MAX_VALUE.into();
    let (width, height) = (img.width() as usize, img.height() as usize);
    let px: Vec<[f32; 3]> =
        img.pixels().map(|p| [p.0[0].into() / max, p.0[1].into() / max, p.0[2].into() / max]).collect();
    let repair = Repair::estimate(&px, width, height);
    let mut out = img.clone();
    for (i, p) in out.pixels_mut().enumerate() {
        let (u, v) = ((i % width) as f32 / width as f32, (i / width) as f32 / height as f32);
        let fixed = repair.apply(u, v, px[i]);
        for c in 0..3 {
            let blended = px[i][c] + strength * (fixed[c] - px[i][c]);
            p.0[c] = <S as num_traits::NumCast>::from((blended * max).round().clamp(0.0, max))
                .unwrap_or(S::DEFAULT_MIN_VALUE);
        }
    }
    out
}
