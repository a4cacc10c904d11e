//! The compact colorizer in candle against the training code's own export: the same input
//! gives the same output within 1e-4. `models/compact.safetensors` (the shipped model) and
//! `tests/fixtures/compact/parity.safetensors` are written together by `training/export.py`.

mod common;

use candle_core::{Device, Tensor};
use tintype::model::compact::Compact;

/// Inputs and one-pass outputs from `training/export.py`.
fn parity_fixture() -> std::collections::HashMap<String, Tensor> {
    candle_core::safetensors::load(common::fixtures().join("compact/parity.safetensors"), &Device::Cpu).unwrap()
}

#[test]
fn compact_matches_the_training_code() {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/compact.safetensors");
    // Both canonical: the source tree's path may be spelt differently (a cross-compiled
    // Windows build run under Wine sees it as `Z:\…`).
    assert_eq!(tintype::store::builtin_compact(), dunce::canonicalize(&shipped).ok());
    let model = Compact::load(&shipped, &Device::Cpu).unwrap();
    let fixture = parity_fixture();
    for size in [64, 80] {
        let out = model.network(&fixture[&format!("input_s{size}")]).unwrap();
        let (diff, reference) = common::max_abs_diff(&out, &fixture[&format!("output_s{size}")]);
        println!("COMPACT s{size}: max|diff| {diff:.2e} (max|ref| {reference:.2})");
        assert!(diff <= 1e-4, "s{size}: max|diff| {diff}");
    }
}

/// The shipped model with metadata entries changed and tensors added, loaded from a copy.
fn shipped_with(meta: &[(&str, &str)], added: Vec<(String, safetensors::tensor::TensorView)>) -> Compact {
    let shipped = std::fs::read(tintype::store::builtin_compact().unwrap()).unwrap();
    let file = safetensors::SafeTensors::deserialize(&shipped).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&shipped).unwrap();
    let mut metadata = header.metadata().clone().unwrap();
    metadata.extend(meta.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("variant.safetensors");
    let tensors: Vec<_> = file.tensors().into_iter().chain(added).collect();
    safetensors::serialize_to_file(tensors, Some(metadata), &path).unwrap();
    Compact::load(&path, &Device::Cpu).unwrap()
}

/// A file that asks for the mirror average colours a mirrored photo as the mirror of its
/// result; one pass of the network alone does not (else this test would prove nothing).
#[test]
fn the_mirror_average_makes_colours_independent_of_the_photos_side() {
    let model = shipped_with(&[("tintype.mirror_average", "1")], vec![]);

    let fixture = parity_fixture();
    let x = &fixture["input_s64"];
    let mirrored = x.flip(&[3]).unwrap();
    let asymmetry = |run: &dyn Fn(&Tensor) -> candle_core::Result<Tensor>| {
        let out = run(x).unwrap().flip(&[3]).unwrap();
        common::max_abs_diff(&run(&mirrored).unwrap(), &out).0
    };
    let averaged = asymmetry(&|t| model.forward(t));
    let one_pass = asymmetry(&|t| model.network(t));
    println!("mirror asymmetry: averaged {averaged:.2e}, one pass {one_pass:.2e}");
    assert!(averaged <= 1e-5, "averaged: {averaged}");
    assert!(one_pass > 1e-2, "one pass: {one_pass}");
}

/// The shipped weights plus the tensors an added-branch fixture holds, with `meta`, against
/// the outputs the training code computed for them.
fn matches_its_fixture(fixture_name: &str, meta: &[(&str, &str)]) {
    let fixture_bytes = std::fs::read(common::fixtures().join("compact").join(fixture_name)).unwrap();
    let fixture_tensors = safetensors::SafeTensors::deserialize(&fixture_bytes).unwrap();
    let added = fixture_tensors
        .tensors()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("input_") && !name.starts_with("output_"))
        .collect();
    let model = shipped_with(meta, added);

    let fixture = candle_core::safetensors::load_buffer(&fixture_bytes, &Device::Cpu).unwrap();
    for size in [64, 80] {
        let out = model.network(&fixture[&format!("input_s{size}")]).unwrap();
        let (diff, reference) = common::max_abs_diff(&out, &fixture[&format!("output_s{size}")]);
        println!("{fixture_name} s{size}: max|diff| {diff:.2e} (max|ref| {reference:.2})");
        assert!(diff <= 1e-4, "s{size}: max|diff| {diff}");
    }
}

