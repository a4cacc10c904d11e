//! Winograd F(4×4, 3×3) convolution (Lavin & Gray, 2016) for the stride-1, "same"-padded 3×3
//! convs that carry most of DeOldify's arithmetic, on the CPU.
//!
//! Each 4×4 output tile of each (output, input) channel pair costs 36 multiplies instead of
//! 144: the input is cut into overlapping 6×6 tiles, both tiles and kernels are transformed
//! (Bᵀ·d·B, G·g·Gᵀ), the products summed over input channels become 36 independent GEMMs,
//! and Aᵀ·m·A turns each 6×6 result back into 4×4 outputs. The error is a few float
//! roundings larger than a direct convolution's (measured in the tests and BENCHMARKS.md).
//!
//! The image is processed in chunks of tile rows, one chunk per task, so the transformed
//! tiles stay small (a few MB) instead of 36/16 of the whole activation; the kernels are
//! transformed on each call (about 150 flops per kernel, against the GEMMs' 72 per kernel
//! and tile: 0.01 % of the work at 560×560, 2 % at 35×35) so no second copy of the weights
//! is kept. Bias, ReLU and a per-channel affine (a BatchNorm after the ReLU)
//! are applied while the output tiles are written.

use rayon::prelude::*;

/// Input tile side, output tile side.
const T: usize = 6;
const M: usize = 4;
/// Tiles transformed together: one row of 8 neighbouring tiles fills an AVX register.
const LANES: usize = 8;
/// Tiles per chunk to aim for: enough columns for an efficient GEMM, few enough to keep the
/// chunk's buffers in the caches.
const CHUNK_TILES: usize = 128;

type Lanes = [f32; LANES];

/// What happens to each output value: `relu(y + bias) · scale + shift`, each part optional,
/// added to what the output buffer holds when `accumulate` (a residual connection).
#[derive(Default, Clone, Copy)]
pub struct Epilogue<'a> {
    pub bias: Option<&'a [f32]>,
    pub relu: bool,
    pub affine: Option<(&'a [f32], &'a [f32])>,
    pub accumulate: bool,
}

/// Pixels from which Winograd pays: below about 32×32 the per-call kernel
/// transform and the padded tiles cost more than the multiplies saved (`cargo bench --bench
/// conv`: 1.4× faster than candle at 35×35, 2× slower at 18×18).
pub const MIN_PIXELS: usize = 32 * 32;

/// Whether Winograd runs on a `height × width` image. `TINTYPE_WINOGRAD=off` turns it off, to
/// time and compare against candle's own convolution.
pub fn worth_it(height: usize, width: usize) -> bool {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var("TINTYPE_WINOGRAD").map_or(true, |v| v != "off"))
        && height * width >= MIN_PIXELS
}

