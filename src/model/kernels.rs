//! CPU kernels for the steps candle runs as several whole-image passes or on one core: the
//! 1×1 convolution (one GEMM straight into the output, the bias preloaded), the 3×3
//! convolution of small maps (im2col + one GEMM over all cores; candle's tiles of 512 pixels
//! leave a 18×18 map to a single core), and fastai's upsampler tail (ReLU → pixel shuffle ×2
//! → replication pad → 2×2 mean) as one pass that writes into a preallocated concatenation.
//! Plain slices in, plain vectors out; `layers.rs` decides when they run.

use candle_core::{Result, Storage, Tensor, bail};
use rayon::prelude::*;

/// Runs `f` on the numbers of a contiguous f32 CPU tensor, without copying them.
pub fn with_f32<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
    let (storage, layout) = t.storage_and_layout();
    let (Storage::Cpu(candle_core::CpuStorage::F32(data)), Some((start, end))) =
        (&*storage, layout.contiguous_offsets())
    else {
        bail!("expected a contiguous f32 tensor on the CPU")
    };
    Ok(f(&data[start..end]))
}

/// `weight` (K, C) · `input` (C, N) + `bias` (K) → (K, N).
pub fn conv1x1(input: &[f32], c_in: usize, weight: &[f32], k_out: usize, bias: Option<&[f32]>) -> Vec<f32> {
    let n = input.len() / c_in;
    assert_eq!(input.len(), c_in * n);
    assert_eq!(weight.len(), k_out * c_in);
    let mut out = vec![0f32; k_out * n];
    if let Some(bias) = bias {
        out.par_chunks_mut(n).zip(bias).for_each(|(row, &b)| row.fill(b));
    }
    // SAFETY: out (K×N), weight (K×C) and input (C×N) are row-major and sized as asserted.
    unsafe {
        gemm::gemm(
            k_out,
            n,
            c_in,
            out.as_mut_ptr(),
            1,
            n as isize,
            bias.is_some(),
            weight.as_ptr(),
            1,
            c_in as isize,
            input.as_ptr(),
            1,
            n as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(rayon::current_num_threads()),
        )
    };
    out
}

/// The 3×3, stride-1, padding-1 convolution of `input` (C, H, W) by `weight` (K, C, 3, 3)
/// plus `bias`, as im2col and one GEMM: (K, H·W).
pub fn conv3x3_im2col(
    input: &[f32],
    (c_in, h, w): (usize, usize, usize),
    weight: &[f32],
    k_out: usize,
    bias: Option<&[f32]>,
) -> Vec<f32> {
    assert_eq!(input.len(), c_in * h * w);
    // Rows (c, i, j) in the weight's order; column y·W + x holds input (c, y + i − 1, x + j − 1).
    let mut columns = vec![0f32; c_in * 9 * h * w];
    columns.par_chunks_mut(9 * h * w).enumerate().for_each(|(c, rows)| {
        let plane = &input[c * h * w..][..h * w];
        for (tap, row) in rows.chunks_mut(h * w).enumerate() {
            let (dy, dx) = ((tap / 3) as isize - 1, (tap % 3) as isize - 1);
            for y in 0..h {
                let sy = y as isize + dy;
                if sy < 0 || sy >= h as isize {
                    continue;
                }
                let src = &plane[sy as usize * w..][..w];
                let dst = &mut row[y * w..][..w];
                // Columns x whose source x + dx is inside the row.
                let (x0, x1) = ((-dx).max(0) as usize, (w as isize - dx).min(w as isize) as usize);
                dst[x0..x1].copy_from_slice(&src[(x0 as isize + dx) as usize..(x1 as isize + dx) as usize]);
            }
        }
    });
    conv1x1(&columns, c_in * 9, weight, k_out, bias)
}

/// In place on (K, N) conv outputs: ReLU when `relu`, then `· scale + shift` per channel.
pub fn relu_affine(values: &mut [f32], k_out: usize, relu: bool, affine: Option<(&[f32], &[f32])>) {
    let n = values.len() / k_out;
    values.par_chunks_mut(n).enumerate().for_each(|(k, row)| {
        if relu {
            row.iter_mut().for_each(|v| *v = v.max(0.0));
        }
        if let Some((scale, shift)) = affine {
            row.iter_mut().for_each(|v| *v = *v * scale[k] + shift[k]);
        }
    });
}

