//! Building blocks of DeOldify's generator, on folded weights: convolution (+ bias, +ReLU),
//! BatchNorm as a per-channel affine, the pixel-shuffle upsampler with blur, and SAGAN
//! self-attention.

use candle_core::{DType, Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::{kernels, winograd};

/// A 2-D convolution with its folded bias. `relu` fuses the activation that follows.
///
/// On the CPU (f32, batch 1, stride 1) our kernels run it: 3×3 convs as Winograd F(4×4, 3×3)
/// on maps from 32×32 (bias, ReLU and a following BatchNorm applied as the outputs are
/// written) or im2col + GEMM below, 1×1 convs as one GEMM. Everything else (strided convs, the
/// 7×7 stem, other devices) uses candle's conv2d.
#[derive(Debug, Clone)]
pub struct Conv {
    weight: Tensor,
    bias: Option<Tensor>,
    /// The bias as plain numbers for the CPU kernel.
    bias_values: Option<Vec<f32>>,
    stride: usize,
    padding: usize,
}

impl Conv {
    /// Loads `{vb}.weight` (out, in, k, k) and, when `bias`, `{vb}.bias`. Padding is "same"
    /// for stride 1, as everywhere in DeOldify.
    pub fn new(vb: &VarBuilder, out_ch: usize, in_ch: usize, kernel: usize, stride: usize, bias: bool) -> Result<Self> {
        let weight = vb.get((out_ch, in_ch, kernel, kernel), "weight")?;
        let bias = if bias { Some(vb.get(out_ch, "bias")?) } else { None };
        Self::from_tensors(weight, bias, stride)
    }

    /// From folded tensors: weight (out, in, k, k), bias (out).
    pub fn from_tensors(weight: Tensor, bias: Option<Tensor>, stride: usize) -> Result<Self> {
        let (out_ch, _, kernel, _) = weight.dims4()?;
        let bias_values = bias.as_ref().map(|b| b.to_dtype(DType::F32)?.to_vec1()).transpose()?;
        let bias = bias.map(|b| b.reshape((1, out_ch, 1, 1))).transpose()?;
        Ok(Self { weight, bias, bias_values, stride, padding: (kernel - 1) / 2 })
    }

    pub fn forward(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
        self.forward_then(x, relu, None)
    }

    /// Which CPU kernel of ours runs this conv on `x`, if any.
    fn cpu_kernel(&self, x: &Tensor) -> Result<Option<CpuKernel>> {
        let (b, _, h, w) = x.dims4()?;
        if !(x.device().is_cpu() && x.dtype() == DType::F32 && self.weight.dtype() == DType::F32)
            || b != 1
            || self.stride != 1
        {
            return Ok(None);
        }
        Ok(match self.weight.dims()[2..] {
            [1, 1] => Some(CpuKernel::Gemm),
            [3, 3] if winograd::worth_it(h, w) => Some(CpuKernel::Winograd),
            // The column buffer is 9× the input: small maps only.
            [3, 3] if h * w < winograd::MIN_PIXELS => Some(CpuKernel::Im2col),
            _ => None,
        })
    }

    /// conv → bias → ReLU (when `relu`) → `bn`.
    pub fn forward_then(&self, x: &Tensor, relu: bool, bn: Option<&Affine>) -> Result<Tensor> {
        let affine = bn.map(|bn| (bn.scale_values.as_slice(), bn.shift_values.as_slice()));
        match self.cpu_kernel(x)? {
            Some(CpuKernel::Winograd) => {
                let epilogue =
                    winograd::Epilogue { bias: self.bias_values.as_deref(), relu, affine, accumulate: false };
                return x.contiguous()?.apply_op2_no_bwd(&self.weight, &winograd::Op { epilogue });
            }
            Some(kernel @ (CpuKernel::Gemm | CpuKernel::Im2col)) => {
                let (_, c, h, w) = x.dims4()?;
                let k = self.weight.dim(0)?;
                let bias = self.bias_values.as_deref();
                let mut y = match kernel {
                    CpuKernel::Gemm => self.conv1x1_values(x)?,
                    _ => {
                        self.cpu_values(x, |input, weight| kernels::conv3x3_im2col(input, (c, h, w), weight, k, bias))?
                    }
                };
                kernels::relu_affine(&mut y, k, relu, affine);
                return Tensor::from_vec(y, (1, k, h, w), x.device());
            }
            None => {}
        }
        let y = x.conv2d(&self.weight, self.padding, self.stride, 1, 1)?;
        let y = match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        let y = if relu { y.relu()? } else { y };
        match bn {
            Some(bn) => bn.forward(&y),
            None => Ok(y),
        }
    }

    /// A 1×1 conv + bias on the CPU as plain numbers, (K, H·W).
    fn conv1x1_values(&self, x: &Tensor) -> Result<Vec<f32>> {
        let (c, k) = (x.dim(1)?, self.weight.dim(0)?);
        self.cpu_values(x, |input, weight| kernels::conv1x1(input, c, weight, k, self.bias_values.as_deref()))
    }

    /// Runs a CPU kernel on the numbers of `x` and of the weight, without copying them.
    fn cpu_values(&self, x: &Tensor, kernel: impl FnOnce(&[f32], &[f32]) -> Vec<f32>) -> Result<Vec<f32>> {
        kernels::with_f32(&x.contiguous()?, |input| kernels::with_f32(&self.weight, |weight| kernel(input, weight)))?
    }

    /// `residual + relu(conv(x) + bias)`: fastai's `res_block` ending in `MergeLayer`. On the
    /// CPU the sum is written over `residual`'s numbers (no third full-size buffer), so no other
    /// tensor may share its storage.
    pub fn forward_relu_add(&self, x: &Tensor, residual: Tensor) -> Result<Tensor> {
        if let Some(CpuKernel::Winograd) = self.cpu_kernel(x)? {
            let epilogue = winograd::Epilogue { bias: self.bias_values.as_deref(), relu: true, ..Default::default() };
            let residual = residual.contiguous()?;
            residual.inplace_op3(&x.contiguous()?, &self.weight, &winograd::Op { epilogue })?;
            return Ok(residual);
        }
        residual + self.forward(x, true)?
    }
}

#[derive(Clone, Copy)]
enum CpuKernel {
    /// 1×1: one GEMM.
    Gemm,
    /// 3×3 on an image large enough for Winograd.
    Winograd,
    /// 3×3 on a small image: im2col and one GEMM over all cores.
    Im2col,
}

/// BatchNorm in eval mode, folded to `x·scale + shift` per channel.
#[derive(Debug, Clone)]
pub struct Affine {
    scale: Tensor,
    shift: Tensor,
    /// The same as plain numbers, for convolutions that apply it as they write.
    scale_values: Vec<f32>,
    shift_values: Vec<f32>,
}

impl Affine {
    pub fn new(vb: &VarBuilder, channels: usize) -> Result<Self> {
        Self::from_tensors(vb.get(channels, "scale")?, vb.get(channels, "shift")?)
    }

    /// From per-channel scale and shift, each (C).
    pub fn from_tensors(scale: Tensor, shift: Tensor) -> Result<Self> {
        let c = scale.dim(0)?;
        Ok(Self {
            scale_values: scale.to_dtype(DType::F32)?.to_vec1()?,
            shift_values: shift.to_dtype(DType::F32)?.to_vec1()?,
            scale: scale.reshape((1, c, 1, 1))?,
            shift: shift.reshape((1, c, 1, 1))?,
        })
    }
}

impl Module for Affine {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.broadcast_mul(&self.scale)?.broadcast_add(&self.shift)
    }
}

