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

/// Y from `orig`, U and V from `colour` (same size). With the identity controls this is
/// DeOldify's merge, through OpenCV's exact 8-bit formulas (a channel pushed out of range
/// saturates, as upstream). Other controls go through [`place_chroma`], which keeps the
/// luminance exact by shortening out-of-gamut chroma.
pub fn merge_8bit(orig: &RgbImage, colour: &RgbImage, controls: &ChromaControls) -> RgbImage {
    assert_eq!(orig.dimensions(), colour.dimensions(), "merge needs equal sizes");
    let mut out = RgbImage::new(orig.width(), orig.height());
    let identity = controls.is_identity();
    let chunk = PAR_ROWS * 3 * (orig.width() as usize).max(1);
    let rows = orig.as_raw().par_chunks(chunk).zip(colour.as_raw().par_chunks(chunk));
    out.as_mut().par_chunks_mut(chunk).zip(rows).for_each(|(out, (orig, colour))| {
        for ((o, c), dst) in orig.chunks_exact(3).zip(colour.chunks_exact(3)).zip(out.chunks_exact_mut(3)) {
            if identity {
                let [y, _, _] = rgb_to_yuv(o[0], o[1], o[2]);
                let [_, u, v] = rgb_to_yuv(c[0], c[1], c[2]);
                dst.copy_from_slice(&yuv_to_rgb(y, u, v));
            } else {
                let y = luma(o[0] as f32, o[1] as f32, o[2] as f32) / 255.0;
                let rgb = place_chroma(y, [c[0] as f32, c[1] as f32, c[2] as f32], controls);
                for (d, x) in dst.iter_mut().zip(rgb) {
                    *d = ((x * 255.0).clamp(0.0, 255.0) + 0.5) as u8;
                }
            }
        }
    });
    out
}

fn luma(r: f32, g: f32, b: f32) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

/// The colour's chroma (analogue YUV as OpenCV: U = .492(B − Y), V = .877(R − Y)), adjusted
/// by the controls, placed under luminance `y` (0–1). Where it would push a channel out of
/// range the chroma is shortened instead, so Y stays exact. Returns RGB in 0–1. Inlined into
/// the merges' pixel loops, where the compiler otherwise may not (and the merge of a 6 MP scan
/// took half as long again).
#[inline(always)]
fn place_chroma(y: f32, colour: [f32; 3], controls: &ChromaControls) -> [f32; 3] {
    let [cr, cg, cb] = colour;
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
    [y + t * dr, y + t * dg, y + t * db]
}

/// The 16-bit version: the original's 16-bit luminance with the model's chroma (from the
/// 8-bit colour image, already resized to full size with Pillow's bilinear), through
/// [`place_chroma`] in floating point, so luminance keeps all 16 bits.
pub fn merge_16bit(orig: &Rgb16Image, colour: &RgbImage, controls: &ChromaControls) -> Rgb16Image {
    assert_eq!(orig.dimensions(), colour.dimensions(), "merge needs equal sizes");
    let mut out = Rgb16Image::new(orig.width(), orig.height());
    let chunk = PAR_ROWS * 3 * (orig.width() as usize).max(1);
    let rows = orig.as_raw().par_chunks(chunk).zip(colour.as_raw().par_chunks(chunk));
    out.as_mut().par_chunks_mut(chunk).zip(rows).for_each(|(out, (orig, colour))| {
        for ((o, c), dst) in orig.chunks_exact(3).zip(colour.chunks_exact(3)).zip(out.chunks_exact_mut(3)) {
            let y = luma(o[0] as f32, o[1] as f32, o[2] as f32) / 65535.0;
            let rgb = place_chroma(y, [c[0] as f32, c[1] as f32, c[2] as f32], controls);
            for (d, x) in dst.iter_mut().zip(rgb) {
                // Non-negative after the clamp, so +0.5 and truncation round to nearest.
                *d = ((x * 65535.0).clamp(0.0, 65535.0) + 0.5) as u16;
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luma8(p: &[u8]) -> f32 {
        luma(p[0] as f32, p[1] as f32, p[2] as f32)
    }

    #[test]
    fn controls_change_colour_not_luminance() {
        let orig = RgbImage::from_fn(32, 32, |x, y| Rgb([(x * 6 + 20) as u8, (y * 6 + 20) as u8, 120]));
        let colour = RgbImage::from_fn(32, 32, |x, y| Rgb([200 - (x * 3) as u8, 90 + (y * 2) as u8, 60]));
        let base = merge_8bit(&orig, &colour, &ChromaControls::default());
        let grey = merge_8bit(&orig, &colour, &ChromaControls { saturation: 0.0, ..Default::default() });
        let warm = merge_8bit(&orig, &colour, &ChromaControls { warmth: 1.0, ..Default::default() });
        let vivid = merge_8bit(&orig, &colour, &ChromaControls { saturation: 2.0, tint: 0.5, ..Default::default() });
        for (((o, g), w), v) in orig.pixels().zip(grey.pixels()).zip(warm.pixels()).zip(vivid.pixels()) {
            // Saturation 0: the original's own grey.
            assert!(g.0[0] == g.0[1] && g.0[1] == g.0[2], "{g:?}");
            // Luminance stays the original's, but for the rounding of three channels.
            for out in [g, w, v] {
                assert!((luma8(&out.0) - luma8(&o.0)).abs() <= 0.6, "{o:?} → {out:?}");
            }
        }
        // Warmth adds red and takes blue, on average.
        let mean = |img: &RgbImage, c: usize| img.pixels().map(|p| p.0[c] as f64).sum::<f64>() / 1024.0;
        assert!(mean(&warm, 0) > mean(&base, 0) && mean(&warm, 2) < mean(&base, 2));
    }

    #[test]
    fn sixteen_bit_merge_keeps_luminance_exactly_and_colour_in_gamut() {
        let orig = Rgb16Image::from_fn(16, 16, |x, y| {
            let v = (x * 4000 + y * 97) as u16;
            Rgb([v, v, v])
        });
        let colour = RgbImage::from_fn(16, 16, |x, _| Rgb([255, (x * 8) as u8, 0]));
        for controls in [ChromaControls::default(), ChromaControls { saturation: 2.0, warmth: 1.0, tint: -1.0 }] {
            let out = merge_16bit(&orig, &colour, &controls);
            for (o, p) in orig.pixels().zip(out.pixels()) {
                let y = |p: &Rgb<u16>| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64;
                assert!((y(o) - y(p)).abs() < 1.0, "{o:?} → {p:?}");
            }
        }
    }
}
