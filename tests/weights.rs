//! Weight files: what real torch writes, the keys of the official variants, and every kind
//! of wrong file. None of these run the network.

mod common;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use tintype::model::weights::{self, check_keys, expected_keys, read_state_dict};
use tintype::model::{Arch, Generator, LoadError, TensorInfo};

fn torch_fixture(name: &str) -> PathBuf {
    common::fixtures().join("torch").join(name)
}

#[test]
fn reads_what_real_torch_writes_in_both_containers() {
    let expected: std::collections::HashMap<String, Tensor> =
        candle_core::safetensors::load(torch_fixture("expected.safetensors"), &Device::Cpu).unwrap();
    for file in ["flat_zip.pth", "flat_legacy.pth", "wrapped_zip.pth", "wrapped_legacy.pth"] {
        let got = read_state_dict(&torch_fixture(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(got.len(), expected.len(), "{file}: tensor count");
        for (name, t) in got {
            let want = &expected[&name];
            assert_eq!(t.dims(), want.dims(), "{file}: {name} shape");
            assert_eq!(t.dtype(), want.dtype(), "{file}: {name} dtype");
            let (a, b) = (t.to_dtype(DType::F64).unwrap(), want.to_dtype(DType::F64).unwrap());
            let same = a.eq(&b).unwrap().flatten_all().unwrap().min(0).unwrap().to_scalar::<u8>().unwrap();
            assert_eq!(same, 1, "{file}: {name} values differ");
        }
    }
}

fn manifest_from_tsv(variant: &str) -> Vec<(String, Vec<usize>)> {
    let tsv = std::fs::read_to_string(common::deoldify_fixtures().join(format!("{variant}_keys.tsv"))).unwrap();
    tsv.lines()
        .skip(1)
        .map(|line| {
            let mut cols = line.split('\t');
            let key = cols.next().unwrap().to_string();
            let shape = cols.next().unwrap();
            let shape = if shape.is_empty() { vec![] } else { shape.split(',').map(|d| d.parse().unwrap()).collect() };
            (key, shape)
        })
        .collect()
}

fn infos(manifest: &[(String, Vec<usize>)]) -> Vec<TensorInfo> {
    manifest.iter().map(|(k, s)| TensorInfo { name: k.clone(), shape: s.clone(), dtype: DType::F32 }).collect()
}

#[test]
fn architecture_keys_equal_the_upstream_state_dicts() {
    // Same keys, same shapes, same order as upstream's state_dict().
    assert_eq!(expected_keys(Arch::Deep34, false), manifest_from_tsv("artistic"));
    assert_eq!(expected_keys(Arch::Wide101, false), manifest_from_tsv("stable"));
    assert_eq!(expected_keys(Arch::Deep34, false).len(), 378);
    assert_eq!(expected_keys(Arch::Wide101, false).len(), 754);
}

#[test]
fn official_manifests_pass_and_each_single_fault_is_named() {
    for (variant, arch) in [("artistic", Arch::Deep34), ("stable", Arch::Wide101)] {
        let manifest = manifest_from_tsv(variant);
        let label = Path::new("ColorizeX_gen.pth");
        check_keys(label, arch, &infos(&manifest)).unwrap();

        // A few keys from different parts of the network.
        for victim in [1, manifest.len() / 3, manifest.len() / 2, manifest.len() - 1] {
            let key = manifest[victim].0.clone();

            let mut missing = infos(&manifest);
            missing.remove(victim);
            let err = check_keys(label, arch, &missing).unwrap_err();
            assert!(matches!(&err, LoadError::MissingKey { key: k, .. } if *k == key), "{err}");
            assert!(err.to_string().contains(&key), "{err}");

            let mut renamed = infos(&manifest);
            renamed[victim].name = format!("{key}_renamed");
            let err = check_keys(label, arch, &renamed).unwrap_err();
            assert!(matches!(&err, LoadError::MissingKey { key: k, .. } if *k == key), "{err}");

            let mut extra = infos(&manifest);
            extra.push(TensorInfo { name: format!("{key}.extra"), shape: vec![3], dtype: DType::F32 });
            let err = check_keys(label, arch, &extra).unwrap_err();
            assert!(err.to_string().contains(&format!("{key}.extra")), "{err}");

            let mut reshaped = infos(&manifest);
            reshaped[victim].shape = vec![7, 7];
            let err = check_keys(label, arch, &reshaped).unwrap_err();
            assert!(matches!(&err, LoadError::WrongShape { key: k, .. } if *k == key), "{err}");
        }
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn load_err(path: &Path) -> String {
    match Generator::load(path, &Device::Cpu) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(&path.display().to_string()), "message does not name the file: {msg}");
            msg
        }
    }
}

#[test]
fn malformed_files_give_errors_that_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    assert!(load_err(&write(d, "empty.pth", b"")).contains("empty"));
    let mut jpeg = vec![0xff, 0xd8, 0xff, 0xe0];
    jpeg.extend_from_slice(&[0u8; 200]);
    assert!(load_err(&write(d, "photo.pth", &jpeg)).contains("JPEG"));
    assert!(load_err(&write(d, "page.pth", b"<!DOCTYPE html><html>Not found</html>")).contains("web page"));

    // Random bytes, and random bytes behind each magic number.
    let mut state = 0x1234_5678_9abc_def0u64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    load_err(&write(d, "random.pth", &random));
    for magic in [
        &b"PK\x03\x04"[..],
        b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e",
        b"\x10\x00\x00\x00\x00\x00\x00\x00{",
    ] {
        let mut bytes = magic.to_vec();
        bytes.extend_from_slice(&random);
        load_err(&write(d, "random_after_magic.pth", &bytes));
    }

    // Real torch files, truncated at several points, in both containers.
    for file in ["flat_zip.pth", "flat_legacy.pth", "wrapped_zip.pth", "wrapped_legacy.pth"] {
        let bytes = std::fs::read(torch_fixture(file)).unwrap();
        for cut in [1, 10, 100, bytes.len() / 2, bytes.len() - 30, bytes.len() - 1] {
            let path = write(d, &format!("cut{cut}_{file}"), &bytes[..cut]);
            match read_state_dict(&path) {
                Ok(t) => panic!("{file} cut at {cut} read {} tensors", t.len()),
                Err(e) => assert!(e.to_string().contains(&path.display().to_string()), "{e}"),
            }
        }
    }

    // A real torch state dict that is not a generator.
    let msg = load_err(&torch_fixture("flat_zip.pth"));
    assert!(msg.contains("not a DeOldify generator"), "{msg}");

    // Safetensors: truncated, and a generator key stored as integers.
    let st = Tensor::zeros((4, 3), DType::F32, &Device::Cpu).unwrap();
    let path = d.join("ok.safetensors");
    candle_core::safetensors::save(&[("layers.0.0.weight", st)].into_iter().collect(), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    load_err(&write(d, "cut.safetensors", &bytes[..bytes.len() - 5]));
}

#[test]
fn a_critic_is_told_apart_from_a_generator() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ColorizeArtistic_crit.pth");
    let t = Tensor::zeros((8, 3, 4, 4), DType::F32, &Device::Cpu).unwrap();
    common::torch_save::save_zip(&[("layers.0.weight_orig".to_string(), t)], &path, false);
    let msg = load_err(&path);
    assert!(msg.contains("critic"), "{msg}");
}

#[test]
fn integer_weights_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut entries: Vec<(String, Tensor)> = expected_keys(Arch::Deep34, false)
        .into_iter()
        .map(|(k, shape)| {
            let dtype = if k.ends_with("num_batches_tracked") { DType::I64 } else { DType::F32 };
            let t = Tensor::zeros(shape, dtype, &Device::Cpu).unwrap();
            (k, t)
        })
        .collect();
    entries[0].1 = entries[0].1.to_dtype(DType::I64).unwrap();
    let path = dir.path().join("ints.pth");
    common::torch_save::save_legacy(&entries, &path, false);
    match weights::load_folded(&path, None) {
        Err(LoadError::WrongDtype { key, .. }) => assert_eq!(key, "layers.0.0.weight"),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("integer weights loaded"),
    }
}
