//! The parameter layout of DeOldify's two generator architectures, in state-dict order.
//!
//! One list of units per architecture drives the key check of a file (missing, unexpected,
//! mis-shaped), the folding of spectral norm, weight norm and BatchNorm, and the layout of
//! the folded file that `tintype convert` writes.

/// How a convolution's weight is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Norm {
    /// `weight`.
    Plain,
    /// `weight_orig`, `weight_u`, `weight_v` (torch.nn.utils.spectral_norm).
    Spectral,
    /// `weight_g`, `weight_v` (torch.nn.utils.weight_norm).
    Weight,
}

#[derive(Debug, Clone)]
pub(crate) struct ConvUnit {
    pub prefix: String,
    pub out_ch: usize,
    pub in_ch: usize,
    pub kernel: usize,
    /// Self-attention's Conv1d: weights shaped (out, in, 1).
    pub conv1d: bool,
    pub norm: Norm,
    pub bias: bool,
    /// A BatchNorm right after the conv (no activation between), folded into it.
    pub folded_bn: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum Unit {
    Conv(ConvUnit),
    /// A BatchNorm that follows a ReLU (or stands alone): kept as a per-channel affine.
    BatchNorm {
        prefix: String,
        channels: usize,
    },
    /// Self-attention's learned residual scale, shape (1).
    Gamma(String),
}

/// The two generator architectures DeOldify released weights for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// ResNet34 encoder, "deep" decoder (two convs per block), nf_factor 1.5: Artistic.
    Deep34,
    /// ResNet101 encoder, "wide" decoder (one 512-channel conv per block), nf_factor 2:
    /// Stable and Video.
    Wide101,
}

pub(crate) const BN_EPS: f64 = 1e-5;

impl Arch {
    /// Channels of the skips, deepest first (1/16, 1/8, 1/4, 1/2).
    pub(crate) fn skip_channels(self) -> [usize; 4] {
        match self {
            Arch::Deep34 => [256, 128, 64, 64],
            Arch::Wide101 => [1024, 512, 256, 64],
        }
    }

    pub(crate) fn encoder_channels(self) -> usize {
        match self {
            Arch::Deep34 => 512,
            Arch::Wide101 => 2048,
        }
    }

    /// Blocks per ResNet stage.
    pub(crate) fn stage_blocks(self) -> [usize; 4] {
        match self {
            Arch::Deep34 => [3, 4, 6, 3],
            Arch::Wide101 => [3, 4, 23, 3],
        }
    }

    /// The decoder's (shuffle output, conv widths) for each block, and whether the block
    /// ends in self-attention. Mirrors `UnetBlockDeep` / `UnetBlockWide.__init__`.
    pub(crate) fn decoder_blocks(self) -> Vec<DecoderBlockShape> {
        let mut up_in = self.encoder_channels();
        let mut blocks = Vec::new();
        for (i, &skip) in self.skip_channels().iter().enumerate() {
            let last = i == 3;
            let (shuf_out, convs) = match self {
                Arch::Deep34 => {
                    let shuf_out = up_in / 2;
                    let ni = shuf_out + skip;
                    // nf = int((ni if final_div else ni // 2) * 1.5)
                    let nf = (if last { ni / 2 } else { ni }) * 3 / 2;
                    (shuf_out, vec![(ni, nf), (nf, nf)])
                }
                Arch::Wide101 => {
                    let n_out = if last { 512 } else { 1024 };
                    let half = n_out / 2;
                    (half, vec![(half + skip, half)])
                }
            };
            let out = convs.last().expect("every block has a conv").1;
            blocks.push(DecoderBlockShape { up_in, skip, shuf_out, convs, attention: i == 1 });
            up_in = out;
        }
        blocks
    }

    /// Channels of the full-resolution features before the merge with the input image.
    pub(crate) fn final_channels(self) -> usize {
        self.decoder_blocks().last().expect("four blocks").convs.last().expect("a conv").1
    }

