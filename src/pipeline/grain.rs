//! Grain filter: non-local means (Buades, Coll & Morel 2005) on the grey square the compact
//! colorizer sees, never on the photo the result is made from.
//!
//! Why: the compact model reads fine grain as "old, so brown". Grain of a grey level or two at
//! the model's scale (what scanned prints have) turns skies and backdrops sepia; with the grain
//! smoothed away the same model colours them as it colours clean photos (training/experiments.md).
//! Non-local means averages each pixel with pixels whose 7×7 neighbourhoods look alike, so
//! grain goes and edges stay; a Gaussian blur of the same strength leaves the brown in place.
//!
//! The weights are OpenCV's `fastNlMeansDenoising`'s (7×7 patches, 21×21 search window,
//! `exp(−mean squared patch difference / h²)`, weights under 0.001 dropped), so `h` means the
//! same as there. Patch distances are box sums per search offset, so the cost is
//! O(pixels · offsets), about 0.1 s at render factor 35 on two cores.

use image::GrayImage;
use rayon::prelude::*;

const PATCH_RADIUS: usize = 3;
const SEARCH_RADIUS: usize = 10;
const PATCH_DIAMETER: usize = 2 * PATCH_RADIUS + 1;
/// Below this a neighbour's weight is dropped, as in OpenCV.
const WEIGHT_THRESHOLD: f32 = 1e-3;
const ROWS_PER_TASK: usize = 16;

/// Denoises `grey` with filter strength `h` in grey levels (0 returns it unchanged).
pub fn non_local_means(grey: &GrayImage, h: f32) -> GrayImage {
    if h <= 0.0 || grey.width() == 0 || grey.height() == 0 {
        return grey.clone();
    }
    let (width, height) = (grey.width() as usize, grey.height() as usize);
    let margin = PATCH_RADIUS + SEARCH_RADIUS;
    let padded_width = width + 2 * margin;
    let padded = reflect_pad(grey, margin);
    let patch_area = (PATCH_DIAMETER * PATCH_DIAMETER) as f32;
    // Weight by patch sum of squared differences; beyond `cutoff` the weight is dropped.
    let cutoff = (-WEIGHT_THRESHOLD.ln() * h * h * patch_area).ceil() as usize;
    let weight: Vec<f32> = (0..cutoff).map(|ssd| (-(ssd as f32) / patch_area / (h * h)).exp()).collect();

    let mut out = vec![0u8; width * height];
    out.par_chunks_mut(ROWS_PER_TASK * width).enumerate().for_each(|(task, rows_out)| {
        let y0 = task * ROWS_PER_TASK;
        let rows = rows_out.len() / width;
        let (band_width, band_height) = (width + 2 * PATCH_RADIUS, rows + 2 * PATCH_RADIUS);
        let mut sum = vec![0f32; rows * width];
        let mut total_weight = vec![0f32; rows * width];
        let mut diff = vec![0i32; band_height * band_width];
        let mut column = vec![0i32; band_width];
        let search = -(SEARCH_RADIUS as isize)..=SEARCH_RADIUS as isize;
        for dy in search.clone() {
            for dx in search.clone() {
                let offset = dy * padded_width as isize + dx;
                // Squared differences over the band's patches: padded row y0 + SEARCH_RADIUS + i
                // holds the patch rows of output rows y0 .. y0 + rows.
                for (i, diff_row) in diff.chunks_exact_mut(band_width).enumerate() {
                    let start = (y0 + SEARCH_RADIUS + i) * padded_width + SEARCH_RADIUS;
                    let here = &padded[start..start + band_width];
                    let there_start = (start as isize + offset) as usize;
                    let there = &padded[there_start..there_start + band_width];
                    for ((d, &a), &b) in diff_row.iter_mut().zip(here).zip(there) {
                        *d = (a - b) * (a - b);
                    }
                }
                column.fill(0);
                for diff_row in diff.chunks_exact(band_width).take(PATCH_DIAMETER) {
                    column.iter_mut().zip(diff_row).for_each(|(c, &d)| *c += d);
                }
                for y in 0..rows {
                    if y > 0 {
                        let (leaving, entering) = ((y - 1) * band_width, (y + 2 * PATCH_RADIUS) * band_width);
                        for (x, c) in column.iter_mut().enumerate() {
                            *c += diff[entering + x] - diff[leaving + x];
                        }
                    }
                    let start = (((y0 + y + margin) * padded_width + margin) as isize + offset) as usize;
                    let neighbours = &padded[start..start + width];
                    let mut ssd: i32 = column[..PATCH_DIAMETER].iter().sum();
                    for x in 0..width {
                        if x > 0 {
                            ssd += column[x + 2 * PATCH_RADIUS] - column[x - 1];
                        }
                        if let Some(&w) = weight.get(ssd as usize) {
                            sum[y * width + x] += w * neighbours[x] as f32;
                            total_weight[y * width + x] += w;
                        }
                    }
                }
            }
        }
        // The pixel itself always has weight 1, so the total is never 0.
        for ((o, s), t) in rows_out.iter_mut().zip(&sum).zip(&total_weight) {
            *o = (s / t).round().clamp(0.0, 255.0) as u8;
        }
    });
    GrayImage::from_raw(width as u32, height as u32, out).expect("one byte per pixel")
}

