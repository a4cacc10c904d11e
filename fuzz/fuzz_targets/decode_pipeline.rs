//! Any bytes through decode and the whole pipeline around the model (the network itself is
//! replaced by its input, which has the right shape and range): prepare, fading repair,
//! denormalise, resize back, chroma merge (8- and 16-bit), encode. Nothing may panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tintype::pipeline::chroma::{self, ChromaControls};
use tintype::pipeline::{defade::defade, deoldify};

fuzz_target!(|data: &[u8]| {
    let Ok(photo) = tintype::io::decode::decode_bytes(Path::new("fuzz-input"), data) else { return };
    let img = &photo.pixels;
    // Keep each run fast: the decoder's limits are tested elsewhere.
    if (img.width() as u64) * (img.height() as u64) > 1 << 20 {
        return;
    }
    let rgb = defade(&img.to_rgb8(), 0.7);
    let (_, x) = deoldify::prepare(&rgb, 7, &candle_core::Device::Cpu).expect("prepare");
    let square = deoldify::denormalise(&x).expect("denormalise");
    let colour = deoldify::pil_bilinear_resize(&square, rgb.width(), rgb.height());
    let controls = ChromaControls { saturation: 1.3, warmth: 0.2, tint: -0.1 };
    let merged = chroma::merge_8bit(&rgb, &colour, &controls);
    let wide = chroma::merge_16bit(&img.to_rgb16(), &colour, &controls);
    let png = tintype::io::encode::encode(
        &image::DynamicImage::ImageRgb8(merged),
        tintype::io::encode::Format::Png,
        photo.icc_profile.as_deref(),
        None,
    );
    assert!(png.is_ok());
    let tiff = tintype::io::encode::encode(
        &image::DynamicImage::ImageRgb16(wide),
        tintype::io::encode::Format::Tiff,
        None,
        None,
    );
    assert!(tiff.is_ok());
});