/// ReLU, pixel shuffle ×2 and fastai's blur of `input` (4·C, H, W), cropped to (C, out_h,
/// out_w) with out_h ≤ 2H, out_w ≤ 2W, written into `out`.
///
/// The shuffle puts input channel 4c + 2i + j at output pixel (2y + i, 2x + j) of channel c;
/// the blur replicates the top row and left column, then averages each 2×2 window, so output
/// (Y, X) is the mean of the shuffled pixels at rows {max(Y−1, 0), Y} and columns
/// {max(X−1, 0), X}, summed in avg_pool2d's order.
pub fn relu_shuffle_blur(input: &[f32], (h, w): (usize, usize), (out_h, out_w): (usize, usize), out: &mut [f32]) {
    let c = out.len() / (out_h * out_w);
    assert_eq!(out.len(), c * out_h * out_w);
    assert_eq!(input.len(), 4 * c * h * w);
    assert!(out_h <= 2 * h && out_w <= 2 * w);
    out.par_chunks_mut(out_h * out_w).enumerate().for_each(|(ch, plane)| {
        let quad = &input[4 * ch * h * w..][..4 * h * w];
        // One shuffled row: even columns from sub-plane 2i, odd from 2i + 1.
        let shuffled = |y: usize, row: &mut [f32]| {
            let (src, i) = (y / 2, y % 2);
            let even = &quad[(2 * i) * h * w + src * w..][..w];
            let odd = &quad[(2 * i + 1) * h * w + src * w..][..w];
            for x in 0..out_w {
                let v = if x % 2 == 0 { even[x / 2] } else { odd[x / 2] };
                row[x] = v.max(0.0);
            }
        };
        let mut above = vec![0f32; out_w];
        let mut current = vec![0f32; out_w];
        shuffled(0, &mut above);
        for y in 0..out_h {
            shuffled(y, &mut current);
            let dst = &mut plane[y * out_w..][..out_w];
            dst[0] = (above[0] + above[0] + current[0] + current[0]) * 0.25;
            for x in 1..out_w {
                dst[x] = (above[x - 1] + above[x] + current[x - 1] + current[x]) * 0.25;
            }
            std::mem::swap(&mut above, &mut current);
        }
    });
}

/// What the kernels' tests compare against.
#[cfg(test)]
pub(crate) mod testing {
    use candle_core::{Device, Tensor};

    /// n values in [−1, 1), a fixed scramble of the index.
    pub fn numbers(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 / 500.0 - 1.0).collect()
    }

    /// candle's conv2d (stride 1, "same" padding) of `x` (C, H, W) by `weight` (K, C, k, k)
    /// plus `bias`: the reference.
    pub fn candle_conv(
        x: &[f32],
        (c, h, w): (usize, usize, usize),
        weight: &[f32],
        k: usize,
        bias: &[f32],
    ) -> Vec<f32> {
        let kernel = ((weight.len() / (k * c)) as f64).sqrt() as usize;
        let xt = Tensor::from_slice(x, (1, c, h, w), &Device::Cpu).unwrap();
        let wt = Tensor::from_slice(weight, (k, c, kernel, kernel), &Device::Cpu).unwrap();
        let bt = Tensor::from_slice(bias, (1, k, 1, 1), &Device::Cpu).unwrap();
        let y = xt.conv2d(&wt, kernel / 2, 1, 1, 1).unwrap().broadcast_add(&bt).unwrap();
        y.flatten_all().unwrap().to_vec1().unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{candle_conv, numbers};
    use super::*;
    use candle_core::Device;

    #[test]
    fn conv1x1_matches_candle() {
        let (c, k, h, w) = (7, 5, 6, 9);
        let (x, wt, b) = (numbers(c * h * w, 1), numbers(k * c, 2), numbers(k, 3));
        let got = conv1x1(&x, c, &wt, k, Some(&b));
        for (g, w) in got.iter().zip(&candle_conv(&x, (c, h, w), &wt, k, &b)) {
            assert!((g - w).abs() < 1e-5, "{g} vs {w}");
        }
    }

    #[test]
    fn conv3x3_im2col_matches_candle() {
        for (c, k, h, w) in [(5, 4, 7, 6), (3, 2, 1, 1), (2, 3, 2, 9)] {
            let (x, wt, b) = (numbers(c * h * w, 5), numbers(k * c * 9, 6), numbers(k, 7));
            let got = conv3x3_im2col(&x, (c, h, w), &wt, k, Some(&b));
            for (g, want) in got.iter().zip(&candle_conv(&x, (c, h, w), &wt, k, &b)) {
                assert!((g - want).abs() < 1e-5, "{c}×{h}×{w}: {g} vs {want}");
            }
        }
    }

    /// Bit for bit the candle ops it replaces, cropped and uncropped.
    #[test]
    fn relu_shuffle_blur_matches_candle() {
        let (c, h, w) = (3, 5, 4);
        let x = numbers(4 * c * h * w, 4);
        let xt = Tensor::from_vec(x.clone(), (1, 4 * c, h, w), &Device::Cpu).unwrap();
        let shuffled = candle_nn::ops::pixel_shuffle(&xt.relu().unwrap(), 2).unwrap();
        let padded = shuffled.pad_with_same(2, 1, 0).unwrap().pad_with_same(3, 1, 0).unwrap();
        let blurred = padded.avg_pool2d_with_stride((2, 2), (1, 1)).unwrap();
        for (oh, ow) in [(2 * h, 2 * w), (2 * h - 1, 2 * w - 1)] {
            let want: Vec<f32> =
                blurred.narrow(2, 0, oh).unwrap().narrow(3, 0, ow).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            let mut got = vec![0f32; c * oh * ow];
            relu_shuffle_blur(&x, (h, w), (oh, ow), &mut got);
            assert_eq!(got, want);
        }
    }
}
