//! Runs a photo through a colorizer: pipeline before, the network, pipeline after; and
//! picks the device it runs on.

pub mod device;
pub mod memory;
pub mod worker;

use image::DynamicImage;

use std::borrow::Cow;
use std::path::Path;

use candle_core::Device;

use crate::model::compact::Compact;
use crate::model::{Generator, LoadError, Variant};
use crate::pipeline::brush::{self, Stroke, Tool};
use crate::pipeline::chroma::{self, ChromaControls};
use crate::pipeline::crop::Crop;
use crate::pipeline::defade::defade;
use crate::pipeline::{deoldify, grain};

/// What the user can tune per photo.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The model sees a 16·render_factor square (or as many pixels in the photo's shape).
    pub render_factor: u32,
    /// Fading repair strength, 0 (off) to 1.
    pub defade: f32,
    pub chroma: ChromaControls,
    /// Quarter turns clockwise given to the photo before anything else, for scans that lie on
    /// their side: the model sees, and the result keeps, the photo upright. Always 0–3 where
    /// the window and the command line make it (the engine takes any value modulo 4).
    pub quarter_turns: u8,
    /// The brush's strokes (taking colour away, painting one, or giving the model's back), on
    /// the whole photo as turned (not the crop), oldest first.
    pub brush: Vec<Stroke>,
    /// The part of the photo (as turned) colorized and kept; `None` keeps it whole.
    pub crop: Option<Crop>,
}

impl Settings {
    /// The render factor, the turn and each adjustment moved from neutral, as an exported
    /// picture's record gives them: `render factor 35, fading repair 0.50, colour strength 1.20`.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("render factor {}", self.render_factor)];
        if !self.quarter_turns.is_multiple_of(4) {
            parts.push(format!("turned {}° clockwise", 90 * (self.quarter_turns % 4) as u32));
        }
        if let Some(c) = self.crop {
            if c.angle != 0.0 {
                let way = if c.angle > 0.0 { "clockwise" } else { "anticlockwise" };
                parts.push(format!("straightened {:.1}° {way}", c.angle.abs()));
            }
            if !(Crop { angle: 0.0, ..c }).is_whole() {
                let share = |from: f32, to: f32| ((to - from) * 100.0).round();
                parts.push(format!("cropped to {} % × {} %", share(c.left, c.right), share(c.top, c.bottom)));
            }
        }
        let used = |kind: Tool| self.brush.iter().filter(|s| s.tool.same_kind(kind)).count();
        for (done, n) in [
            ("colour removed", used(Tool::Remove)),
            ("colour painted", used(Tool::Paint([0; 3]))),
            ("colour restored", used(Tool::Restore)),
        ] {
            if n > 0 {
                parts.push(format!("{done} by {n} brush stroke{}", if n == 1 { "" } else { "s" }));
            }
        }
        let ChromaControls { saturation, warmth, tint } = self.chroma;
        for (name, value, neutral) in [
            ("fading repair", self.defade, 0.0),
            ("colour strength", saturation, 1.0),
            ("warmth", warmth, 0.0),
            ("tint", tint, 0.0),
        ] {
            if value != neutral {
                parts.push(format!("{name} {value:.2}"));
            }
        }
        parts.join(", ")
    }

    /// The brush's strokes where the brush lays them: on the crop of a photo of `whole` pixels.
    pub fn strokes_on_crop(&self, whole: (u32, u32)) -> Cow<'_, [Stroke]> {
        match self.crop {
            Some(crop) => self.brush.iter().map(|s| crop.stroke_from_whole(s, whole)).collect(),
            None => Cow::Borrowed(&self.brush),
        }
    }
}

/// `photo` turned clockwise by `quarter_turns` quarter turns.
pub fn turn(photo: DynamicImage, quarter_turns: u8) -> DynamicImage {
    match quarter_turns % 4 {
        1 => photo.rotate90(),
        2 => photo.rotate180(),
        3 => photo.rotate270(),
        _ => photo,
    }
}

/// A loaded colorization network.
// One is held at a time, so the variants' sizes (hundreds of bytes each) do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Colorizer {
    DeOldify(Generator),
    /// The built-in compact colorizer.
    Compact(Compact),
}

impl Colorizer {
    /// Loads any model file: the compact colorizer's export, or a DeOldify generator in any
    /// container (`variant` picks Stable or Video for their shared layout).
    pub fn load(path: &Path, variant: Option<Variant>, device: &Device) -> Result<Self, LoadError> {
        if Compact::is_compact_file(path) {
            return Ok(Colorizer::Compact(Compact::load(path, device)?));
        }
        Ok(Colorizer::DeOldify(Generator::load_as(path, variant, device)?))
    }

    /// The network alone: (1, 3, H, W) ImageNet-normalised grey → RGB, ImageNet-normalised.
    pub fn forward(&self, x: &candle_core::Tensor) -> candle_core::Result<candle_core::Tensor> {
        match self {
            Colorizer::DeOldify(g) => g.forward(x),
            Colorizer::Compact(c) => c.forward(x),
        }
    }

    /// The network's input from the grey picture of [`Self::input_size`]: DeOldify's exactly;
    /// the compact model's after its grain filter, which only the network sees (the result
    /// keeps the photo's own luminance).
    pub fn input(&self, grey: &image::GrayImage) -> candle_core::Result<candle_core::Tensor> {
        match self {
            Colorizer::Compact(c) => deoldify::normalise(&grain::non_local_means(grey, c.grain_filter()), c.device()),
            Colorizer::DeOldify(g) => deoldify::normalise(grey, g.device()),
        }
    }

