//! The colorization networks as candle modules. Nothing here opens windows, starts threads
//! or picks devices: callers pass a `Device` and tensors.

pub mod compact;
pub mod fixture;
mod kernels;
mod layers;
mod pth;
mod resnet;
pub mod spec;
mod unet;
pub mod weights;
pub mod winograd;

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

pub use spec::Arch;
pub use weights::{FoldedWeights, LoadError, TensorInfo};

/// The three generators DeOldify released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    Artistic,
    Stable,
    Video,
}

impl Variant {
    pub const ALL: [Variant; 3] = [Variant::Artistic, Variant::Stable, Variant::Video];

    pub fn arch(self) -> Arch {
        match self {
            Variant::Artistic => Arch::Deep34,
            Variant::Stable | Variant::Video => Arch::Wide101,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Variant::Artistic => "artistic",
            Variant::Stable => "stable",
            Variant::Video => "video",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name().eq_ignore_ascii_case(name))
    }

    /// DeOldify's defaults: 35 for still images, 21 for the video model.
    pub fn default_render_factor(self) -> u32 {
        match self {
            Variant::Video => 21,
            Variant::Artistic | Variant::Stable => 35,
        }
    }
}

/// A DeOldify generator, ready to run.
pub struct Generator {
    variant: Variant,
    net: unet::Unet,
    device: Device,
}

impl Generator {
    /// Loads any supported weight file (torch zip or legacy `.pth`, flat or under `model`;
    /// raw or folded safetensors). The architecture comes from the keys; Stable and Video
    /// share one layout, so a file whose name says "video" is Video, else Stable.
    pub fn load(path: &Path, device: &Device) -> Result<Self, LoadError> {
        Self::load_as(path, None, device)
    }

    /// As [`Generator::load`], with the variant chosen by the user.
    pub fn load_as(path: &Path, variant: Option<Variant>, device: &Device) -> Result<Self, LoadError> {
        let weights = weights::load_folded(path, variant)?;
        Self::from_folded(weights, device).map_err(|e| LoadError::Compute { path: path.to_owned(), why: e.to_string() })
    }

    pub fn from_folded(weights: FoldedWeights, device: &Device) -> candle_core::Result<Self> {
        let variant = weights.variant;
        let vb = VarBuilder::from_tensors(weights.tensors, DType::F32, device);
        let net = unet::Unet::new(&vb, variant.arch())?;
        Ok(Self { variant, net, device: device.clone() })
    }

    pub fn variant(&self) -> Variant {
        self.variant
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// (1, 3, S, S) ImageNet-normalised input, S a multiple of 16 → raw output in (−3, 3).
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.net.forward_traced(x, &mut |_, _| {})
    }

    /// As `forward`, showing each stage's output to `trace` under its upstream module name.
    pub fn forward_traced(&self, x: &Tensor, trace: &mut dyn FnMut(&str, &Tensor)) -> candle_core::Result<Tensor> {
        self.net.forward_traced(x, trace)
    }
}
