//! The compact colorizer in candle against the training code's own export: the same input
//! gives the same output within 1e-4. `tests/fixtures/compact/smoke*` come from
//! `training/export.py` run on a short smoke-test training run (a real network, briefly
//! trained: the parity is about the port, not the colours).

mod common;

use candle_core::{Device, Tensor};
use tintype::model::compact::Compact;

#[test]
fn compact_matches_the_training_code() {
    let dir = common::fixtures().join("compact");
    let model = Compact::load(&dir.join("smoke.safetensors"), &Device::Cpu).unwrap();
    let fixture: std::collections::HashMap<String, Tensor> =
        candle_core::safetensors::load(dir.join("smoke_parity.safetensors"), &Device::Cpu).unwrap();
    for size in [64, 80] {
        let out = model.forward(&fixture[&format!("input_s{size}")]).unwrap();
        let (diff, reference) = common::max_abs_diff(&out, &fixture[&format!("output_s{size}")]);
        println!("COMPACT s{size}: max|diff| {diff:.2e} (max|ref| {reference:.2})");
        assert!(diff <= 1e-4, "s{size}: max|diff| {diff}");
    }
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
