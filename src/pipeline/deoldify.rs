//! DeOldify's image pipeline (`ColorizerFilter`), bit for bit: Pillow's BILINEAR stretch to a
//! 16·render_factor square, Pillow's luma, ImageNet normalisation; after the model, the single
//! denormalisation, clamp and truncation, Pillow's resize back, and OpenCV's YUV merge that
//! keeps the original's luminance.
//!
//! Resize, luma and YUV are written out here rather than taken from `image` or
//! `fast_image_resize`: only Pillow's and OpenCV's exact fixed-point arithmetic reproduces
//! upstream's pixels (see shared/design/deoldify-model.md, pitfalls 10–13).

use candle_core::{Device, Tensor};
use image::{GrayImage, RgbImage};
use rayon::prelude::*;

pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Pillow's 8-bit resampling precision: 32 − 8 − 2 fractional bits.
const PRECISION_BITS: u32 = 22;

/// One output sample's taps: first input index and fixed-point weights.
struct Taps {
    first: usize,
    weights: Vec<i32>,
}

/// Pillow's `precompute_coeffs` for the triangle (BILINEAR) filter, support widened by the
/// scale when shrinking, weights normalised then rounded half away from zero to 22 bits.
fn bilinear_taps(in_size: usize, out_size: usize) -> Vec<Taps> {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = filter_scale;
    let inv = 1.0 / filter_scale;
    (0..out_size)
        .map(|o| {
            let center = (o as f64 + 0.5) * scale;
            // C casts truncate toward zero, like Pillow's `(int)`.
            let lo = ((center - support + 0.5) as i64).max(0) as usize;
            let hi = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let raw: Vec<f64> = (lo..hi).map(|i| (1.0 - ((i as f64 - center + 0.5) * inv).abs()).max(0.0)).collect();
            let total: f64 = raw.iter().sum();
            let one = (1u64 << PRECISION_BITS) as f64;
            let weights = raw
                .iter()
                .map(|&w| {
                    let w = if total != 0.0 { w / total } else { w };
                    if w < 0.0 { (-0.5 + w * one) as i32 } else { (0.5 + w * one) as i32 }
                })
                .collect();
            Taps { first: lo, weights }
        })
        .collect()
}

#[inline]
fn clip8(acc: i64) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Pillow ≤ 12's `Image.resize((w, h), BILINEAR)` on RGB: the horizontal pass into an 8-bit
/// intermediate, then the vertical pass (a pass is skipped when that size is unchanged).
pub fn pil_bilinear_resize(src: &RgbImage, out_w: u32, out_h: u32) -> RgbImage {
    let (w, h) = src.dimensions();
    let mut img = src.clone();
    if out_w != w {
        let taps = bilinear_taps(w as usize, out_w as usize);
        let mut out = RgbImage::new(out_w, h);
        let (sw, ow) = (w as usize * 3, out_w as usize * 3);
        let src = img.as_raw();
        out.par_chunks_exact_mut(ow.max(1)).zip(src.par_chunks_exact(sw.max(1))).for_each(|(out_row, src_row)| {
            for (x, t) in taps.iter().enumerate() {
                for c in 0..3 {
                    let mut acc: i64 = 1 << (PRECISION_BITS - 1);
                    for (j, &k) in t.weights.iter().enumerate() {
                        acc += src_row[(t.first + j) * 3 + c] as i64 * k as i64;
                    }
                    out_row[x * 3 + c] = clip8(acc);
                }
            }
        });
        img = out;
    }
    if out_h != h {
        let taps = bilinear_taps(h as usize, out_h as usize);
        let row = img.width() as usize * 3;
        let mut out = RgbImage::new(img.width(), out_h);
        let input = img.as_raw();
        out.par_chunks_exact_mut(row.max(1)).zip(taps.par_iter()).for_each(|(out_row, t)| {
            for (i, v) in out_row.iter_mut().enumerate() {
                let mut acc: i64 = 1 << (PRECISION_BITS - 1);
                for (j, &k) in t.weights.iter().enumerate() {
                    acc += input[(t.first + j) * row + i] as i64 * k as i64;
                }
                *v = clip8(acc);
            }
        });
        img = out;
    }
    img
}

/// Pillow's `convert('L')`: ITU-R 601 luma in 16-bit fixed point.
pub fn pil_luma(rgb: &RgbImage) -> GrayImage {
    let (w, h) = rgb.dimensions();
    let data = rgb
        .as_raw()
        .chunks_exact(3)
        .map(|p| ((19595 * p[0] as u32 + 38470 * p[1] as u32 + 7471 * p[2] as u32 + 0x8000) >> 16) as u8)
        .collect();
    GrayImage::from_raw(w, h, data).expect("one byte per pixel")
}

