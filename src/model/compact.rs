//! The built-in compact colorizer (training/model.py): EfficientNet-Lite0 encoder, a
//! DeOldify-style decoder, chroma-bin logits at 1/2 scale decoded by the annealed mean and put
//! under the input's grey. Its output follows DeOldify's contract (RGB, ImageNet-normalised),
//! so the same pipeline finishes it.

use std::path::Path;

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{Affine, Conv, SelfAttention, Upsampler};
use super::weights::LoadError;

const FORMAT: &str = "tintype-compact-v1";
/// The encoder's BatchNorm epsilon (TF-ported EfficientNet); the decoder's is torch's 1e-5.
const ENCODER_BN_EPS: f64 = 1e-3;
const DECODER_BN_EPS: f64 = 1e-5;
const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// EfficientNet-Lite0 blocks: (expand ratio, kernel, stride, in, out).
const LITE0_BLOCKS: [(usize, usize, usize, usize, usize); 16] = [
    (1, 3, 1, 32, 16),
    (6, 3, 2, 16, 24),
    (6, 3, 1, 24, 24),
    (6, 5, 2, 24, 40),
    (6, 5, 1, 40, 40),
    (6, 3, 2, 40, 80),
    (6, 3, 1, 80, 80),
    (6, 3, 1, 80, 80),
    (6, 5, 1, 80, 112),
    (6, 5, 1, 112, 112),
    (6, 5, 1, 112, 112),
    (6, 5, 2, 112, 192),
    (6, 5, 1, 192, 192),
    (6, 5, 1, 192, 192),
    (6, 5, 1, 192, 192),
    (6, 3, 1, 192, 320),
];
/// Blocks whose outputs are the skips (1/2, 1/4, 1/8, 1/16).
const SKIP_AFTER: [usize; 4] = [0, 2, 4, 10];

/// BatchNorm (eval) as `x·scale + shift` per channel, from the raw running statistics.
fn bn_affine(vb: &VarBuilder, channels: usize, eps: f64) -> Result<(Tensor, Tensor)> {
    let gamma = vb.get(channels, "weight")?;
    let beta = vb.get(channels, "bias")?;
    let mean = vb.get(channels, "running_mean")?;
    let var = vb.get(channels, "running_var")?;
    let scale = gamma.broadcast_div(&(var + eps)?.sqrt()?)?;
    let shift = (beta - mean.mul(&scale)?)?;
    Ok((scale, shift))
}

/// A bias-free conv with the BatchNorm after it folded in: (weight, bias).
fn conv_bn(
    conv: &VarBuilder,
    bn: &VarBuilder,
    shape: (usize, usize, usize, usize),
    eps: f64,
) -> Result<(Tensor, Tensor)> {
    let w = conv.get(shape, "weight")?;
    let (scale, shift) = bn_affine(bn, shape.0, eps)?;
    Ok((w.broadcast_mul(&scale.reshape((shape.0, 1, 1, 1))?)?, shift))
}

fn relu6(x: &Tensor) -> Result<Tensor> {
    x.clamp(0f32, 6f32)
}

/// Depthwise k×k convolution with symmetric padding and its folded bias. On the CPU a direct
/// loop per channel plane; elsewhere k² shifted multiply-adds (candle's grouped conv runs one
/// conv per channel, which is slow with a thousand channels).
#[derive(Debug, Clone)]
struct Depthwise {
    /// (C, k, k) weights, flat, for the CPU loop.
    weights: Vec<f32>,
    bias_values: Vec<f32>,
    /// The same weights as (k·k) tensors shaped (1, C, 1, 1), for other devices.
    taps: Vec<Tensor>,
    bias: Tensor,
    kernel: usize,
    stride: usize,
}