/// fastai's blur after a pixel shuffle: replication-pad one row on top and one column on the
/// left, then a 2×2 mean with stride 1. The size is unchanged.
pub fn blur(x: &Tensor) -> Result<Tensor> {
    let padded = x.pad_with_same(2, 1, 0)?.pad_with_same(3, 1, 0)?;
    padded.avg_pool2d_with_stride((2, 2), (1, 1))
}

/// `CustomPixelShuffle_ICNR` (decoder blocks: conv → BN → ReLU) and `PixelShuffle_ICNR`
/// (layers.8: weight-normed conv with bias → ReLU); both end in shuffle ×2 and blur.
/// With the BN folded into the conv they are the same computation.
#[derive(Debug, Clone)]
pub struct Upsampler {
    conv: Conv,
}

impl Upsampler {
    /// `vb` points at the conv (`….shuf.conv.0` or `layers.8.conv.0`).
    pub fn new(vb: &VarBuilder, in_ch: usize, out_ch: usize) -> Result<Self> {
        Ok(Self::from_conv(Conv::new(vb, 4 * out_ch, in_ch, 1, 1, true)?))
    }

    /// From a 1×1 conv with 4 × the output channels (BatchNorm folded in).
    pub fn from_conv(conv: Conv) -> Self {
        Self { conv }
    }