/// The model's input: the grey square replicated to 3 channels, `/255` (true division), then
/// `(x − mean) / std` per channel, all in f32 as torchvision does. Shape (1, 3, S, S).
pub fn normalise(grey: &GrayImage, device: &Device) -> candle_core::Result<Tensor> {
    let (w, h) = grey.dimensions();
    let mut data = Vec::with_capacity(3 * grey.len());
    for c in 0..3 {
        data.extend(grey.as_raw().iter().map(|&v| (v as f32 / 255.0 - IMAGENET_MEAN[c]) / IMAGENET_STD[c]));
    }
    Tensor::from_vec(data, (1, 3, h as usize, w as usize), device)
}

/// Steps 2–3: stretch to the render square and grey it.
pub fn grey_square(orig: &RgbImage, render_factor: u32) -> GrayImage {
    let size = 16 * render_factor;
    grey_resized(orig, size, size)
}

/// Steps 2–3 for any size the network takes.
pub fn grey_resized(orig: &RgbImage, w: u32, h: u32) -> GrayImage {
    pil_luma(&pil_bilinear_resize(orig, w, h))
}

/// Steps 2–4: stretch to the render square, grey it, normalise.
pub fn prepare(orig: &RgbImage, render_factor: u32, device: &Device) -> candle_core::Result<(GrayImage, Tensor)> {
    let grey = grey_square(orig, render_factor);
    let x = normalise(&grey, device)?;
    Ok((grey, x))
}

/// Steps 6–7: `y·std + mean` (two f32 operations), clamp to [0, 1], `×255`, truncate.
pub fn denormalise(y: &Tensor) -> candle_core::Result<RgbImage> {
    let (_, c, h, w) = y.dims4()?;
    if c != 3 {
        candle_core::bail!("model output has {c} channels, expected 3");
    }
    let planes = y.squeeze(0)?.to_dtype(candle_core::DType::F32)?.to_vec3::<f32>()?;
    let mut out = RgbImage::new(w as u32, h as u32);
    for (i, px) in out.as_mut().chunks_exact_mut(3).enumerate() {
        let (row, col) = (i / w, i % w);
        for ch in 0..3 {
            let v = planes[ch][row][col] * IMAGENET_STD[ch];
            let v = (v + IMAGENET_MEAN[ch]).clamp(0.0, 1.0);
            px[ch] = (v * 255.0) as u8;
        }
    }
    Ok(out)
}

/// OpenCV's 14-bit fixed-point rounding shift.
#[inline]
fn descale14(x: i32) -> i32 {
    (x + (1 << 13)) >> 14
}

/// OpenCV `cvtColor(RGB2YUV)` for 8-bit (analogue YUV: 0.492/0.877 chroma scales).
#[inline]
pub fn rgb_to_yuv(r: u8, g: u8, b: u8) -> [u8; 3] {
    let (r, g, b) = (r as i32, g as i32, b as i32);
    let y = descale14(r * 4899 + g * 9617 + b * 1868);
    let u = descale14((b - y) * 8061 + (128 << 14));
    let v = descale14((r - y) * 14369 + (128 << 14));
    [y.clamp(0, 255) as u8, u.clamp(0, 255) as u8, v.clamp(0, 255) as u8]
}

/// OpenCV `cvtColor(YUV2RGB)` for 8-bit.
#[inline]
pub fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let (y, u, v) = (y as i32, u as i32 - 128, v as i32 - 128);
    let r = y + descale14(v * 18678);
    let g = y + descale14(u * -6472 + v * -9519);
    let b = y + descale14(u * 33292);
    [r.clamp(0, 255) as u8, g.clamp(0, 255) as u8, b.clamp(0, 255) as u8]
}

/// Step 9: Y from the original, U and V from the colour image (same size).
pub fn merge_chroma(orig: &RgbImage, colour: &RgbImage) -> RgbImage {
    super::chroma::merge_8bit(orig, colour, &super::chroma::ChromaControls::default())
}

/// Steps 6–9: model output → the final full-size image with the original's luminance.
/// Returns (model output as u8, colour resized back, final).
pub fn finish(orig: &RgbImage, y: &Tensor) -> candle_core::Result<(RgbImage, RgbImage, RgbImage)> {
    let square = denormalise(y)?;
    let raw = pil_bilinear_resize(&square, orig.width(), orig.height());
    let merged = merge_chroma(orig, &raw);
    Ok((square, raw, merged))
}