impl Depthwise {
    fn new(weight: &Tensor, bias: &Tensor, kernel: usize, stride: usize) -> Result<Self> {
        let channels = weight.dim(0)?;
        let mut taps = Vec::with_capacity(kernel * kernel);
        for i in 0..kernel {
            for j in 0..kernel {
                taps.push(weight.narrow(2, i, 1)?.narrow(3, j, 1)?.reshape((1, channels, 1, 1))?);
            }
        }
        Ok(Self {
            weights: weight.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?,
            bias_values: bias.to_dtype(DType::F32)?.to_vec1()?,
            taps,
            bias: bias.reshape((1, channels, 1, 1))?,
            kernel,
            stride,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.device().is_cpu() && x.dtype() == DType::F32 {
            return x.contiguous()?.apply_op1_no_bwd(self);
        }
        let (_, _, h, w) = x.dims4()?;
        let p = self.kernel / 2;
        let padded = x.pad_with_zeros(2, p, p)?.pad_with_zeros(3, p, p)?;
        let mut acc: Option<Tensor> = None;
        for i in 0..self.kernel {
            for j in 0..self.kernel {
                let window = padded.narrow(2, i, h)?.narrow(3, j, w)?;
                let term = window.broadcast_mul(&self.taps[i * self.kernel + j])?;
                acc = Some(match acc {
                    None => term,
                    Some(a) => (a + term)?,
                });
            }
        }
        let mut y = acc.expect("k ≥ 1").broadcast_add(&self.bias)?;
        if self.stride == 2 {
            // Keep rows and columns 0, 2, 4, …: pad to even, split into pairs, take the first.
            let (b, c, h, w) = y.dims4()?;
            y = y.pad_with_zeros(2, 0, h % 2)?.pad_with_zeros(3, 0, w % 2)?;
            y = y.reshape((b, c, h.div_ceil(2), 2, w.div_ceil(2), 2))?.narrow(3, 0, 1)?.narrow(5, 0, 1)?;
            y = y.reshape((b, c, h.div_ceil(2), w.div_ceil(2)))?;
        }
        Ok(y)
    }
}

impl candle_core::CustomOp1 for Depthwise {
    fn name(&self) -> &'static str {
        "depthwise-conv2d"
    }

    fn cpu_fwd(
        &self,
        storage: &candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> Result<(candle_core::CpuStorage, candle_core::Shape)> {
        use rayon::prelude::*;
        let input = match storage {
            candle_core::CpuStorage::F32(v) => &v[layout.start_offset()..],
            _ => candle_core::bail!("depthwise conv: f32 only"),
        };
        let (b, c, h, w) = layout.shape().dims4()?;
        let (k, s, p) = (self.kernel, self.stride, self.kernel / 2);
        let (ho, wo) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
        let mut out = vec![0f32; b * c * ho * wo];
        out.par_chunks_mut(ho * wo).enumerate().for_each(|(plane, dst)| {
            let ch = plane % c;
            let src = &input[plane * h * w..(plane + 1) * h * w];
            let wk = &self.weights[ch * k * k..(ch + 1) * k * k];
            dst.fill(self.bias_values[ch]);
            for oy in 0..ho {
                let row = &mut dst[oy * wo..(oy + 1) * wo];
                for i in 0..k {
                    let iy = (oy * s + i) as isize - p as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    let src_row = &src[iy as usize * w..(iy as usize + 1) * w];
                    for j in 0..k {
                        let wt = wk[i * k + j];
                        // Output columns whose input column ox·s + j − p is inside the row.
                        let first = p.saturating_sub(j).div_ceil(s);
                        let last = ((w + p - j).div_ceil(s)).min(wo);
                        for ox in first..last {
                            row[ox] += wt * src_row[ox * s + j - p];
                        }
                    }
                }
            }
        });
        Ok((candle_core::CpuStorage::F32(out), (b, c, ho, wo).into()))
    }
}

/// The annealed mean (Zhang et al. 2016): softmax(logits / T) · bin centres. It takes the
/// logits divided by T before their bias, and adds the bias (also divided by T) itself. On the
/// CPU one pass per pixel: the (pixels, Q) probabilities, 115 MB at render factor 35, are never
/// stored.
#[derive(Debug, Clone)]
struct AnnealedMean {
    /// (Q) bias / T and (Q, 2) bin centres, as tensors for other devices and flat for the CPU.
    bias: Tensor,
    bins: Tensor,
    bias_values: Vec<f32>,
    bin_values: Vec<f32>,
}

impl AnnealedMean {
    fn new(bias: &Tensor, bins: &Tensor) -> Result<Self> {
        let (bias, bins) = (bias.to_dtype(DType::F32)?, bins.to_dtype(DType::F32)?);
        Ok(Self { bias_values: bias.to_vec1()?, bin_values: bins.flatten_all()?.to_vec1()?, bias, bins })
    }

    /// (pixels, Q) logits / T, without the bias → (pixels, 2) U, V. `extra`: one photo's
    /// scene bias (already / T), added to the file's.
    fn forward(&self, logits: &Tensor, extra: Option<&[f32]>) -> Result<Tensor> {
        let combined: Option<Vec<f32>> = extra.map(|e| self.bias_values.iter().zip(e).map(|(b, e)| b + e).collect());
        if !(logits.device().is_cpu() && logits.dtype() == DType::F32) {
            return match combined {
                Some(c) => self.by_tensor_ops(logits, &Tensor::from_vec(c, self.bias.shape(), self.bias.device())?),
                None => self.by_tensor_ops(logits, &self.bias),
            };
        }
        let bias_values = combined.as_deref().unwrap_or(&self.bias_values);
        let logits = logits.contiguous()?;
        let (pixels, q) = logits.dims2()?;
        let uv = super::kernels::with_f32(&logits, |l| self.one_pass(l, q, bias_values))?;
        Tensor::from_vec(uv, (pixels, 2), logits.device())
    }

    /// The same with candle's tensor operations, for the GPUs.
    fn by_tensor_ops(&self, logits: &Tensor, bias: &Tensor) -> Result<Tensor> {
        let p = candle_nn::ops::softmax_last_dim(&logits.broadcast_add(bias)?)?;
        p.matmul(&self.bins)
    }

    /// The CPU's: each pixel's row of Q logits → its U, V, over all cores.
    fn one_pass(&self, logits: &[f32], q: usize, bias_values: &[f32]) -> Vec<f32> {
        use rayon::prelude::*;
        const ROWS: usize = 256;
        let mut out = vec![0f32; logits.len() / q * 2];
        out.par_chunks_mut(2 * ROWS).zip(logits.par_chunks(q * ROWS)).for_each(|(dst, rows)| {
            let mut z = vec![0f32; q];
            for (uv, row) in dst.chunks_exact_mut(2).zip(rows.chunks_exact(q)) {
                let mut max = f32::NEG_INFINITY;
                for ((z, &l), &b) in z.iter_mut().zip(row).zip(bias_values) {
                    *z = l + b;
                    max = max.max(*z);
                }
                let (mut sum, mut u, mut v) = (0f32, 0f32, 0f32);
                for (z, bin) in z.iter().zip(self.bin_values.chunks_exact(2)) {
                    let e = (z - max).exp();
                    sum += e;
                    u += e * bin[0];
                    v += e * bin[1];
                }
                uv[0] = u / sum;
                uv[1] = v / sum;
            }
        });
        out
    }
}

#[derive(Debug, Clone)]
struct MbConv {
    expand: Option<(Tensor, Tensor)>,
    depthwise: Depthwise,
    project: (Tensor, Tensor),
    residual: bool,
}

fn conv1x1(x: &Tensor, (w, b): &(Tensor, Tensor)) -> Result<Tensor> {
    x.conv2d(w, 0, 1, 1, 1)?.broadcast_add(&b.reshape((1, (), 1, 1))?)
}

impl MbConv {
    fn new(vb: &VarBuilder, (expand, k, stride, cin, cout): (usize, usize, usize, usize, usize)) -> Result<Self> {
        let mid = cin * expand;
        let expand = if expand != 1 {
            Some(conv_bn(&vb.pp("_expand_conv"), &vb.pp("_bn0"), (mid, cin, 1, 1), ENCODER_BN_EPS)?)
        } else {
            None
        };
        let (dw, dw_bias) = conv_bn(&vb.pp("_depthwise_conv"), &vb.pp("_bn1"), (mid, 1, k, k), ENCODER_BN_EPS)?;
        let depthwise = Depthwise::new(&dw, &dw_bias, k, stride)?;
        let project = conv_bn(&vb.pp("_project_conv"), &vb.pp("_bn2"), (cout, mid, 1, 1), ENCODER_BN_EPS)?;
        Ok(Self { expand, depthwise, project, residual: stride == 1 && cin == cout })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = match &self.expand {
            Some(e) => relu6(&conv1x1(x, e)?)?,
            None => x.clone(),
        };
        let h = relu6(&self.depthwise.forward(&h)?)?;
        let h = conv1x1(&h, &self.project)?;
        if self.residual { h + x } else { Ok(h) }
    }
}

/// A folded conv (weight, bias) followed by an optional ReLU, any kernel, stride 1.
fn folded_conv(
    vb: &VarBuilder,
    bn: Option<&VarBuilder>,
    shape: (usize, usize, usize, usize),
    bias: bool,
) -> Result<Conv> {
    let (w, b) = match bn {
        Some(bn) => {
            let (w, b) = conv_bn(vb, bn, shape, DECODER_BN_EPS)?;
            (w, Some(b))
        }
        None => (vb.get(shape, "weight")?, if bias { Some(vb.get(shape.0, "bias")?) } else { None }),
    };
    Conv::from_tensors(w, b, 1)
}

/// BatchNorm after an activation: kept as an affine.
fn affine(vb: &VarBuilder, channels: usize) -> Result<Affine> {
    let (scale, shift) = bn_affine(vb, channels, DECODER_BN_EPS)?;
    Affine::from_tensors(scale, shift)
}

#[derive(Debug, Clone)]
struct DecoderBlock {
    shuf: Upsampler,
    skip_bn: Affine,
    conv: Conv,
    conv_bn: Affine,
    attention: Option<SelfAttention>,
}

impl DecoderBlock {
    fn new(vb: &VarBuilder, up_in: usize, skip: usize, out: usize, attention: bool) -> Result<Self> {
        Ok(Self {
            shuf: Upsampler::from_conv(folded_conv(
                &vb.pp("shuf").pp("conv"),
                Some(&vb.pp("shuf").pp("bn")),
                (4 * out, up_in, 1, 1),
                false,
            )?),
            skip_bn: affine(&vb.pp("bn"), skip)?,
            conv: folded_conv(&vb.pp("conv"), None, (out, out + skip, 3, 3), false)?,
            conv_bn: affine(&vb.pp("conv_bn"), out)?,
            attention: if attention { Some(SelfAttention::new(&vb.pp("attention"), out)?) } else { None },
        })
    }

    fn forward(&self, x: &Tensor, skip: &Tensor) -> Result<Tensor> {
        // As in DeOldify's blocks: the ReLU after the concatenation only changes the skip's half.
        let h = self.shuf.forward_cat(x, &self.skip_bn.forward(skip)?.relu()?)?;
        let h = self.conv.forward_then(&h, true, Some(&self.conv_bn))?;
        match &self.attention {
            Some(sa) => sa.forward(&h),
            None => Ok(h),
        }
    }
}

/// The global context (Iizuka et al. 2016): the ImageNet classifier's last conv on the
/// encoder's output, averaged over the picture, mapped to one vector the decoder's input adds.
#[derive(Debug, Clone)]
struct GlobalContext {
    /// (weight, bias) of the 320 → 1280 conv, BatchNorm folded in.
    head: (Tensor, Tensor),
    /// The linear map, as (1280, 256) for a matmul, and its bias.
    weight: Tensor,
    bias: Tensor,
}

impl GlobalContext {
    fn new(vb: &VarBuilder) -> Result<Self> {
        let enc = vb.pp("encoder");
        let head = conv_bn(&enc.pp("_conv_head"), &enc.pp("_bn1"), (1280, 320, 1, 1), ENCODER_BN_EPS)?;
        let weight = vb.pp("context").get((256, 1280), "weight")?.t()?.contiguous()?;
        Ok(Self { head, weight, bias: vb.pp("context").get(256, "bias")? })
    }

    /// (B, 320, h, w) encoder output → (B, 256, 1, 1).
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let pooled = relu6(&conv1x1(x, &self.head)?)?.flatten_from(2)?.mean(2)?;
        let v = pooled.matmul(&self.weight)?.broadcast_add(&self.bias)?;
        v.unsqueeze(2)?.unsqueeze(3)
    }
}

/// The scene palette (training/scene_prior.py, `--head`): the colours the whole photo holds, a
/// distribution over the bins predicted from the encoder's pooled output by one linear softmax
/// layer. The logits are steered toward it by `strength` × the bias that makes the photo's mean
/// predicted distribution match it (training/model.py `steered`), which tones down a colour
/// the scene is unlikely to hold. The bins' colours stay where the file puts them.
#[derive(Debug, Clone)]
struct ScenePalette {
    /// (320, Q) for a matmul, its standardisation of the features folded in, and (Q) bias.
    weight: Tensor,
    bias: Tensor,
    strength: f32,
}

/// About this many of a photo's logits, evenly strided, are what the scene bias is fitted on,
/// in this many fixed-point steps (training/model.py's SCENE_PIXELS and SCENE_ITERATIONS; on
/// the validation photos 20–30 steps reach the fixed point to float rounding).
const SCENE_PIXELS: usize = 4000;
const SCENE_ITERATIONS: usize = 30;

impl ScenePalette {
    fn new(vb: &VarBuilder, q: usize, strength: f32) -> Result<Self> {
        let weight = vb.pp("scene").get((q, 320), "weight")?.t()?.contiguous()?;
        Ok(Self { weight, bias: vb.pp("scene").get(q, "bias")?, strength })
    }

