//! DeOldify's image pipeline against the upstream fixtures: each stage that takes the
//! fixture's stored input must be bit-exact; end to end through the model, within the u8
//! tolerance of the fixture README.

mod common;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use image::{GrayImage, RgbImage};
use tintype::model::fixture::rebuild_state_dict;
use tintype::model::{Generator, weights};
use tintype::pipeline::deoldify;

const RENDER_FACTOR: u32 = 5;

fn stages(variant: &str) -> HashMap<String, Tensor> {
    let path = common::deoldify_fixtures().join(format!("pipeline_{variant}_rf{RENDER_FACTOR}.safetensors"));
    candle_core::safetensors::load(path, &Device::Cpu).unwrap()
}

/// An (H, W, 3) u8 tensor as an image.
fn rgb(t: &Tensor) -> RgbImage {
    let (h, w, c) = t.dims3().unwrap();
    assert_eq!(c, 3);
    RgbImage::from_raw(w as u32, h as u32, t.flatten_all().unwrap().to_vec1::<u8>().unwrap()).unwrap()
}

fn grey_as_rgb(g: &GrayImage) -> RgbImage {
    image::DynamicImage::ImageLuma8(g.clone()).to_rgb8()
}

/// (values that differ, largest difference).
fn u8_diff(a: &RgbImage, b: &RgbImage) -> (usize, u8) {
    assert_eq!(a.dimensions(), b.dimensions());
    a.as_raw().iter().zip(b.as_raw()).fold((0, 0), |(n, m), (&x, &y)| {
        let d = x.abs_diff(y);
        (n + (d > 0) as usize, m.max(d))
    })
}

#[test]
fn every_stage_is_bit_exact_on_its_stored_input() {
    for variant in ["artistic", "stable"] {
        let s = stages(variant);
        let orig = rgb(&s["orig"]);
        assert_eq!(orig.dimensions(), (150, 100));

        // Stretch to the 80 px square (Pillow BILINEAR) and grey it (Pillow luma).
        let (grey, x) = deoldify::prepare(&orig, RENDER_FACTOR, &Device::Cpu).unwrap();
        assert_eq!(u8_diff(&grey_as_rgb(&grey), &rgb(&s["model_input_u8"])), (0, 0), "{variant}: resize + luma");

        // ImageNet normalisation, bit for bit.
        let want = s["model_input"].flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let got = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(want.iter().zip(&got).all(|(a, b)| a.to_bits() == b.to_bits()), "{variant}: normalise");

        // Denormalise, clamp, truncate.
        let square = deoldify::denormalise(&s["model_output"]).unwrap();
        assert_eq!(u8_diff(&square, &rgb(&s["model_output_u8"])), (0, 0), "{variant}: denormalise");

        // Resize back to the original size.
        let raw = deoldify::pil_bilinear_resize(&rgb(&s["model_output_u8"]), 150, 100);
        assert_eq!(u8_diff(&raw, &rgb(&s["raw_color"])), (0, 0), "{variant}: resize back");

        // OpenCV YUV merge keeping the original's Y.
        let merged = deoldify::merge_chroma(&orig, &rgb(&s["raw_color"]));
        assert_eq!(u8_diff(&merged, &rgb(&s["final"])), (0, 0), "{variant}: merge");
    }
}

#[test]
fn end_to_end_through_the_model_is_within_the_u8_tolerance() {
    for variant in ["artistic", "stable"] {
        let s = stages(variant);
        let orig = rgb(&s["orig"]);
        let state = rebuild_state_dict(&common::deoldify_fixtures(), variant).unwrap();
        let folded = weights::fold_state_dict(Path::new(variant), &state, None).unwrap();
        drop(state);
        let generator = Generator::from_folded(folded, &Device::Cpu).unwrap();
        let (_, x) = deoldify::prepare(&orig, RENDER_FACTOR, &Device::Cpu).unwrap();
        let y = generator.forward(&x).unwrap();
        let (square, raw, final_) = deoldify::finish(&orig, &y).unwrap();
        // README: |diff| ≤ 1 on model_output_u8 / raw_color, ≤ 3 on final, ≤ 1 % of values.
        for (name, got, bound) in [("model_output_u8", &square, 1), ("raw_color", &raw, 1), ("final", &final_, 3)] {
            let want = rgb(&s[name]);
            let (n, max) = u8_diff(got, &want);
            println!("PIPELINE {variant} {name}: {n}/{} values differ, max {max}", want.len());
            assert!(max <= bound, "{variant} {name}: max diff {max} > {bound}");
            assert!(n * 100 <= want.len(), "{variant} {name}: {n} of {} values differ", want.len());
        }
    }
}
