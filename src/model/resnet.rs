//! The torchvision ResNet body (children 0..7) as DeOldify's encoder, returning the skip
//! activations the decoder consumes. BatchNorms are folded into the convs before them.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::Conv;
use super::spec::Arch;

#[derive(Debug, Clone)]
enum Block {
    /// ResNet34: conv3×3 → BN → ReLU → conv3×3 → BN, + identity or downsample, ReLU.
    Basic { conv1: Conv, conv2: Conv, downsample: Option<Conv> },
    /// ResNet101 ("v1.5", stride on the 3×3): 1×1 → 3×3 → 1×1 (×4), + shortcut, ReLU.
    Bottleneck { conv1: Conv, conv2: Conv, conv3: Conv, downsample: Option<Conv> },
}

impl Block {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (y, downsample) = match self {
            Block::Basic { conv1, conv2, downsample } => (conv2.forward(&conv1.forward(x, true)?, false)?, downsample),
            Block::Bottleneck { conv1, conv2, conv3, downsample } => {
                let h = conv2.forward(&conv1.forward(x, true)?, true)?;
                (conv3.forward(&h, false)?, downsample)
            }
        };
        let shortcut = match downsample {
            Some(d) => d.forward(x, false)?,
            None => x.clone(),
        };
        (y + shortcut)?.relu()
    }
}

/// What the encoder hands the decoder: its output and the skips, deepest first
/// (layer3 at 1/16, layer2 at 1/8, layer1 at 1/4, the stem's ReLU at 1/2).
pub struct EncoderOutput {
    pub features: Tensor,
    pub skips: [Tensor; 4],
}

#[derive(Debug, Clone)]
pub struct Encoder {
    stem: Conv,
    stages: Vec<Vec<Block>>,
}

impl Encoder {
    /// `vb` points at `layers.0`.
    pub fn new(vb: &VarBuilder, arch: Arch) -> Result<Self> {
        let stem = Conv::new(&vb.pp("0"), 64, 3, 7, 2, true)?;
        let mut in_ch = 64;
        let mut stages = Vec::new();
        for (stage, &blocks) in arch.stage_blocks().iter().enumerate() {
            let width = 64 << stage;
            let vb_stage = vb.pp(stage + 4);
            let mut layer = Vec::new();
            for b in 0..blocks {
                let vb = vb_stage.pp(b);
                let stride = if stage > 0 && b == 0 { 2 } else { 1 };
                let out_ch = match arch {
                    Arch::Deep34 => width,
                    Arch::Wide101 => width * 4,
                };
                let downsample = if b == 0 && (stride != 1 || in_ch != out_ch) {
                    Some(Conv::new(&vb.pp("downsample").pp("0"), out_ch, in_ch, 1, stride, true)?)
                } else {
                    None
                };
                layer.push(match arch {
                    Arch::Deep34 => Block::Basic {
                        conv1: Conv::new(&vb.pp("conv1"), width, in_ch, 3, stride, true)?,
                        conv2: Conv::new(&vb.pp("conv2"), width, width, 3, 1, true)?,
                        downsample,
                    },
                    Arch::Wide101 => Block::Bottleneck {
                        conv1: Conv::new(&vb.pp("conv1"), width, in_ch, 1, 1, true)?,
                        conv2: Conv::new(&vb.pp("conv2"), width, width, 3, stride, true)?,
                        conv3: Conv::new(&vb.pp("conv3"), out_ch, width, 1, 1, true)?,
                        downsample,
                    },
                });
                in_ch = out_ch;
            }
            stages.push(layer);
        }
        Ok(Self { stem, stages })
    }

    /// `trace` sees the outputs of `layers.0.2` (stem ReLU) and `layers.0.4`..`layers.0.7`.
    pub fn forward(&self, x: &Tensor, trace: &mut dyn FnMut(&str, &Tensor)) -> Result<EncoderOutput> {
        let stem = self.stem.forward(x, true)?;
        trace("layers.0.2", &stem);
        // MaxPool 3×3, stride 2, padding 1. Its input is post-ReLU (≥ 0), so zero padding
        // gives the same maxima as torch's −∞ padding.
        let mut h = stem.pad_with_zeros(2, 1, 1)?.pad_with_zeros(3, 1, 1)?.max_pool2d_with_stride(3, 2)?;
        let mut outs = Vec::with_capacity(4);
        for (i, stage) in self.stages.iter().enumerate() {
            for block in stage {
                h = block.forward(&h)?;
            }
            trace(&format!("layers.0.{}", i + 4), &h);
            outs.push(h.clone());
        }
        let features = outs.pop().expect("four stages");
        let [s4, s8, s16]: [Tensor; 3] = outs.try_into().expect("three skip stages");
        Ok(EncoderOutput { features, skips: [s16, s8, s4, stem] })
    }
}