/// `grey` as i32 with `margin` pixels mirrored on every side (OpenCV's BORDER_REFLECT_101).
fn reflect_pad(grey: &GrayImage, margin: usize) -> Vec<i32> {
    let (width, height) = (grey.width() as usize, grey.height() as usize);
    // Reflection repeats for images smaller than the margin; a one-pixel side has nothing to mirror.
    let mirror = |mut i: isize, n: usize| -> usize {
        let n = n as isize;
        if n == 1 {
            return 0;
        }
        while i < 0 || i >= n {
            i = if i < 0 { -i } else { 2 * (n - 1) - i };
        }
        i as usize
    };
    let raw = grey.as_raw();
    let mut padded = Vec::with_capacity((width + 2 * margin) * (height + 2 * margin));
    for y in -(margin as isize)..(height + margin) as isize {
        let row = mirror(y, height) * width;
        for x in -(margin as isize)..(width + margin) as isize {
            padded.push(raw[row + mirror(x, width)] as i32);
        }
    }
    padded
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic grey-level noise in [-amplitude, amplitude] (a small LCG).
    fn noisy(base: impl Fn(u32, u32) -> f32, amplitude: f32, size: u32) -> GrayImage {
        let mut state = 12345u32;
        GrayImage::from_fn(size, size, |x, y| {
            state = state.wrapping_mul(1664525).wrapping_add(1013904223);
            let n = (state >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0;
            image::Luma([(base(x, y) + amplitude * n).round().clamp(0.0, 255.0) as u8])
        })
    }

    fn rms(a: &GrayImage, b: impl Fn(u32, u32) -> f32) -> f32 {
        let n = a.len() as f32;
        (a.enumerate_pixels().map(|(x, y, p)| (p[0] as f32 - b(x, y)).powi(2)).sum::<f32>() / n).sqrt()
    }

    #[test]
    fn strength_zero_is_the_identity() {
        let img = noisy(|_, _| 128.0, 20.0, 40);
        assert_eq!(non_local_means(&img, 0.0), img);
    }

    #[test]
    fn removes_grain_and_keeps_an_edge() {
        // A step from 60 to 190 under grain of about 3 grey levels rms.
        let step = |x: u32, _: u32| if x < 32 { 60.0 } else { 190.0 };
        let img = noisy(step, 5.0, 64);
        let out = non_local_means(&img, 5.0);
        assert!(rms(&img, step) > 2.5);
        assert!(rms(&out, step) < 1.0, "grain left: {}", rms(&out, step));
        // The edge stays sharp: the columns beside it keep their levels.
        for y in 0..64 {
            assert!(out.get_pixel(30, y)[0] < 70 && out.get_pixel(33, y)[0] > 180);
        }
    }

    #[test]
    fn flat_and_tiny_images_survive() {
        let flat = GrayImage::from_pixel(50, 30, image::Luma([77]));
        assert_eq!(non_local_means(&flat, 8.0), flat);
        for size in [1, 2, 5] {
            let img = noisy(|_, _| 100.0, 10.0, size);
            assert_eq!(non_local_means(&img, 8.0).dimensions(), (size, size));
        }
    }
}