/// A file with the global context (training/model.py) against `training/context_fixture.py`.
#[test]
fn the_global_context_matches_the_training_code() {
    matches_its_fixture("context.safetensors", &[]);
}

/// A file with the scene palette, its logits steered toward it (training/model.py `steered`),
/// against `training/scene_fixture.py`, which measured that the steering moves the output.
#[test]
fn the_scene_palette_matches_the_training_code() {
    matches_its_fixture("scene.safetensors", &[("tintype.scene_strength", "0.5")]);
}

/// The shipped file asks to see each photo in its own shape; without the key a file sees
/// DeOldify's square, as files written before it did.
#[test]
fn the_shipped_model_sees_photos_in_their_own_shape() {
    let shipped = tintype::store::builtin_compact().unwrap();
    assert!(Compact::file_sees_photo_shape(&shipped));
    let model = Compact::load(&shipped, &Device::Cpu).unwrap();
    assert_eq!(model.input_size((600, 400), 35), (688, 464));
    assert_eq!(model.input_size((400, 600), 35), (464, 688));
    let square = shipped_with(&[("tintype.input_shape", "square")], vec![]);
    assert_eq!(square.input_size((600, 400), 35), (560, 560));
}

#[test]
fn a_deoldify_file_is_not_a_compact_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.safetensors");
    let t = Tensor::zeros(3, candle_core::DType::F32, &Device::Cpu).unwrap();
    candle_core::safetensors::save(&[("a", t)].into_iter().collect(), &path).unwrap();
    let err = Compact::load(&path, &Device::Cpu).err().unwrap().to_string();
    assert!(err.contains("x.safetensors") && err.contains("compact"), "{err}");
}

#[test]
fn the_shipped_model_sees_its_input_through_the_grain_filter() {
    use tintype::engine::Colorizer;
    use tintype::pipeline::{deoldify, grain};

    let shipped = tintype::store::builtin_compact().unwrap();
    let colorizer = Colorizer::load(&shipped, None, &Device::Cpu).unwrap();
    let Colorizer::Compact(model) = &colorizer else { panic!("the built-in model is the compact one") };
    let h = model.grain_filter();
    assert!(h > 0.0, "models/compact.safetensors has no tintype.grain_filter");
    // A grainy grey: the filter changes it, and the network's input is the filtered grey.
    let grey = image::GrayImage::from_fn(96, 96, |x, y| image::Luma([(100 + (x * 7 + y * 13) % 11) as u8]));
    let filtered = grain::non_local_means(&grey, h);
    assert_ne!(filtered, grey);
    let input = colorizer.input(&grey).unwrap();
    let expected = deoldify::normalise(&filtered, &Device::Cpu).unwrap();
    let (diff, _) = common::max_abs_diff(&input, &expected);
    assert_eq!(diff, 0.0);
}

#[test]
fn the_grain_filter_matches_opencv() {
    // Written by training/grain_fixture.py with OpenCV's fastNlMeansDenoising, which the
    // training code uses: the weights are the same, only OpenCV's fixed-point rounding differs.
    let dir = common::fixtures().join("grain");
    let input = image::open(dir.join("input.png")).unwrap().to_luma8();
    for h in [3, 8] {
        let opencv = image::open(dir.join(format!("opencv_h{h}.png"))).unwrap().to_luma8();
        let ours = tintype::pipeline::grain::non_local_means(&input, h as f32);
        let diffs: Vec<i32> = ours.iter().zip(opencv.iter()).map(|(&a, &b)| (a as i32 - b as i32).abs()).collect();
        let max = diffs.iter().max().unwrap();
        let off = diffs.iter().filter(|&&d| d > 0).count() as f64 / diffs.len() as f64;
        println!("GRAIN h{h}: max |diff| {max}, {:.2} % of pixels differ", off * 100.0);
        assert!(*max <= 1, "h {h}: max |diff| {max}, {:.2} % differ", off * 100.0);
        let changed = input.iter().zip(ours.iter()).filter(|(a, b)| a != b).count();
        assert!(changed > input.len() / 2, "h {h}: the filter left the grain in place");
    }
}