    /// (B, 320, h, w) encoder output → (B, Q) distributions.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let pooled = x.flatten_from(2)?.mean(2)?;
        candle_nn::ops::softmax_last_dim(&pooled.matmul(&self.weight)?.broadcast_add(&self.bias)?)
    }

    /// One photo's (pixels, Q) logits / T and the file's bias / T → the photo's extra bias / T:
    /// strength × the bias that steers the logits toward `palette`, fitted at temperature 1 on
    /// every k-th pixel.
    fn bias(&self, logits: &Tensor, file_bias: &Tensor, temperature: f64, palette: &[f32]) -> Result<Vec<f32>> {
        let (pixels, q) = logits.dims2()?;
        let step = (pixels / SCENE_PIXELS).max(1);
        let picks: Vec<u32> = (0..pixels as u32).step_by(step).collect();
        let picks = Tensor::from_vec(picks, pixels.div_ceil(step), logits.device())?;
        let sample = (logits.index_select(&picks, 0)?.broadcast_add(file_bias)? * temperature)?;
        let sample = sample.to_device(&Device::Cpu)?.flatten_all()?.to_vec1::<f32>()?;
        let b = fit_bias(&sample, q, palette, SCENE_ITERATIONS);
        Ok(b.into_iter().map(|b| b * self.strength / temperature as f32).collect())
    }
}