    /// The size of the grey picture the network sees for a photo of `photo` pixels: DeOldify's
    /// 16·render_factor square, or the compact model's (see [`Compact::input_size`]).
    pub fn input_size(&self, photo: (u32, u32), render_factor: u32) -> (u32, u32) {
        match self {
            Colorizer::DeOldify(_) => (16 * render_factor, 16 * render_factor),
            Colorizer::Compact(c) => c.input_size(photo, render_factor),
        }
    }

    pub fn device(&self) -> &Device {
        match self {
            Colorizer::DeOldify(g) => g.device(),
            Colorizer::Compact(c) => c.device(),
        }
    }

    /// The model's name as people know it (`artistic`, `stable`, `video`).
    pub fn name(&self) -> &'static str {
        match self {
            Colorizer::DeOldify(g) => g.variant().name(),
            Colorizer::Compact(_) => "compact",
        }
    }

    pub fn default_render_factor(&self) -> u32 {
        match self {
            Colorizer::DeOldify(g) => g.variant().default_render_factor(),
            Colorizer::Compact(_) => 35,
        }
    }

    /// Colorizes `photo` (any colour type; alpha is dropped as DeOldify does). 16-bit input
    /// gives 16-bit output with its own luminance; everything else gives 8-bit RGB.
    /// `photo` is the whole photo as turned; the settings' crop is taken from it here.
    pub fn colorize(&self, photo: &DynamicImage, settings: &Settings) -> candle_core::Result<DynamicImage> {
        let whole = (photo.width(), photo.height());
        let cropped = settings.crop.map(|c| c.apply(photo));
        let layer = self.colour_layer(cropped.as_ref().unwrap_or(photo), settings.render_factor, settings.defade)?;
        Ok(layer.merge(&settings.chroma, &settings.strokes_on_crop(whole)))
    }

    /// The expensive part of [`Self::colorize`]: fading repair and the network. Colour
    /// strength, cast and the brush are applied afterwards by [`ColourLayer::merge`], so moving
    /// those sliders or painting does not run the network again.
    pub fn colour_layer(
        &self,
        photo: &DynamicImage,
        render_factor: u32,
        defade_strength: f32,
    ) -> candle_core::Result<ColourLayer> {
        // Fading repair comes first: the model sees, and the result keeps, the repaired luminance.
        let base = match (defade_strength > 0.0, is_16_bit(photo)) {
            (false, _) => photo.clone(),
            (true, false) => DynamicImage::ImageRgb8(defade(&photo.to_rgb8(), defade_strength)),
            (true, true) => DynamicImage::ImageRgb16(defade(&photo.to_rgb16(), defade_strength)),
        };
        let orig8 = base.to_rgb8();
        // Both networks take DeOldify's kind of input (the compact one in the photo's shape)
        // and give its kind of output.
        let (w, h) = self.input_size(orig8.dimensions(), render_factor);
        let grey = deoldify::grey_resized(&orig8, w, h);
        let y = self.forward(&self.input(&grey)?)?;
        let small = deoldify::denormalise(&y)?;
        let colour = deoldify::pil_bilinear_resize(&small, orig8.width(), orig8.height());
        Ok(ColourLayer { base, orig8, colour })
    }
}

/// A photo (after fading repair) and the network's colour for it, at the photo's size.
pub struct ColourLayer {
    base: DynamicImage,
    orig8: image::RgbImage,
    colour: image::RgbImage,
}

impl ColourLayer {
    /// The result: the photo's luminance under the model's chroma, with the chroma controls,
    /// and what the brush's strokes did (grey, a colour painted, the model's colour given back).
    pub fn merge(&self, controls: &ChromaControls, strokes: &[Stroke]) -> DynamicImage {
        let brushed;
        let colour = if strokes.is_empty() {
            &self.colour
        } else {
            brushed = brush::apply(&self.colour, strokes);
            &brushed
        };
        if is_16_bit(&self.base) {
            DynamicImage::ImageRgb16(chroma::merge_16bit(&self.base.to_rgb16(), colour, controls))
        } else {
            DynamicImage::ImageRgb8(chroma::merge_8bit(&self.orig8, colour, controls))
        }
    }
}

fn is_16_bit(img: &DynamicImage) -> bool {
    matches!(
        img,
        DynamicImage::ImageLuma16(_)
            | DynamicImage::ImageLumaA16(_)
            | DynamicImage::ImageRgb16(_)
            | DynamicImage::ImageRgba16(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_names_each_tool_the_brush_used() {
        let stroke = |tool| Stroke { points: vec![[0.5, 0.5]], radius: 0.1, tool };
        let settings = |brush| Settings {
            render_factor: 35,
            defade: 0.0,
            chroma: ChromaControls::default(),
            quarter_turns: 1,
            brush,
            crop: None,
        };
        assert_eq!(settings(vec![]).describe(), "render factor 35, turned 90° clockwise");
        let straightened = Settings { crop: Some(Crop { angle: -2.5, ..Crop::WHOLE }), ..settings(vec![]) };
        assert_eq!(straightened.describe(), "render factor 35, turned 90° clockwise, straightened 2.5° anticlockwise");
        let brush =
            vec![stroke(Tool::Remove), stroke(Tool::Paint([1, 2, 3])), stroke(Tool::Remove), stroke(Tool::Restore)];
        assert_eq!(
            settings(brush).describe(),
            "render factor 35, turned 90° clockwise, colour removed by 2 brush strokes, \
             colour painted by 1 brush stroke, colour restored by 1 brush stroke"
        );
    }
}