/// `weight` (K, C, 3, 3) → U laid out [36][K][C]: U[e] is the left factor of GEMM e.
fn transform_kernels(weight: &[f32], k_out: usize, c_in: usize) -> Vec<f32> {
    const G: [[f64; 3]; T] = [
        [0.25, 0.0, 0.0],
        [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
        [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
        [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
        [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
        [0.0, 0.0, 1.0],
    ];
    let plane = k_out * c_in;
    let mut u = vec![0f32; T * T * plane];
    // One output channel per task: task k writes U[e][k][..] for every e.
    let u_ptr = SharedOut(u.as_mut_ptr());
    (0..k_out).into_par_iter().for_each(|k| {
        let u_ptr = &u_ptr;
        for c in 0..c_in {
            let g = &weight[(k * c_in + c) * 9..][..9];
            // Gg: 6×3.
            let mut gg = [[0f64; 3]; T];
            for (i, row) in G.iter().enumerate() {
                for j in 0..3 {
                    gg[i][j] = row[0] * g[j] as f64 + row[1] * g[3 + j] as f64 + row[2] * g[6 + j] as f64;
                }
            }
            for (i, gi) in gg.iter().enumerate() {
                for (j, row) in G.iter().enumerate() {
                    let v = gi[0] * row[0] + gi[1] * row[1] + gi[2] * row[2];
                    // SAFETY: index (i·6+j, k, c) is written by this task only (k is its own).
                    unsafe { *u_ptr.0.add((i * T + j) * plane + k * c_in + c) = v as f32 };
                }
            }
        }
    });
    u
}

/// Bᵀ·d for six lane vectors (one column of six rows, each across 8 tiles).
#[inline(always)]
fn input_1d(d: &[Lanes; T]) -> [Lanes; T] {
    let mut r = [[0f32; LANES]; T];
    for l in 0..LANES {
        let [d0, d1, d2, d3, d4, d5] = [d[0][l], d[1][l], d[2][l], d[3][l], d[4][l], d[5][l]];
        r[0][l] = 4.0 * d0 - 5.0 * d2 + d4;
        r[1][l] = -4.0 * d1 - 4.0 * d2 + d3 + d4;
        r[2][l] = 4.0 * d1 - 4.0 * d2 - d3 + d4;
        r[3][l] = -2.0 * d1 - d2 + 2.0 * d3 + d4;
        r[4][l] = 2.0 * d1 - d2 - 2.0 * d3 + d4;
        r[5][l] = 4.0 * d1 - 5.0 * d3 + d5;
    }
    r
}

/// Aᵀ·m for six lane vectors.
#[inline(always)]
fn output_1d(m: &[Lanes; T]) -> [Lanes; M] {
    let mut r = [[0f32; LANES]; M];
    for l in 0..LANES {
        let [m0, m1, m2, m3, m4, m5] = [m[0][l], m[1][l], m[2][l], m[3][l], m[4][l], m[5][l]];
        let (a, b) = (m1 + m2, m1 - m2);
        let (c, d) = (m3 + m4, m3 - m4);
        r[0][l] = m0 + a + c;
        r[1][l] = b + 2.0 * d;
        r[2][l] = a + 4.0 * c;
        r[3][l] = b + 8.0 * d + m5;
    }
    r
}

/// A raw output pointer shared by tasks that write disjoint parts of one buffer.
struct SharedOut(*mut f32);
// SAFETY: every user writes a region no other task touches (documented at each use).
unsafe impl Sync for SharedOut {}

/// The 3×3, stride-1, padding-1 convolution of `input` (C, H, W) with `weight` (K, C, 3, 3),
/// then `epilogue`. Returns (K, H, W).
pub fn conv3x3(
    input: &[f32],
    dims: (usize, usize, usize),
    weight: &[f32],
    k_out: usize,
    epilogue: &Epilogue,
) -> Vec<f32> {
    let mut out = vec![0f32; k_out * dims.1 * dims.2];
    conv3x3_into(input, dims, weight, k_out, epilogue, &mut out);
    out
}

/// [`conv3x3`] into `out` (K, H, W): overwritten, or added to when `epilogue.accumulate`.
pub fn conv3x3_into(
    input: &[f32],
    (c_in, height, width): (usize, usize, usize),
    weight: &[f32],
    k_out: usize,
    epilogue: &Epilogue,
    out: &mut [f32],
) {
    assert_eq!(input.len(), c_in * height * width);
    assert_eq!(out.len(), k_out * height * width);
    assert_eq!(weight.len(), k_out * c_in * 9);
    let u = transform_kernels(weight, k_out, c_in);
    // Each tile row is padded to whole groups of 8 tiles, so every transform reads and writes
    // full lanes; the extra tiles see zeros and their outputs are never stored.
    let (tiles_y, tiles_x) = (height.div_ceil(M), width.div_ceil(M).next_multiple_of(LANES));
    let rows_per_chunk = CHUNK_TILES.div_ceil(tiles_x).max(1);
    let chunks = tiles_y.div_ceil(rows_per_chunk);
    // Few chunks (a small image): let each GEMM use every core instead.
    let threads = rayon::current_num_threads();
    let gemm_par = if chunks >= 2 * threads { gemm::Parallelism::None } else { gemm::Parallelism::Rayon(threads) };

    let out_ptr = SharedOut(out.as_mut_ptr());
    let geometry = Geometry { c_in, k_out, height, width, tiles_x };
    (0..chunks).into_par_iter().for_each(|chunk| {
        let rows = chunk * rows_per_chunk..((chunk + 1) * rows_per_chunk).min(tiles_y);
        let v = geometry.input_tiles(input, rows.clone());
        let n = rows.len() * tiles_x;
        let mut m = vec![0f32; T * T * k_out * n];
        for e in 0..T * T {
            // SAFETY: the pointers cover U[e] (K×C), V[e] (C×n) and M[e] (K×n), row-major.
            unsafe {
                gemm::gemm(
                    k_out,
                    n,
                    c_in,
                    m.as_mut_ptr().add(e * k_out * n),
                    1,
                    n as isize,
                    false,
                    u.as_ptr().add(e * k_out * c_in),
                    1,
                    c_in as isize,
                    v.as_ptr().add(e * c_in * n),
                    1,
                    n as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm_par,
                )
            };
        }
        // SAFETY: this chunk writes output rows 4·rows.start .. 4·rows.end only.
        unsafe { geometry.output_tiles(&m, rows, epilogue, &out_ptr) };
    });
}

#[derive(Clone, Copy)]
struct Geometry {
    c_in: usize,
    k_out: usize,
    height: usize,
    width: usize,
    /// Tiles per row, padded to a multiple of LANES.
    tiles_x: usize,
}

/// Compiles `$generic` (an `#[inline(always)]` method) a second time with AVX2 enabled and
/// picks that copy at run time where the CPU has it: the transforms are plain loops over
/// 8-lane arrays, which the baseline x86-64 target can only run 4 lanes at a time.
macro_rules! with_avx2 {
    ($self:ident, $generic:ident, $avx2:ident, ($($arg:expr),*)) => {{
        #[cfg(target_arch = "x86_64")]
        if !generic_only() && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, the only feature the copy was compiled for.
            return unsafe { $self.$avx2($($arg),*) };
        }
        // `unsafe` for the output transform, whose contract the caller carries.
        #[allow(unused_unsafe)]
        let result = unsafe { $self.$generic($($arg),*) };
        result
    }};
}

/// Tests set this to run the baseline copies on a machine that has AVX2.
#[cfg(test)]
static GENERIC_ONLY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[cfg(all(test, target_arch = "x86_64"))]
fn generic_only() -> bool {
    GENERIC_ONLY.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(all(not(test), target_arch = "x86_64"))]
fn generic_only() -> bool {
    false
}

impl Geometry {
    /// V for the tile rows `rows`: [36][C][n] with n = rows × tiles_x, tile index
    /// (row − rows.start)·tiles_x + column.
    fn input_tiles(&self, input: &[f32], rows: std::ops::Range<usize>) -> Vec<f32> {
        with_avx2!(self, input_tiles_generic, input_tiles_avx2, (input, rows))
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn input_tiles_avx2(&self, input: &[f32], rows: std::ops::Range<usize>) -> Vec<f32> {
        self.input_tiles_generic(input, rows)
    }

    #[inline(always)]
    fn input_tiles_generic(&self, input: &[f32], rows: std::ops::Range<usize>) -> Vec<f32> {
        let Geometry { c_in, height, width, tiles_x, .. } = *self;
        let n = rows.len() * tiles_x;
        let mut v = vec![0f32; T * T * c_in * n];
        // Six input rows, zero-padded by one column on the left and to the padded tiles on
        // the right, so the tiles read without bounds checks.
        let padded_w = tiles_x * M + 2;
        let mut strip = vec![0f32; T * padded_w];
        for c in 0..c_in {
            let plane = &input[c * height * width..][..height * width];
            for (r, ty) in rows.clone().enumerate() {
                for i in 0..T {
                    let dst = &mut strip[i * padded_w..][..padded_w];
                    let y = (ty * M + i) as isize - 1;
                    if y < 0 || y >= height as isize {
                        dst.fill(0.0);
                    } else {
                        dst[0] = 0.0;
                        dst[1..=width].copy_from_slice(&plane[y as usize * width..][..width]);
                        dst[width + 1..].fill(0.0);
                    }
                }
                for group in (0..tiles_x).step_by(LANES) {
                    let mut d = [[[0f32; LANES]; T]; T]; // [row][col][lane]
                    for (i, d_row) in d.iter_mut().enumerate() {
                        let src = &strip[i * padded_w + group * M..][..LANES * M + 2];
                        for l in 0..LANES {
                            for j in 0..T {
                                d_row[j][l] = src[l * M + j];
                            }
                        }
                    }
                    // Bᵀ·d (down the columns), then ·B (along the rows).
                    let mut cols = [[[0f32; LANES]; T]; T]; // [col][row][lane] after Bᵀ
                    for j in 0..T {
                        let column = [d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j]];
                        cols[j] = input_1d(&column);
                    }
                    let base = c * n + r * tiles_x + group;
                    for i in 0..T {
                        let row = [cols[0][i], cols[1][i], cols[2][i], cols[3][i], cols[4][i], cols[5][i]];
                        for (j, lanes) in input_1d(&row).iter().enumerate() {
                            v[(i * T + j) * c_in * n + base..][..LANES].copy_from_slice(lanes);
                        }
                    }
                }
            }
        }
        v
    }

    /// Aᵀ·m·A of every tile in `m` ([36][K][n]), the epilogue, written into the output.
    ///
    /// # Safety
    /// `out` must point at a (K, H, W) buffer in which no one else writes rows
    /// 4·rows.start .. 4·rows.end while this runs.
    unsafe fn output_tiles(&self, m: &[f32], rows: std::ops::Range<usize>, epilogue: &Epilogue, out: &SharedOut) {
        with_avx2!(self, output_tiles_generic, output_tiles_avx2, (m, rows, epilogue, out))
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn output_tiles_avx2(&self, m: &[f32], rows: std::ops::Range<usize>, epilogue: &Epilogue, out: &SharedOut) {
        unsafe { self.output_tiles_generic(m, rows, epilogue, out) }
    }

    #[inline(always)]
    unsafe fn output_tiles_generic(
        &self,
        m: &[f32],
        rows: std::ops::Range<usize>,
        epilogue: &Epilogue,
        out: &SharedOut,
    ) {
        let Geometry { k_out, height, width, tiles_x, .. } = *self;
        let n = rows.len() * tiles_x;
        for k in 0..k_out {
            let bias = epilogue.bias.map_or(0.0, |b| b[k]);
            let (scale, shift) = epilogue.affine.map_or((1.0, 0.0), |(scale, shift)| (scale[k], shift[k]));
            for (r, ty) in rows.clone().enumerate() {
                for group in (0..tiles_x).step_by(LANES) {
                    let base = k * n + r * tiles_x + group;
                    let mut cols = [[[0f32; LANES]; M]; T]; // [col j][out row][lane]
                    for j in 0..T {
                        let mut column = [[0f32; LANES]; T];
                        for (i, lanes) in column.iter_mut().enumerate() {
                            lanes.copy_from_slice(&m[(i * T + j) * k_out * n + base..][..LANES]);
                        }
                        cols[j] = output_1d(&column);
                    }
                    let x0 = group * M;
                    if x0 >= width {
                        break;
                    }
                    let len = (LANES * M).min(width - x0);
                    // The six columns are read across, row oy of each: a transpose, not a walk.
                    #[allow(clippy::needless_range_loop)]
                    for oy in 0..M {
                        let y = ty * M + oy;
                        if y >= height {
                            break;
                        }
                        let row = [cols[0][oy], cols[1][oy], cols[2][oy], cols[3][oy], cols[4][oy], cols[5][oy]];
                        let values = output_1d(&row); // [out col][lane]
                        // The 8 tiles' 4 columns are 32 neighbouring pixels of output row y.
                        let mut line = [0f32; LANES * M];
                        for l in 0..LANES {
                            for (ox, lanes) in values.iter().enumerate() {
                                line[l * M + ox] = lanes[l];
                            }
                        }
                        for v in &mut line {
                            *v += bias;
                            if epilogue.relu {
                                *v = v.max(0.0);
                            }
                            if epilogue.affine.is_some() {
                                *v = *v * scale + shift;
                            }
                        }
                        // SAFETY: pixels x0 .. x0 + len of row y of channel k are inside the
                        // buffer and belong to this chunk (the caller's contract).
                        let dst =
                            unsafe { std::slice::from_raw_parts_mut(out.0.add((k * height + y) * width + x0), len) };
                        if epilogue.accumulate {
                            dst.iter_mut().zip(&line).for_each(|(d, v)| *d += v);
                        } else {
                            dst.copy_from_slice(&line[..len]);
                        }
                    }
                }
            }
        }
    }
}

/// The convolution as a candle op, f32 on the CPU, on (input (1, C, H, W), weight (K, C, 3, 3));
/// as an in-place op on a residual (1, K, H, W), the result is added to it (`accumulate`).
pub struct Op<'a> {
    pub epilogue: Epilogue<'a>,
}

/// The numbers of a contiguous f32 tensor's storage.
fn slice<'s>(storage: &'s candle_core::CpuStorage, layout: &candle_core::Layout) -> candle_core::Result<&'s [f32]> {
    match (storage, layout.contiguous_offsets()) {
        (candle_core::CpuStorage::F32(v), Some((start, end))) => Ok(&v[start..end]),
        _ => candle_core::bail!("winograd conv: expected a contiguous f32 tensor, got {:?}", layout.shape()),
    }
}

/// (C, H, W) and K of a convolution of `input` by `weight`, checked.
fn conv_dims(input: &candle_core::Layout, weight: &candle_core::Layout) -> candle_core::Result<([usize; 3], usize)> {
    let (batch, c_in, height, width) = input.shape().dims4()?;
    let (k_out, wc, kh, kw) = weight.shape().dims4()?;
    if batch != 1 || wc != c_in || (kh, kw) != (3, 3) {
        candle_core::bail!("winograd conv: input {:?} and weight {:?} do not fit", input.shape(), weight.shape());
    }
    Ok(([c_in, height, width], k_out))
}

impl candle_core::CustomOp2 for Op<'_> {
    fn name(&self) -> &'static str {
        "winograd-conv3x3"
    }

    fn cpu_fwd(
        &self,
        input: &candle_core::CpuStorage,
        input_layout: &candle_core::Layout,
        weight: &candle_core::CpuStorage,
        weight_layout: &candle_core::Layout,
    ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
        let ([c_in, height, width], k_out) = conv_dims(input_layout, weight_layout)?;
        let (x, w) = (slice(input, input_layout)?, slice(weight, weight_layout)?);
        let out = conv3x3(x, (c_in, height, width), w, k_out, &self.epilogue);
        Ok((candle_core::CpuStorage::F32(out), (1, k_out, height, width).into()))
    }
}