/// training/model.py's `fit_bias`: the bias b over the Q bins that makes the mean softmax of
/// the (N, Q) logits + b equal `target`, by the fixed-point step b ← b + log target − log p(b)
/// (bins the target never holds are pushed down only to 1e-5). softmax(l + b) is
/// e^(l − max l) · e^b normalised, so the exponentials of the logits are taken once, not once a step.
fn fit_bias(logits: &[f32], q: usize, target: &[f32], iterations: usize) -> Vec<f32> {
    use rayon::prelude::*;
    const FLOOR: f32 = 1e-5;
    let exps: Vec<f32> = logits
        .par_chunks(q)
        .flat_map_iter(|row| {
            let max = row.iter().fold(f32::NEG_INFINITY, |m, &l| m.max(l));
            row.iter().map(move |&l| (l - max).exp())
        })
        .collect();
    let rows = (logits.len() / q) as f32;
    let total: f32 = target.iter().map(|t| t.max(FLOOR)).sum();
    let log_target: Vec<f32> = target.iter().map(|t| (t.max(FLOOR) / total).ln()).collect();
    let mut b = vec![0f32; q];
    for _ in 0..iterations {
        let scale: Vec<f32> = b.iter().map(|b| b.exp()).collect();
        let pred = exps
            .par_chunks(q * 64)
            .map(|chunk| {
                let mut acc = vec![0f32; q];
                for row in chunk.chunks_exact(q) {
                    let inverse = 1.0 / row.iter().zip(&scale).map(|(e, s)| e * s).sum::<f32>();
                    for ((a, e), s) in acc.iter_mut().zip(row).zip(&scale) {
                        *a += e * s * inverse;
                    }
                }
                acc
            })
            .reduce(|| vec![0f32; q], |a, c| a.iter().zip(&c).map(|(a, c)| a + c).collect());
        for ((b, t), p) in b.iter_mut().zip(&log_target).zip(&pred) {
            *b += t - (p / rows).max(FLOOR).ln();
        }
        let mean = b.iter().sum::<f32>() / q as f32;
        b.iter_mut().for_each(|b| *b -= mean);
    }
    b
}

