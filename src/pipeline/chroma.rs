//! Putting colour under the original's luminance, and the colour controls. Everything here
//! changes chroma only: the luminance a person sees is the scan's own.

use image::{ImageBuffer, Rgb, RgbImage};

use rayon::prelude::*;

use super::deoldify::{rgb_to_yuv, yuv_to_rgb};

/// Rows per parallel work item.
const PAR_ROWS: usize = 16;

pub type Rgb16Image = ImageBuffer<Rgb<u16>, Vec<u16>>;

/// Colour strength and cast, applied to the chroma (U, V) planes only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChromaControls {
    /// 0 = grey, 1 = as the model made it, 2 = twice as strong.
    pub saturation: f32,
    /// −1 … 1: cooler (blue) to warmer (orange).
    pub warmth: f32,
    /// −1 … 1: greener to more magenta.
    pub tint: f32,
}

impl Default for ChromaControls {
    fn default() -> Self {
        Self { saturation: 1.0, warmth: 0.0, tint: 0.0 }
    }
}

impl ChromaControls {
    pub fn is_identity(&self) -> bool {
        *self == Self::default()
    }

    /// Adjusted (U, V) around their neutral value 0, in units of the 8-bit planes.
    /// Warmth moves along orange–blue (V up, U down), tint along magenta–green (U and V up).
    #[inline]
    fn apply(&self, u: f32, v: f32) -> (f32, f32) {
        const STEP: f32 = 12.0; // full-scale shift, in 8-bit chroma units
        let u = u * self.saturation - self.warmth * STEP * 0.6 + self.tint * STEP * 0.5;
        let v = v * self.saturation + self.warmth * STEP + self.tint * STEP * 0.5;
        (u, v)
    }
}

/// Y from `orig`, U and V from `colour` (same size), through OpenCV's exact 8-bit formulas
/// as DeOldify does; controls other than the identity act on U, V before the way back.
pub fn merge_8bit(orig: &RgbImage, colour: &RgbImage, controls: &ChromaControls) -> RgbImage {
    assert_eq!(orig.dimensions(), colour.dimensions(), "merge needs equal sizes");
    let mut out = RgbImage::new(orig.width(), orig.height());
    let identity = controls.is_identity();
    let chunk = PAR_ROWS * 3 * (orig.width() as usize).max(1);
    let rows = orig.as_raw().par_chunks(chunk).zip(colour.as_raw().par_chunks(chunk));
    out.as_mut().par_chunks_mut(chunk).zip(rows).for_each(|(out, (orig, colour))| {
        for ((o, c), dst) in orig.chunks_exact(3).zip(colour.chunks_exact(3)).zip(out.chunks_exact_mut(3)) {
            let [y, _, _] = rgb_to_yuv(o[0], o[1], o[2]);
            let [_, mut u, mut v] = rgb_to_yuv(c[0], c[1], c[2]);
            if !identity {
                let (nu, nv) = controls.apply(u as f32 - 128.0, v as f32 - 128.0);
                u = (nu + 128.0).round().clamp(0.0, 255.0) as u8;
                v = (nv + 128.0).round().clamp(0.0, 255.0) as u8;
            }
            dst.copy_from_slice(&yuv_to_rgb(y, u, v));
        }
    });
    out
}

/// The 16-bit version: the original's 16-bit luminance with the model's chroma. The same
/// analogue YUV as OpenCV (Y = .299R + .587G + .114B, U = .492(B − Y), V = .877(R − Y)) in
/// floating point: chroma comes from the 8-bit colour image (already resized to full size
/// with Pillow's bilinear), luminance keeps all 16 bits. Where the chroma would push a channel
/// out of range, the chroma is shortened instead of clipping the channel, so Y stays exact.
pub fn merge_16bit(orig: &Rgb16Image, colour: &RgbImage, controls: &ChromaControls) -> Rgb16Image {
    assert_eq!(orig.dimensions(), colour.dimensions(), "merge needs equal sizes");
    let mut out = Rgb16Image::new(orig.width(), orig.height());
    let luma = |r: f32, g: f32, b: f32| 0.299 * r + 0.587 * g + 0.114 * b;
    let chunk = PAR_ROWS * 3 * (orig.width() as usize).max(1);
    let rows = orig.as_raw().par_chunks(chunk).zip(colour.as_raw().par_chunks(chunk));
    out.as_mut().par_chunks_mut(chunk).zip(rows).for_each(|(out, (orig, colour))| {
        for ((o, c), dst) in orig.chunks_exact(3).zip(colour.chunks_exact(3)).zip(out.chunks_exact_mut(3)) {
            let y = luma(o[0] as f32, o[1] as f32, o[2] as f32) / 65535.0;
            let (cr, cg, cb) = (c[0] as f32, c[1] as f32, c[2] as f32);
            let cy = luma(cr, cg, cb);
            let (u, v) = controls.apply(0.492 * (cb - cy), 0.877 * (cr - cy));
            // Channel offsets from Y; their luma-weighted sum is zero.
            let dr = v / 0.877 / 255.0;
            let db = u / 0.492 / 255.0;
            let dg = -(0.299 * dr + 0.114 * db) / 0.587;
            let mut t = 1.0f32;
            for d in [dr, dg, db] {
                if d > 0.0 {
                    t = t.min((1.0 - y) / d);
                } else if d < 0.0 {
                    t = t.min(y / -d);
                }
            }
            let t = t.max(0.0);
            for (dst, d) in dst.iter_mut().zip([dr, dg, db]) {
                // Non-negative after the clamp, so +0.5 and truncation round to nearest.
                *dst = (((y + t * d) * 65535.0).clamp(0.0, 65535.0) + 0.5) as u16;
            }
        }
    });
    out
}