    /// The upsampled `x`, cropped to `rest`'s height and width, concatenated with `rest` along
    /// the channels: how each decoder block (and the final merge) consumes it. On the CPU the
    /// shuffle and blur write straight into the concatenation.
    pub fn forward_cat(&self, x: &Tensor, rest: &Tensor) -> Result<Tensor> {
        let (_, rest_ch, out_h, out_w) = rest.dims4()?;
        if let Some(CpuKernel::Gemm) = self.conv.cpu_kernel(x)? {
            let (_, _, h, w) = x.dims4()?;
            let up_ch = self.conv.weight.dim(0)? / 4;
            let y = self.conv.conv1x1_values(x)?;
            let mut out = vec![0f32; (up_ch + rest_ch) * out_h * out_w];
            let (up, tail) = out.split_at_mut(up_ch * out_h * out_w);
            kernels::relu_shuffle_blur(&y, (h, w), (out_h, out_w), up);
            drop(y);
            kernels::with_f32(&rest.contiguous()?, |r| tail.copy_from_slice(r))?;
            return Tensor::from_vec(out, (1, up_ch + rest_ch, out_h, out_w), x.device());
        }
        // torch's legacy `nearest` from n+1 to n picks source index j for output j: a crop.
        let up = self.forward(x)?.narrow(2, 0, out_h)?.narrow(3, 0, out_w)?;
        Tensor::cat(&[&up, rest], 1)
    }
}

impl Module for Upsampler {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = self.conv.forward(x, true)?;
        blur(&candle_nn::ops::pixel_shuffle(&y, 2)?)
    }
}

/// fastai's `SelfAttention` (SAGAN): f = Wq·x, g = Wk·x, h = Wv·x over the flattened
/// positions; β = softmax(fᵀg) over the *source* index (dim 1 in torch); out = γ·h·β + x.
/// No 1/√d scaling.
#[derive(Debug, Clone)]
pub struct SelfAttention {
    query: Tensor,
    key: Tensor,
    value: Tensor,
    gamma: Tensor,
}

impl SelfAttention {
    pub fn new(vb: &VarBuilder, channels: usize) -> Result<Self> {
        let c8 = channels / 8;
        let load =
            |name: &str, out: usize| -> Result<Tensor> { vb.pp(name).get((out, channels, 1), "weight")?.squeeze(2) };
        Ok(Self {
            query: load("query", c8)?,
            key: load("key", c8)?,
            value: load("value", channels)?,
            gamma: vb.get(1, "gamma")?,
        })
    }
}

impl Module for SelfAttention {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, c, h, w) = x.dims4()?;
        let flat = x.reshape((b, c, h * w))?;
        let project = |m: &Tensor| m.unsqueeze(0)?.broadcast_as((b, m.dim(0)?, c))?.matmul(&flat);
        let f = project(&self.query)?; // (b, c/8, n)
        let g = project(&self.key)?; // (b, c/8, n)
        let v = project(&self.value)?; // (b, c, n)
        // Scores transposed, (b, n_j, n_i): Sᵀ = gᵀ·f, so the softmax runs over the last dim.
        let scores_t = g.transpose(1, 2)?.contiguous()?.matmul(&f)?;
        let beta = candle_nn::ops::softmax_last_dim(&scores_t)?;
        drop(scores_t);
        // o[:, j] = Σ_i v[:, i]·β[i, j]  ⇔  o = v · βᵀ with β stored as (j, i).
        let o = v.matmul(&beta.transpose(1, 2)?)?;
        let out = o.broadcast_mul(&self.gamma)?.add(&flat)?;
        out.reshape((b, c, h, w))
    }
}