impl candle_core::InplaceOp3 for Op<'_> {
    fn name(&self) -> &'static str {
        "winograd-conv3x3-add"
    }

    fn cpu_fwd(
        &self,
        residual: &mut candle_core::CpuStorage,
        residual_layout: &candle_core::Layout,
        input: &candle_core::CpuStorage,
        input_layout: &candle_core::Layout,
        weight: &candle_core::CpuStorage,
        weight_layout: &candle_core::Layout,
    ) -> candle_core::Result<()> {
        let ([c_in, height, width], k_out) = conv_dims(input_layout, weight_layout)?;
        let (x, w) = (slice(input, input_layout)?, slice(weight, weight_layout)?);
        let (candle_core::CpuStorage::F32(residual), Some((start, end))) =
            (residual, residual_layout.contiguous_offsets())
        else {
            candle_core::bail!("winograd conv: the residual must be a contiguous f32 tensor")
        };
        if residual_layout.shape().dims() != [1, k_out, height, width] {
            candle_core::bail!(
                "winograd conv: residual {:?} for output ({k_out}, {height}, {width})",
                residual_layout.shape()
            );
        }
        let epilogue = Epilogue { accumulate: true, ..self.epilogue };
        conv3x3_into(x, (c_in, height, width), w, k_out, &epilogue, &mut residual[start..end]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::kernels::testing::{candle_conv, numbers};
    use super::*;

    /// Against candle's direct convolution, on shapes that leave ragged tiles and lane groups.
    #[test]
    fn matches_direct_convolution() {
        for &(c, k, h, w) in &[(3, 5, 7, 9), (16, 8, 33, 70), (64, 32, 50, 41), (5, 7, 4, 4), (1, 1, 1, 1)] {
            let (x, wt, bias) = (numbers(c * h * w, 1), numbers(k * c * 9, 2), numbers(k, 3));
            let got = conv3x3(&x, (c, h, w), &wt, k, &Epilogue { bias: Some(&bias), ..Default::default() });
            let want = candle_conv(&x, (c, h, w), &wt, k, &bias);
            let scale = want.iter().fold(0f32, |a, v| a.max(v.abs()));
            let worst = got.iter().zip(&want).fold(0f32, |a, (g, w)| a.max((g - w).abs()));
            assert!(
                worst <= 1e-5 * scale.max(1.0) * (c as f32).sqrt(),
                "{c}×{h}×{w}→{k}: worst {worst}, scale {scale}"
            );
        }
    }

    /// The baseline build of the transforms (CPUs without AVX2) computes the same numbers.
    #[test]
    fn baseline_copy_matches_avx2_copy() {
        let (c, k, h, w) = (9, 6, 21, 37);
        let (x, wt, bias) = (numbers(c * h * w, 7), numbers(k * c * 9, 8), numbers(k, 9));
        let epilogue = Epilogue { bias: Some(&bias), relu: true, ..Default::default() };
        let dispatched = conv3x3(&x, (c, h, w), &wt, k, &epilogue);
        GENERIC_ONLY.store(true, std::sync::atomic::Ordering::Relaxed);
        let generic = conv3x3(&x, (c, h, w), &wt, k, &epilogue);
        GENERIC_ONLY.store(false, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(dispatched, generic);
    }

    #[test]
    fn epilogue_is_relu_then_affine_or_added() {
        let (c, k, h, w) = (4, 3, 10, 10);
        let x = numbers(c * h * w, 4);
        let wt = numbers(k * c * 9, 5);
        let bias = vec![0.1, -0.2, 0.3];
        let (scale, shift) = (vec![2.0, 0.5, -1.0], vec![1.0, 0.0, 0.25]);
        let plain = conv3x3(&x, (c, h, w), &wt, k, &Epilogue::default());
        let fused = conv3x3(
            &x,
            (c, h, w),
            &wt,
            k,
            &Epilogue { bias: Some(&bias), relu: true, affine: Some((&scale, &shift)), ..Default::default() },
        );
        for (i, (p, f)) in plain.iter().zip(&fused).enumerate() {
            let ch = i / (h * w);
            let want = (p + bias[ch]).max(0.0) * scale[ch] + shift[ch];
            assert!((f - want).abs() < 1e-5, "{i}: {f} vs {want}");
        }
        // Accumulating adds the same values to what the buffer held.
        let residual = numbers(k * h * w, 6);
        let mut sum = residual.clone();
        let epilogue = Epilogue { bias: Some(&bias), relu: true, accumulate: true, ..Default::default() };
        conv3x3_into(&x, (c, h, w), &wt, k, &epilogue, &mut sum);
        for (i, (s, r)) in sum.iter().zip(&residual).enumerate() {
            let want = r + (plain[i] + bias[i / (h * w)]).max(0.0);
            assert!((s - want).abs() < 1e-5, "{i}: {s} vs {want}");
        }
    }
}