/// The metadata key that says how the network sees a photo: `photo` (its own shape) or, when
/// absent, DeOldify's square.
const INPUT_SHAPE: &str = "tintype.input_shape";

/// The safetensors header of `path` (its JSON), if it is a plausible one.
fn header(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut len = [0u8; 8];
    std::io::Read::read_exact(&mut file, &mut len).ok()?;
    let n = u64::from_le_bytes(len);
    if n > 16 << 20 {
        return None;
    }
    let mut header = vec![0u8; n as usize];
    std::io::Read::read_exact(&mut file, &mut header).ok()?;
    Some(String::from_utf8_lossy(&header).into_owned())
}

/// A rectangle with about `side`² pixels in the proportions of `photo` (held within 4:1),
/// sides multiples of 16.
pub fn photo_shaped((w, h): (u32, u32), side: u32) -> (u32, u32) {
    let aspect = (w.max(1) as f64 / h.max(1) as f64).clamp(0.25, 4.0);
    let area = side as f64 * side as f64;
    let to_16 = |x: f64| ((x / 16.0).round().max(1.0) as u32) * 16;
    (to_16((area * aspect).sqrt()), to_16((area / aspect).sqrt()))
}

/// The compact colorizer, ready to run.
pub struct Compact {
    stem: (Tensor, Tensor),
    blocks: Vec<MbConv>,
    middle: Conv,
    middle_bn: Affine,
    /// The global context, in files that have it (training/model.py).
    context: Option<GlobalContext>,
    /// The scene palette, in files that have it with a strength (the shipped file has none:
    /// training/experiments.md says why).
    scene: Option<ScenePalette>,
    decoder: Vec<DecoderBlock>,
    head: Conv,
    /// The 1×1 logits conv as a matrix, (48, Q), divided by the temperature, as the softmax
    /// wants its input.
    logits_weight: Tensor,
    temperature: f64,
    annealed_mean: AnnealedMean,
    /// Strength of the grain filter on the model's input (0: off); see `pipeline::grain`.
    grain_filter: f32,
    /// Average the chroma predicted for the photo and for its mirror image (the file's
    /// `tintype.mirror_average`; training/experiments.md says what it buys).
    mirror_average: bool,
    /// The photo is shown to the network in its own shape, not stretched to a square (the
    /// file's `tintype.input_shape`; see [`Compact::input_size`]).
    sees_photo_shape: bool,
    device: Device,
}

