//! DeOldify's `DynamicUnetDeep` (Artistic) and `DynamicUnetWide` (Stable, Video) on folded
//! weights. The key layout is upstream's (`layers.<i>…`), so a folded file needs no renaming.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{Affine, Conv, SelfAttention, Upsampler};
use super::resnet::Encoder;
use super::spec::Arch;

/// A decoder block: upsample the deeper features, crop to the skip's size, concatenate with
/// the BN'd skip, ReLU, then one (wide) or two (deep) conv → ReLU → BN, self-attention in
/// the 1/8 block.
#[derive(Debug, Clone)]
struct DecoderBlock {
    shuf: Upsampler,
    skip_bn: Affine,
    convs: Vec<(Conv, Affine)>,
    attention: Option<SelfAttention>,
}

impl DecoderBlock {
    fn forward(&self, up_in: &Tensor, skip: &Tensor) -> Result<Tensor> {
        // The upsampled half is a mean of ReLU outputs already; the ReLU after the
        // concatenation only changes the skip's half.
        let mut x = self.shuf.forward_cat(up_in, &self.skip_bn.forward(skip)?.relu()?)?;
        for (conv, bn) in &self.convs {
            x = conv.forward_then(&x, true, Some(bn))?;
        }
        match &self.attention {
            Some(sa) => sa.forward(&x),
            None => Ok(x),
        }
    }
}

/// The whole generator: ImageNet-normalised RGB in (1, 3, H, W), H and W even; out the
/// same shape, in (−3, 3), also ImageNet-normalised.
#[derive(Debug, Clone)]
pub struct Unet {
    encoder: Encoder,
    encoder_bn: Affine,
    middle: [(Conv, Affine); 2],
    blocks: Vec<DecoderBlock>,
    final_shuf: Upsampler,
    res_convs: [Conv; 2],
    head: Conv,
}

impl Unet {
    pub fn new(vb: &VarBuilder, arch: Arch) -> Result<Self> {
        let layers = vb.pp("layers");
        let encoder = Encoder::new(&layers.pp(0), arch)?;
        let enc = arch.encoder_channels();
        let encoder_bn = Affine::new(&layers.pp(1), enc)?;
        let mid = |i: usize, out_ch, in_ch| -> Result<(Conv, Affine)> {
            let vb = layers.pp(3).pp(i);
            Ok((Conv::new(&vb.pp(0), out_ch, in_ch, 3, 1, false)?, Affine::new(&vb.pp(2), out_ch)?))
        };
        let middle = [mid(0, 2 * enc, enc)?, mid(1, enc, 2 * enc)?];

        let conv_names = arch.conv_names();
        let mut blocks = Vec::new();
        for (i, shape) in arch.decoder_blocks().iter().enumerate() {
            let vb = layers.pp(i + 4);
            let mut convs = Vec::new();
            for (name, &(ci, co)) in conv_names.iter().zip(&shape.convs) {
                let vb = vb.pp(name);
                convs.push((Conv::new(&vb.pp(0), co, ci, 3, 1, false)?, Affine::new(&vb.pp(2), co)?));
            }
            let attention = if shape.attention {
                let channels = shape.convs.last().expect("a conv").1;
                let name = conv_names.last().expect("a conv name");
                Some(SelfAttention::new(&vb.pp(name).pp(3), channels)?)
            } else {
                None
            };
            blocks.push(DecoderBlock {
                shuf: Upsampler::new(&vb.pp("shuf").pp("conv").pp(0), shape.up_in, shape.shuf_out)?,
                skip_bn: Affine::new(&vb.pp("bn"), shape.skip)?,
                convs,
                attention,
            });
        }

        let last = arch.final_channels();
        let merged = last + 3;
        let res = |i: usize| Conv::new(&layers.pp(10).pp("layers").pp(i).pp(0), merged, merged, 3, 1, true);
        Ok(Self {
            encoder,
            encoder_bn,
            middle,
            blocks,
            final_shuf: Upsampler::new(&layers.pp(8).pp("conv").pp(0), last, last)?,
            res_convs: [res(0)?, res(1)?],
            head: Conv::new(&layers.pp(11).pp(0), 3, merged, 1, 1, true)?,
        })
    }

    /// `trace` sees intermediate outputs under their upstream module names (`layers.0.2`,
    /// `layers.0.4`…`layers.0.7`, `layers.4`…`layers.7`, `layers.10`, `layers.11`), so tests can
    /// compare each stage with the oracle's forward hooks.
    pub fn forward_traced(&self, x: &Tensor, trace: &mut dyn FnMut(&str, &Tensor)) -> Result<Tensor> {
        let enc = self.encoder.forward(x, trace)?;
        let mut h = self.encoder_bn.forward(&enc.features)?.relu()?;
        drop(enc.features);
        for (conv, bn) in &self.middle {
            h = conv.forward_then(&h, true, Some(bn))?;
        }
        for (i, (block, skip)) in self.blocks.iter().zip(&enc.skips).enumerate() {
            h = block.forward(&h, skip)?;
            trace(&format!("layers.{}", i + 4), &h);
        }
        drop(enc.skips);
        // layers.8 (upsample) and layers.9, MergeLayer(dense): [decoder features, network input].
        // Not traced: layers.10 overwrites it with the residual sum.
        let merged = self.final_shuf.forward_cat(&h, x)?;
        drop(h);
        let r = self.res_convs[0].forward(&merged, true)?;
        let res = self.res_convs[1].forward_relu_add(&r, merged)?;
        drop(r);
        trace("layers.10", &res);
        let logits = self.head.forward(&res, false)?;
        trace("layers.11", &logits);
        // SigmoidRange(−3, 3).
        (candle_nn::ops::sigmoid(&logits)? * 6.0)? - 3.0
    }
}
