//! Full-size generator weights rebuilt from the upstream fixtures (`tests/fixtures/deoldify`,
//! made by `shared/oracle/make_ci_fixture.py` with the real DeOldify code). Every conv weight
//! comes from a seeded formula that this file reproduces bit for bit; every other tensor is
//! read from `<variant>_small.safetensors`. Tests and `tintype bench` use them in place of the
//! official files, which have the same names and shapes.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Error, Result, Tensor};

fn fnv1a64(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Element i of the formula tensor `name`: SplitMix64 seeded with FNV-1a(name) ^ seed,
/// top 24 bits mapped exactly to [-1, 1), times sqrt(3·gain²/fan_in) rounded to f32.
pub fn formula_values(name: &str, numel: usize, fan_in: usize, gain2: u32, global_seed: u64) -> Vec<f32> {
    let scale = ((3.0 * gain2 as f64) / fan_in as f64).sqrt() as f32;
    let mut state = fnv1a64(name) ^ global_seed;
    (0..numel)
        .map(|_| {
            state = state.wrapping_add(0x9e3779b97f4a7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
            z ^= z >> 31;
            let x = (z >> 40) as f32; // 24 bits: exact in f32
            (x * (1.0f32 / 8388608.0) - 1.0) * scale
        })
        .collect()
}

#[derive(serde::Deserialize)]
struct FormulaFile {
    global_seed: String,
    tensors: Vec<FormulaTensor>,
}

#[derive(serde::Deserialize)]
struct FormulaTensor {
    name: String,
    shape: Vec<usize>,
    fan_in: usize,
    gain2: u32,
}

/// The complete upstream state dict of `variant` ("artistic" or "stable") from the fixture
/// folder, in the order of `<variant>_keys.tsv`.
pub fn rebuild_state_dict(dir: &Path, variant: &str) -> Result<Vec<(String, Tensor)>> {
    let read = |name: String| -> Result<Vec<u8>> {
        let path = dir.join(&name);
        std::fs::read(&path).map_err(|e| Error::msg(format!("{}: {e}", path.display())))
    };
    let formula: FormulaFile = serde_json::from_slice(&read(format!("{variant}_formula.json"))?)
        .map_err(|e| Error::msg(format!("{variant}_formula.json: {e}")))?;
    let seed = u64::from_str_radix(formula.global_seed.trim_start_matches("0x"), 16)
        .map_err(|e| Error::msg(format!("global_seed: {e}")))?;
    let mut by_name: HashMap<String, Tensor> =
        candle_core::safetensors::load_buffer(&read(format!("{variant}_small.safetensors"))?, &Device::Cpu)?;
    for t in formula.tensors {
        let numel = t.shape.iter().product();
        let values = formula_values(&t.name, numel, t.fan_in, t.gain2, seed);
        by_name.insert(t.name, Tensor::from_vec(values, t.shape, &Device::Cpu)?);
    }
    let keys = String::from_utf8_lossy(&read(format!("{variant}_keys.tsv"))?).into_owned();
    let mut out = Vec::with_capacity(by_name.len());
    for line in keys.lines().skip(1) {
        let key = line.split('\t').next().unwrap_or_default();
        let t = by_name.remove(key).ok_or_else(|| Error::msg(format!("fixture has no tensor `{key}`")))?;
        out.push((key.to_string(), t));
    }
    if !by_name.is_empty() {
        return Err(Error::msg(format!("fixture tensors not in the key list: {:?}", by_name.keys())));
    }
    Ok(out)
}