    /// Key names of each decoder block's 3×3 convs (`conv1`, `conv2` deep; `conv` wide).
    pub(crate) fn conv_names(self) -> &'static [&'static str] {
        match self {
            Arch::Deep34 => &["conv1", "conv2"],
            Arch::Wide101 => &["conv"],
        }
    }

    /// Every parameter unit, in the order of the state dict.
    pub(crate) fn units(self) -> Vec<Unit> {
        let mut units = Vec::new();
        let conv = |prefix: String, out_ch, in_ch, kernel, norm, bias, folded_bn: Option<String>| {
            Unit::Conv(ConvUnit { prefix, out_ch, in_ch, kernel, conv1d: false, norm, bias, folded_bn })
        };

        // layers.0: torchvision ResNet children 0..7 (conv1, bn1, relu, maxpool, layer1..4).
        // Every encoder conv is plain, bias-free, with its BatchNorm right after it.
        let plain = |prefix: String, out_ch, in_ch, kernel, bn: String| {
            conv(prefix, out_ch, in_ch, kernel, Norm::Plain, false, Some(bn))
        };
        units.push(plain("layers.0.0".into(), 64, 3, 7, "layers.0.1".into()));
        let mut in_ch = 64;
        for (stage, &blocks) in self.stage_blocks().iter().enumerate() {
            let width = 64 << stage;
            for b in 0..blocks {
                let p = format!("layers.0.{}.{b}", stage + 4);
                let stride = if stage > 0 && b == 0 { 2 } else { 1 };
                // (name, out, in, kernel) of the block's convs, each followed by bn1, bn2, bn3.
                let convs = match self {
                    Arch::Deep34 => vec![(width, in_ch, 3), (width, width, 3)],
                    Arch::Wide101 => vec![(width, in_ch, 1), (width, width, 3), (width * 4, width, 1)],
                };
                let out_ch = convs.last().expect("a conv").0;
                for (i, (o, c, k)) in convs.into_iter().enumerate() {
                    units.push(plain(format!("{p}.conv{}", i + 1), o, c, k, format!("{p}.bn{}", i + 1)));
                }
                if b == 0 && (stride != 1 || in_ch != out_ch) {
                    units.push(plain(format!("{p}.downsample.0"), out_ch, in_ch, 1, format!("{p}.downsample.1")));
                }
                in_ch = out_ch;
            }
        }

        // layers.1 BN, layers.3 the middle convs (conv → ReLU → BN).
        let enc = self.encoder_channels();
        units.push(Unit::BatchNorm { prefix: "layers.1".into(), channels: enc });
        for (i, (o, c)) in [(2 * enc, enc), (enc, 2 * enc)].into_iter().enumerate() {
            units.push(conv(format!("layers.3.{i}.0"), o, c, 3, Norm::Spectral, false, None));
            units.push(Unit::BatchNorm { prefix: format!("layers.3.{i}.2"), channels: o });
        }

        // layers.4..7: decoder blocks.
        let conv_names = self.conv_names();
        for (i, block) in self.decoder_blocks().iter().enumerate() {
            let p = format!("layers.{}", i + 4);
            units.push(conv(
                format!("{p}.shuf.conv.0"),
                4 * block.shuf_out,
                block.up_in,
                1,
                Norm::Spectral,
                false,
                Some(format!("{p}.shuf.conv.1")),
            ));
            units.push(Unit::BatchNorm { prefix: format!("{p}.bn"), channels: block.skip });
            for (name, &(ci, co)) in conv_names.iter().zip(&block.convs) {
                units.push(conv(format!("{p}.{name}.0"), co, ci, 3, Norm::Spectral, false, None));
                units.push(Unit::BatchNorm { prefix: format!("{p}.{name}.2"), channels: co });
            }
            if block.attention {
                let c = block.convs.last().expect("a conv").1;
                let name = conv_names.last().expect("a conv name");
                let sa = format!("{p}.{name}.3");
                units.push(Unit::Gamma(format!("{sa}.gamma")));
                for (part, out_ch) in [("query", c / 8), ("key", c / 8), ("value", c)] {
                    units.push(Unit::Conv(ConvUnit {
                        prefix: format!("{sa}.{part}"),
                        out_ch,
                        in_ch: c,
                        kernel: 1,
                        conv1d: true,
                        norm: Norm::Spectral,
                        bias: false,
                        folded_bn: None,
                    }));
                }
            }
        }

        // layers.8 PixelShuffle_ICNR (weight norm), layers.10 res_block, layers.11 head.
        let last = self.final_channels();
        units.push(conv("layers.8.conv.0".into(), 4 * last, last, 1, Norm::Weight, true, None));
        let merged = last + 3;
        for i in 0..2 {
            units.push(conv(format!("layers.10.layers.{i}.0"), merged, merged, 3, Norm::Spectral, true, None));
        }
        units.push(conv("layers.11.0".into(), 3, merged, 1, Norm::Spectral, true, None));
        units
    }
}

