//! Shared by the integration tests: fixture locations, the torch writer, tensor comparison.
#![allow(dead_code)]

pub mod torch_save;

use std::path::PathBuf;

use candle_core::{DType, Tensor};

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn deoldify_fixtures() -> PathBuf {
    fixtures().join("deoldify")
}

/// (max |a − b|, max |b|) over all elements.
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> (f32, f32) {
    assert_eq!(a.dims(), b.dims(), "shapes differ");
    let a = a.to_dtype(DType::F32).unwrap().flatten_all().unwrap();
    let b = b.to_dtype(DType::F32).unwrap().flatten_all().unwrap();
    let diff = (&a - &b).unwrap().abs().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap();
    let reference = b.abs().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap();
    (diff, reference)
}
