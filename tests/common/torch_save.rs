//! Writes state dicts the way `torch.save` does, in the zip container (torch ≥ 1.6) and the
//! legacy one (`_use_new_zipfile_serialization=False`, what DeOldify's 2019 files are), so the
//! full-size fixture weights can go through the same loader as an official `.pth`.
//! `tests/fixtures/torch/` holds small files written by real torch that check the reader.

use std::io::Write;
use std::path::Path;

use candle_core::{DType, Tensor};

/// Pickle protocol 2 opcodes, as torch emits them.
struct Pickler {
    out: Vec<u8>,
}

impl Pickler {
    fn new() -> Self {
        Self { out: vec![0x80, 2] }
    }
    fn op(&mut self, op: u8) {
        self.out.push(op);
    }
    fn global(&mut self, module: &str, name: &str) {
        self.out.push(b'c');
        self.out.extend_from_slice(format!("{module}\n{name}\n").as_bytes());
    }
    fn str(&mut self, s: &str) {
        self.out.push(b'X');
        self.out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.out.extend_from_slice(s.as_bytes());
    }
    fn int(&mut self, v: usize) {
        if v < 256 {
            self.out.extend_from_slice(&[b'K', v as u8]);
        } else if v < 65536 {
            self.out.push(b'M');
            self.out.extend_from_slice(&(v as u16).to_le_bytes());
        } else {
            self.out.push(b'J');
            self.out.extend_from_slice(&(v as i32).to_le_bytes());
        }
    }
    fn tuple_of_ints(&mut self, v: &[usize]) {
        if v.is_empty() {
            self.op(b')');
            return;
        }
        self.op(b'(');
        for &x in v {
            self.int(x);
        }
        self.op(b't');
    }
    fn ordered_dict(&mut self) {
        self.global("collections", "OrderedDict");
        self.op(b')');
        self.op(b'R');
    }
    fn stop(mut self) -> Vec<u8> {
        self.op(b'.');
        self.out
    }
}

fn storage_class(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "FloatStorage",
        DType::F16 => "HalfStorage",
        DType::I64 => "LongStorage",
        DType::F64 => "DoubleStorage",
        other => panic!("no torch storage for {other:?} in this writer"),
    }
}

/// The pickled object: the OrderedDict state dict with its `_metadata`, optionally inside
/// `{'model': …, 'opt': {}}` as fastai's `Learner.save` writes it with the optimizer.
fn state_dict_pickle(entries: &[(String, Tensor)], legacy: bool, wrap_model: bool) -> Vec<u8> {
    let mut p = Pickler::new();
    if wrap_model {
        p.op(b'}');
        p.op(b'(');
        p.str("model");
    }
    p.ordered_dict();
    for (c, chunk) in entries.chunks(1000).enumerate() {
        p.op(b'(');
        for (i, (name, t)) in chunk.iter().enumerate() {
            let key = (c * 1000 + i).to_string();
            p.str(name);
            p.global("torch._utils", "_rebuild_tensor_v2");
            p.op(b'(');
            // Persistent id: ('storage', torch.XStorage, key, 'cpu', numel[, None]).
            p.op(b'(');
            p.str("storage");
            p.global("torch", storage_class(t.dtype()));
            p.str(&key);
            p.str("cpu");
            p.int(t.elem_count());
            if legacy {
                p.op(b'N');
            }
            p.op(b't');
            p.op(b'Q');
            p.int(0);
            p.tuple_of_ints(t.dims());
            p.tuple_of_ints(t.stride());
            p.op(0x89); // False: requires_grad
            p.ordered_dict(); // backward hooks
            p.op(b't');
            p.op(b'R');
        }
        p.op(b'u');
    }
    // BUILD with the instance dict: {'_metadata': OrderedDict([('', {'version': 1})])}.
    p.op(b'}');
    p.str("_metadata");
    p.ordered_dict();
    p.op(b'(');
    p.str("");
    p.op(b'}');
    p.str("version");
    p.int(1);
    p.op(b's');
    p.op(b'u');
    p.op(b's');
    p.op(b'b');
    if wrap_model {
        p.str("opt");
        p.op(b'}');
        p.op(b'u');
    }
    p.stop()
}

fn raw_bytes(t: &Tensor) -> Vec<u8> {
    let t = t.flatten_all().unwrap();
    match t.dtype() {
        DType::F32 => t.to_vec1::<f32>().unwrap().iter().flat_map(|v| v.to_le_bytes()).collect(),
        DType::I64 => t.to_vec1::<i64>().unwrap().iter().flat_map(|v| v.to_le_bytes()).collect(),
        DType::F64 => t.to_vec1::<f64>().unwrap().iter().flat_map(|v| v.to_le_bytes()).collect(),
        DType::F16 => t.to_vec1::<half::f16>().unwrap().iter().flat_map(|v| v.to_le_bytes()).collect(),
        other => panic!("unsupported {other:?}"),
    }
}

/// `torch.save(state_dict, path)` (zip container, archive folder named after the file).
pub fn save_zip(entries: &[(String, Tensor)], path: &Path, wrap_model: bool) {
    let archive = path.file_stem().unwrap().to_string_lossy().to_string();
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file(format!("{archive}/data.pkl"), opts).unwrap();
    zip.write_all(&state_dict_pickle(entries, false, wrap_model)).unwrap();
    zip.start_file(format!("{archive}/byteorder"), opts).unwrap();
    zip.write_all(b"little").unwrap();
    for (i, (_, t)) in entries.iter().enumerate() {
        zip.start_file(format!("{archive}/data/{i}"), opts.with_alignment(64)).unwrap();
        zip.write_all(&raw_bytes(t)).unwrap();
    }
    zip.start_file(format!("{archive}/version"), opts).unwrap();
    zip.write_all(b"3\n").unwrap();
    zip.finish().unwrap();
}

/// `torch.save(state_dict, path, _use_new_zipfile_serialization=False)`.
pub fn save_legacy(entries: &[(String, Tensor)], path: &Path, wrap_model: bool) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    // Magic number 0x1950a86a20f9469cfc6c as a 10-byte LONG1.
    out.write_all(b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e").unwrap();
    let mut v = Pickler::new();
    v.int(1001);
    out.write_all(&v.stop()).unwrap();
    let mut sys = Pickler::new();
    sys.op(b'}');
    sys.op(b'(');
    sys.str("protocol_version");
    sys.int(1001);
    sys.str("little_endian");
    sys.op(0x88);
    sys.op(b'u');
    out.write_all(&sys.stop()).unwrap();
    out.write_all(&state_dict_pickle(entries, true, wrap_model)).unwrap();
    // Storage keys, sorted as strings like torch does, then each storage's data.
    let mut keys: Vec<(String, usize)> = (0..entries.len()).map(|i| (i.to_string(), i)).collect();
    keys.sort();
    let mut list = Pickler::new();
    list.op(b']');
    list.op(b'(');
    for (k, _) in &keys {
        list.str(k);
    }
    list.op(b'e');
    out.write_all(&list.stop()).unwrap();
    for (_, i) in keys {
        let t = &entries[i].1;
        out.write_all(&(t.elem_count() as i64).to_le_bytes()).unwrap();
        out.write_all(&raw_bytes(t)).unwrap();
    }
    out.flush().unwrap();
}