#[derive(Debug, Clone)]
pub(crate) struct DecoderBlockShape {
    pub up_in: usize,
    pub skip: usize,
    pub shuf_out: usize,
    /// (in, out) of each 3×3 conv.
    pub convs: Vec<(usize, usize)>,
    pub attention: bool,
}

impl ConvUnit {
    pub(crate) fn weight_shape(&self) -> Vec<usize> {
        if self.conv1d {
            vec![self.out_ch, self.in_ch, 1]
        } else {
            vec![self.out_ch, self.in_ch, self.kernel, self.kernel]
        }
    }

    pub(crate) fn has_folded_bias(&self) -> bool {
        self.bias || self.folded_bn.is_some()
    }
}

fn bn_keys(prefix: &str, channels: usize, out: &mut Vec<(String, Vec<usize>)>) {
    for field in ["weight", "bias", "running_mean", "running_var"] {
        out.push((format!("{prefix}.{field}"), vec![channels]));
    }
    out.push((format!("{prefix}.num_batches_tracked"), vec![]));
}

/// Key and shape of every entry of the upstream state dict, in its order.
pub(crate) fn raw_manifest(units: &[Unit]) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    for unit in units {
        match unit {
            Unit::Conv(c) => {
                let p = &c.prefix;
                if c.bias {
                    out.push((format!("{p}.bias"), vec![c.out_ch]));
                }
                let w = c.weight_shape();
                match c.norm {
                    Norm::Plain => out.push((format!("{p}.weight"), w)),
                    Norm::Spectral => {
                        let fan_in: usize = w[1..].iter().product();
                        out.push((format!("{p}.weight_orig"), w));
                        out.push((format!("{p}.weight_u"), vec![c.out_ch]));
                        out.push((format!("{p}.weight_v"), vec![fan_in]));
                    }
                    Norm::Weight => {
                        let mut g = vec![1; w.len()];
                        g[0] = c.out_ch;
                        out.push((format!("{p}.weight_g"), g));
                        out.push((format!("{p}.weight_v"), w));
                    }
                }
                if let Some(bn) = &c.folded_bn {
                    bn_keys(bn, c.out_ch, &mut out);
                }
            }
            Unit::BatchNorm { prefix, channels } => bn_keys(prefix, *channels, &mut out),
            Unit::Gamma(key) => out.push((key.clone(), vec![1])),
        }
    }
    out
}

/// Key and shape of every tensor of a folded file (what the network reads).
pub(crate) fn folded_manifest(units: &[Unit]) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    for unit in units {
        match unit {
            Unit::Conv(c) => {
                out.push((format!("{}.weight", c.prefix), c.weight_shape()));
                if c.has_folded_bias() {
                    out.push((format!("{}.bias", c.prefix), vec![c.out_ch]));
                }
            }
            Unit::BatchNorm { prefix, channels } => {
                out.push((format!("{prefix}.scale"), vec![*channels]));
                out.push((format!("{prefix}.shift"), vec![*channels]));
            }
            Unit::Gamma(key) => out.push((key.clone(), vec![1])),
        }
    }
    out
}