impl Compact {
    /// Whether `path` is a safetensors file written by `training/export.py` (by its metadata).
    pub fn is_compact_file(path: &Path) -> bool {
        header(path).is_some_and(|h| h.contains(&format!("\"tintype.format\":\"{FORMAT}\"")))
    }

    /// Whether the compact file at `path` sees each photo in its own shape (see
    /// [`Compact::input_size`]), read from its header without loading it.
    pub fn file_sees_photo_shape(path: &Path) -> bool {
        header(path).is_some_and(|h| h.contains(&format!("\"{INPUT_SHAPE}\":\"photo\"")))
    }

    /// Loads a file written by `training/export.py`.
    pub fn load(path: &Path, device: &Device) -> std::result::Result<Self, LoadError> {
        let bytes = std::fs::read(path).map_err(|e| LoadError::io(path, e))?;
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| LoadError::corrupt(path, format!("bad safetensors header: {e}")))?;
        let meta = meta.metadata().clone().unwrap_or_default();
        if meta.get("tintype.format").map(String::as_str) != Some(FORMAT) {
            return Err(LoadError::not_model(path, format!("not a compact colorizer file ({FORMAT})")));
        }
        let temperature: f64 = meta.get("tintype.temperature").and_then(|t| t.parse().ok()).unwrap_or(0.38);
        // Files written before the grain filter existed were measured without it.
        let grain_filter: f32 = meta.get("tintype.grain_filter").and_then(|h| h.parse().ok()).unwrap_or(0.0);
        let mirror_average = meta.get("tintype.mirror_average").is_some_and(|m| m == "1");
        let scene_strength: f32 = meta.get("tintype.scene_strength").and_then(|s| s.parse().ok()).unwrap_or(0.0);
        // Files written before it was measured take DeOldify's square.
        let sees_photo_shape = meta.get(INPUT_SHAPE).is_some_and(|s| s == "photo");
        let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
            .map_err(|e| LoadError::corrupt(path, e.to_string()))?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        Self::new(&vb, temperature, grain_filter, mirror_average, sees_photo_shape, scene_strength, device).map_err(
            |e| LoadError::Compute { path: path.to_owned(), why: format!("not a valid compact colorizer: {e}") },
        )
    }

    fn new(
        vb: &VarBuilder,
        temperature: f64,
        grain_filter: f32,
        mirror_average: bool,
        sees_photo_shape: bool,
        scene_strength: f32,
        device: &Device,
    ) -> Result<Self> {
        let enc = vb.pp("encoder");
        let stem = conv_bn(&enc.pp("_conv_stem"), &enc.pp("_bn0"), (32, 3, 3, 3), ENCODER_BN_EPS)?;
        let blocks = LITE0_BLOCKS
            .iter()
            .enumerate()
            .map(|(i, cfg)| MbConv::new(&enc.pp("_blocks").pp(i), *cfg))
            .collect::<Result<Vec<_>>>()?;
        let decoder = [(256, 112, 128, false), (128, 40, 96, true), (96, 24, 64, false), (64, 16, 48, false)]
            .iter()
            .enumerate()
            .map(|(i, &(up, skip, out, sa))| DecoderBlock::new(&vb.pp("blocks").pp(i), up, skip, out, sa))
            .collect::<Result<Vec<_>>>()?;
        let bins = vb.get_unchecked("bins")?;
        let q = bins.dim(0)?;
        let logits_weight = vb.pp("logits").get((q, 48, 1, 1), "weight")?.reshape((q, 48))?.t()?.contiguous()?;
        let logits_bias = vb.pp("logits").get(q, "bias")?;
        let annealed_mean = AnnealedMean::new(&(logits_bias / temperature)?, &(bins.to_dtype(DType::F32)? - 128.0)?)?;
        Ok(Self {
            stem,
            blocks,
            middle: folded_conv(&vb.pp("middle"), None, (256, 320, 3, 3), false)?,
            middle_bn: affine(&vb.pp("middle_bn"), 256)?,
            context: if vb.contains_tensor("context.weight") { Some(GlobalContext::new(vb)?) } else { None },
            scene: if vb.contains_tensor("scene.weight") && scene_strength != 0.0 {
                Some(ScenePalette::new(vb, q, scene_strength)?)
            } else {
                None
            },
            decoder,
            head: folded_conv(&vb.pp("head"), None, (48, 49, 3, 3), true)?,
            logits_weight: (logits_weight / temperature)?,
            temperature,
            annealed_mean,
            grain_filter,
            mirror_average,
            sees_photo_shape,
            device: device.clone(),
        })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The size of the grey picture the network sees for a photo of `photo` pixels at
    /// `render_factor`. DeOldify's is the 16·render_factor square, whatever the photo's shape,
    /// and so is this model's unless its file asks for the photo's shape: then a rectangle of
    /// about the square's pixels in the photo's proportions (within 4:1), sides multiples of 16.
    /// The network was trained on undistorted crops; a 3:2 photo stretched to a square shows it
    /// everything 1.5× taller than that (training/experiments.md, "The photo in its own shape").
    pub fn input_size(&self, photo: (u32, u32), render_factor: u32) -> (u32, u32) {
        let side = 16 * render_factor;
        if !self.sees_photo_shape {
            return (side, side);
        }
        photo_shaped(photo, side)
    }

    /// The non-local means strength this model's input wants (0: none), from its file.
    pub fn grain_filter(&self) -> f32 {
        self.grain_filter
    }

    /// Chroma at 1/2 scale, (B, 2, H/2, W/2): U, V in 8-bit units around 0.
    fn chroma(&self, x: &Tensor) -> Result<Tensor> {
        let mut h =
            relu6(&x.conv2d(&self.stem.0, 1, 2, 1, 1)?.broadcast_add(&self.stem.1.reshape((1, (), 1, 1))?)?)?;
        let mut skips = Vec::with_capacity(4);
        for (i, block) in self.blocks.iter().enumerate() {
            h = block.forward(&h)?;
            if SKIP_AFTER.contains(&i) {
                skips.push(h.clone());
            }
        }
        let context = self.context.as_ref().map(|c| c.forward(&h)).transpose()?;
        let palette =
            self.scene.as_ref().map(|s| s.forward(&h)?.to_device(&Device::Cpu)?.to_vec2::<f32>()).transpose()?;
        h = self.middle.forward_then(&h, true, Some(&self.middle_bn))?;
        if let Some(context) = context {
            h = h.broadcast_add(&context)?;
        }
        for (block, skip) in self.decoder.iter().zip(skips.iter().rev()) {
            h = block.forward(&h, skip)?;
        }
        let grey = x.narrow(1, 0, 1)?.avg_pool2d(2)?;
        let h = self.head.forward(&Tensor::cat(&[&h, &grey], 1)?, true)?;
        // Logits as (pixels, Q) so the softmax runs over the last, contiguous dimension.
        let (b, c, hh, ww) = h.dims4()?;
        let pixels = h.reshape((b, c, hh * ww))?.transpose(1, 2)?.contiguous()?.reshape((b * hh * ww, c))?;
        let logits = pixels.matmul(&self.logits_weight)?;
        let uv = match (&self.scene, palette) {
            (Some(scene), Some(palette)) => {
                let n = hh * ww;
                let photos = (0..b)
                    .map(|i| {
                        let photo = logits.narrow(0, i * n, n)?;
                        let extra = scene.bias(&photo, &self.annealed_mean.bias, self.temperature, &palette[i])?;
                        self.annealed_mean.forward(&photo, Some(&extra))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Tensor::cat(&photos, 0)?
            }
            _ => self.annealed_mean.forward(&logits, None)?,
        };
        uv.reshape((b, hh * ww, 2))?.transpose(1, 2)?.reshape((b, 2, hh, ww))
    }

    /// (B, 3, H, W) ImageNet-normalised grey, H and W multiples of 16 → RGB, ImageNet-normalised:
    /// what Tintype runs, with the mirror average where the file asks for it.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut uv = self.chroma(x)?;
        if self.mirror_average {
            let mirrored = self.chroma(&x.flip(&[3])?)?.flip(&[3])?;
            uv = ((uv + mirrored)? * 0.5)?;
        }
        self.finish(x, &uv)
    }

    /// One pass of the network, as the training code's `CompactColorizer.colorize` computes it
    /// (the parity fixture's output).
    pub fn network(&self, x: &Tensor) -> Result<Tensor> {
        self.finish(x, &self.chroma(x)?)
    }

    /// Chroma at 1/2 scale under the input's grey → RGB, ImageNet-normalised.
    fn finish(&self, x: &Tensor, uv: &Tensor) -> Result<Tensor> {
        let uv = uv.upsample_bilinear2d_with_scale(2.0, 2.0, false)?;
        let (u, v) = (uv.narrow(1, 0, 1)?, uv.narrow(1, 1, 1)?);
        let y = ((x.narrow(1, 0, 1)? * IMAGENET_STD[0] as f64)? + IMAGENET_MEAN[0] as f64)?;
        let y = (y * 255.0)?;
        let r = (&y + (&v / 0.877)?)?;
        let bl = (&y + (&u / 0.492)?)?;
        let g = ((&y - (&r * 0.299)?)? - (&bl * 0.114)?)?;
        let g = (g / 0.587)?;
        let rgb = (Tensor::cat(&[&r, &g, &bl], 1)?.clamp(0f32, 255f32)? / 255.0)?;
        let mean = Tensor::new(&IMAGENET_MEAN, &self.device)?.reshape((1, 3, 1, 1))?;
        let std = Tensor::new(&IMAGENET_STD, &self.device)?.reshape((1, 3, 1, 1))?;
        rgb.broadcast_sub(&mean)?.broadcast_div(&std)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// About the square's pixels in the photo's proportions, sides multiples of 16; a square
    /// stays the square, and a panorama is held to 4:1.
    #[test]
    fn photo_shaped_keeps_the_pixel_count_and_the_proportions() {
        assert_eq!(photo_shaped((1000, 1000), 560), (560, 560));
        assert_eq!(photo_shaped((481, 321), 560), (688, 464));
        assert_eq!(photo_shaped((321, 481), 560), (464, 688));
        assert_eq!(photo_shaped((5000, 3), 560), (1120, 288));
        assert_eq!(photo_shaped((1, 1), 112), (112, 112));
        for (w, h) in [(481, 321), (4000, 3000), (1200, 1800), (640, 480)] {
            let (sw, sh) = photo_shaped((w, h), 560);
            assert!(sw % 16 == 0 && sh % 16 == 0);
            let pixels = (sw * sh) as f64 / (560.0 * 560.0);
            assert!((0.93..=1.07).contains(&pixels), "{w}×{h} → {sw}×{sh}: {pixels}");
            let aspect = (sw as f64 / sh as f64) / (w as f64 / h as f64);
            assert!((0.95..=1.05).contains(&aspect), "{w}×{h} → {sw}×{sh}");
        }
    }

    /// The CPU's one-pass annealed mean gives what the tensor operations the GPUs run give.
    #[test]
    fn annealed_mean_one_pass_matches_tensor_ops() -> Result<()> {
        // Deterministic values shaped like the shipped model's: logits spread over several
        // units, bin centres within ±100 of grey.
        let (pixels, q) = (1000, 368);
        let wave = |n: usize, f: f32, a: f32| (0..n).map(move |i| a * (i as f32 * f).sin()).collect::<Vec<f32>>();
        let logits = Tensor::from_vec(wave(pixels * q, 0.37, 6.0), (pixels, q), &Device::Cpu)?;
        let bias = Tensor::from_vec(wave(q, 1.3, 2.0), q, &Device::Cpu)?;
        let bins = Tensor::from_vec(wave(q * 2, 0.71, 100.0), (q, 2), &Device::Cpu)?;
        let extra = wave(q, 0.9, 1.0);
        let mean = AnnealedMean::new(&bias, &bins)?;
        let one_pass = mean.forward(&logits, Some(&extra))?;
        let reference = mean.by_tensor_ops(&logits, &(bias + Tensor::from_vec(extra, q, &Device::Cpu)?)?)?;
        assert_eq!(one_pass.dims(), &[pixels, 2]);
        let diff = (one_pass - &reference)?.abs()?.max_all()?.to_scalar::<f32>()?;
        let scale = reference.abs()?.max_all()?.to_scalar::<f32>()?;
        // f32 sums of 368 terms in another order differ in the 6th digit (measured 1.8e-6).
        assert!(diff <= 1e-5 * scale, "largest difference {diff} against values up to {scale}");
        Ok(())
    }

    /// The scene bias does what it is for: the mean softmax of the steered logits is the target.
    #[test]
    fn fit_bias_matches_the_target_distribution() -> Result<()> {
        let (pixels, q) = (3000, 50);
        let logits: Vec<f32> = (0..pixels * q).map(|i| 4.0 * (i as f32 * 0.61).sin() + (i % q) as f32 * 0.05).collect();
        let target: Vec<f32> = (0..q).map(|k| if k % 7 == 0 { 0.0 } else { 1.0 + (k as f32 * 0.3).cos() }).collect();
        let total: f32 = target.iter().sum();
        let b = Tensor::from_vec(fit_bias(&logits, q, &target, SCENE_ITERATIONS), q, &Device::Cpu)?;
        let steered = Tensor::from_vec(logits, (pixels, q), &Device::Cpu)?.broadcast_add(&b)?;
        let mean = candle_nn::ops::softmax_last_dim(&steered)?.mean(0)?.to_vec1::<f32>()?;
        for (k, (m, t)) in mean.iter().zip(&target).enumerate() {
            // Bins the target never holds are pushed down to the floor (1e-5), not to 0.
            assert!((m - t / total).abs() < 1e-4, "bin {k}: mean {m}, target {}", t / total);
        }
        Ok(())
    }
}
