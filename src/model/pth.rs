//! PyTorch `.pth` files: the zip container (torch ≥ 1.6) and the legacy container that the
//! 2019 DeOldify weights were most likely saved in. candle reads only the zip form and skips
//! entries it cannot parse, so this reader is our own and refuses instead of skipping.
//!
//! The pickle itself is parsed by candle's pickle machine; what happens around it (finding
//! the state dict, the storages, sizes and strides) is checked here entry by entry.

use std::collections::HashMap;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;

use candle_core::pickle::{Object, Stack};
use candle_core::{DType, Device, Tensor};

use super::weights::{LoadError, TensorInfo};

pub(crate) const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// PROTO 2, LONG1 of 10 bytes: the start of torch's legacy magic number pickle.
pub(crate) const LEGACY_MAGIC: &[u8] = b"\x80\x02\x8a\x0a";
/// The whole first pickle of a legacy file: the magic number 0x1950a86a20f9469cfc6c, STOP.
const LEGACY_MAGIC_PICKLE: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e";
const LEGACY_PROTOCOL_VERSION: i64 = 1001;

/// One tensor entry of the state dict, before its data is read.
#[derive(Debug, Clone)]
struct Entry {
    info: TensorInfo,
    storage_key: String,
    /// In elements of the storage's dtype.
    offset: usize,
}

/// An opened `.pth` file: the state dict's entries and the raw bytes of every storage.
pub(crate) struct PthFile {
    entries: Vec<Entry>,
    storages: HashMap<String, Storage>,
}

/// A storage's bytes: a byte range of the legacy file's map, or a buffer read from the zip.
enum Storage {
    Mapped { start: usize, len: usize },
    Owned(Vec<u8>),
}

/// Either the legacy file's memory map, kept alive for `Storage::Mapped`, or nothing.
pub(crate) struct PthData {
    file: PthFile,
    map: Option<memmap2::Mmap>,
}

impl PthData {
    pub(crate) fn open(path: &Path, magic: &[u8]) -> Result<Self, LoadError> {
        if magic.starts_with(ZIP_MAGIC) {
            Ok(Self { file: read_zip(path)?, map: None })
        } else {
            let file = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
            // SAFETY: the map is read-only; a file changed under us gives wrong numbers or a
            // load error, which the model checks catch, never memory unsafety in safe code here.
            let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| LoadError::io(path, e))?;
            let file = read_legacy(path, &map)?;
            Ok(Self { file, map: Some(map) })
        }
    }

    pub(crate) fn infos(&self) -> Vec<TensorInfo> {
        self.file.entries.iter().map(|e| e.info.clone()).collect()
    }

    /// The tensor named `name` on the CPU, in its stored dtype.
    pub(crate) fn tensor(&self, path: &Path, name: &str) -> Result<Tensor, LoadError> {
        let entry = self
            .file
            .entries
            .iter()
            .find(|e| e.info.name == name)
            .ok_or_else(|| LoadError::corrupt(path, format!("no tensor named `{name}`")))?;
        let storage =
            self.file.storages.get(&entry.storage_key).ok_or_else(|| {
                LoadError::corrupt(path, format!("`{name}`: storage {} is missing", entry.storage_key))
            })?;
        let bytes: &[u8] = match storage {
            Storage::Owned(v) => v,
            Storage::Mapped { start, len } => {
                let map = self.map.as_ref().expect("mapped storages come with their map");
                &map[*start..*start + *len]
            }
        };
        let elem = entry.info.dtype.size_in_bytes();
        let numel: usize = entry.info.shape.iter().product();
        let start = entry.offset * elem;
        let end = start + numel * elem;
        if end > bytes.len() {
            return Err(LoadError::corrupt(
                path,
                format!("`{name}` needs {end} bytes of storage {} but it holds {}", entry.storage_key, bytes.len()),
            ));
        }
        let tensor = Tensor::from_raw_buffer(&bytes[start..end], entry.info.dtype, &entry.info.shape, &Device::Cpu)
            .map_err(|e| LoadError::corrupt(path, format!("`{name}`: {e}")))?;
        if let Storage::Mapped { .. } = storage {
            super::weights::release_mapped(&bytes[start..end]);
        }
        Ok(tensor)
    }
}

/// Runs candle's pickle machine over one pickle. A malformed pickle can make it panic
/// (for instance an over-long integer), so a panic becomes an ordinary error here.
fn unpickle<R: std::io::BufRead>(reader: &mut R) -> Result<Object, String> {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut stack = Stack::empty();
        stack.read_loop(reader)?;
        stack.finalize()
    }));
    match result {
        Ok(Ok(obj)) => Ok(obj),
        Ok(Err(e)) => Err(format!("unreadable pickle: {e}")),
        Err(_) => Err("unreadable pickle".to_string()),
    }
}

fn read_zip(path: &Path) -> Result<PthFile, LoadError> {
    let file = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| LoadError::corrupt(path, format!("broken zip archive: {e}")))?;
    let names: Vec<String> = zip
        .file_names()
        .map(|n| n.map(|n| n.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| LoadError::corrupt(path, format!("broken zip archive: {e}")))?;
    let pickles: Vec<&String> = names.iter().filter(|n| n.ends_with("/data.pkl") || *n == "data.pkl").collect();
    let pkl_name = match pickles.as_slice() {
        [one] => one.to_string(),
        [] => return Err(LoadError::not_model(path, "the zip archive has no data.pkl")),
        _ => return Err(LoadError::not_model(path, "the zip archive has several data.pkl")),
    };
    let dir = pkl_name.strip_suffix("data.pkl").unwrap_or_default().to_string();
    let mut pickle = Vec::new();
    zip.by_name(&pkl_name)
        .and_then(|mut f| f.read_to_end(&mut pickle).map_err(Into::into))
        .map_err(|e| LoadError::corrupt(path, format!("cannot read {pkl_name}: {e}")))?;
    let root = unpickle(&mut Cursor::new(pickle)).map_err(|e| LoadError::corrupt(path, e))?;
    let entries = state_dict_entries(path, root)?;

    let mut storages = HashMap::new();
    for entry in &entries {
        if storages.contains_key(&entry.storage_key) {
            continue;
        }
        let name = format!("{dir}data/{}", entry.storage_key);
        let mut bytes = Vec::new();
        zip.by_name(&name)
            .and_then(|mut f| f.read_to_end(&mut bytes).map_err(Into::into))
            .map_err(|e| LoadError::corrupt(path, format!("cannot read storage {name}: {e}")))?;
        storages.insert(entry.storage_key.clone(), Storage::Owned(bytes));
    }
    Ok(PthFile { entries, storages })
}

/// Legacy container: five pickles (magic, protocol version, system info, the object, the
/// storage keys), then each storage as an i64 element count and its raw little-endian data.
fn read_legacy(path: &Path, bytes: &[u8]) -> Result<PthFile, LoadError> {
    if !bytes.starts_with(LEGACY_MAGIC_PICKLE) {
        return Err(LoadError::not_model(path, "the legacy magic number is wrong"));
    }
    let mut cursor = Cursor::new(bytes);
    cursor.set_position(LEGACY_MAGIC_PICKLE.len() as u64);
    let corrupt = |what: &str, e: String| LoadError::corrupt(path, format!("{what}: {e}"));
    let version = unpickle(&mut cursor).map_err(|e| corrupt("protocol version", e))?;
    match version {
        Object::Int(v) if v as i64 == LEGACY_PROTOCOL_VERSION => {}
        Object::Long(v) if v == LEGACY_PROTOCOL_VERSION => {}
        other => return Err(LoadError::not_model(path, format!("unsupported legacy protocol {other:?}"))),
    }
    let sys_info = unpickle(&mut cursor).map_err(|e| corrupt("system info", e))?;
    if let Object::Dict(items) = &sys_info {
        let big_endian =
            items.iter().any(|(k, v)| *k == Object::Unicode("little_endian".into()) && *v == Object::Bool(false));
        if big_endian {
            return Err(LoadError::not_model(path, "the file was written on a big-endian machine"));
        }
    }
    let root = unpickle(&mut cursor).map_err(|e| corrupt("state dict", e))?;
    let entries = state_dict_entries(path, root)?;
    let keys = match unpickle(&mut cursor).map_err(|e| corrupt("storage list", e))? {
        Object::List(keys) => keys,
        other => return Err(corrupt("storage list", format!("expected a list, found {other:?}"))),
    };

    // Element sizes come from the entries that use each storage.
    let elem_size: HashMap<&str, usize> =
        entries.iter().map(|e| (e.storage_key.as_str(), e.info.dtype.size_in_bytes())).collect();
    let mut pos = cursor.position() as usize;
    let mut storages = HashMap::new();
    for key in keys {
        let key = match key {
            Object::Unicode(k) => k,
            other => return Err(corrupt("storage list", format!("unexpected {other:?}"))),
        };
        let count_bytes = bytes.get(pos..pos + 8).ok_or_else(|| {
            LoadError::corrupt(path, format!("the file ends before storage {key} (truncated download?)"))
        })?;
        let count = i64::from_le_bytes(count_bytes.try_into().expect("8 bytes"));
        let size = *elem_size.get(key.as_str()).unwrap_or(&1);
        let len = usize::try_from(count)
            .ok()
            .and_then(|c| c.checked_mul(size))
            .ok_or_else(|| LoadError::corrupt(path, format!("storage {key} claims {count} elements")))?;
        let start = pos + 8;
        if start.checked_add(len).is_none_or(|end| end > bytes.len()) {
            return Err(LoadError::corrupt(path, format!("the file ends inside storage {key} (truncated download?)")));
        }
        storages.insert(key, Storage::Mapped { start, len });
        pos = start + len;
    }
    Ok(PthFile { entries, storages })
}

/// Finds the state dict (flat, or under `model` as fastai's `Learner.save` writes it with
/// the optimizer) and describes every tensor in it. Anything in it that is not a tensor is
/// an error, except the `_metadata` that `state_dict()` attaches.
fn state_dict_entries(path: &Path, root: Object) -> Result<Vec<Entry>, LoadError> {
    let items = match root {
        Object::Dict(items) => items,
        other => {
            return Err(LoadError::not_model(path, format!("the file holds a {}, not a state dict", describe(&other))));
        }
    };
    let model_key = Object::Unicode("model".into());
    let items = if items.iter().any(|(k, _)| *k == model_key) && !items.iter().any(|(_, v)| is_tensor(v)) {
        match items.into_iter().find(|(k, _)| *k == model_key).map(|(_, v)| v) {
            Some(Object::Dict(inner)) => inner,
            _ => return Err(LoadError::not_model(path, "its `model` entry is not a state dict")),
        }
    } else {
        items
    };
    let mut entries = Vec::with_capacity(items.len());
    for (key, value) in items {
        let name = match key {
            Object::Unicode(name) => name,
            other => return Err(LoadError::corrupt(path, format!("a key is not a string: {other:?}"))),
        };
        if name == "_metadata" {
            continue;
        }
        let entry = tensor_entry(name.clone(), value)
            .map_err(|why| LoadError::corrupt(path, format!("`{name}` is not a readable tensor: {why}")))?;
        entries.push(entry);
    }
    Ok(entries)
}

fn is_tensor(obj: &Object) -> bool {
    matches!(obj, Object::Reduce { callable, .. }
        if matches!(callable.as_ref(), Object::Class { class_name, .. } if class_name.starts_with("_rebuild_")))
}

fn describe(obj: &Object) -> &'static str {
    match obj {
        Object::List(_) => "list",
        Object::Tuple(_) => "tuple",
        Object::Reduce { .. } | Object::Build { .. } => "Python object",
        Object::Unicode(_) => "string",
        _ => "value",
    }
}

/// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)`,
/// also inside `_rebuild_parameter(tensor, requires_grad, hooks)`.
fn tensor_entry(name: String, value: Object) -> Result<Entry, String> {
    let (callable, args) = match value {
        Object::Reduce { callable, args } => (*callable, *args),
        other => return Err(format!("found a {}", describe(&other))),
    };
    let class = match callable {
        Object::Class { module_name, class_name } => format!("{module_name}.{class_name}"),
        _ => return Err("unknown constructor".into()),
    };
    let mut args = match args {
        Object::Tuple(args) => args,
        _ => return Err("constructor arguments are not a tuple".into()),
    };
    match class.as_str() {
        "torch._utils._rebuild_parameter" if !args.is_empty() => return tensor_entry(name, args.remove(0)),
        "torch._utils._rebuild_tensor_v2" if args.len() >= 4 => {}
        _ => return Err(format!("unsupported constructor {class}")),
    }
    let as_usizes = |obj: Object| -> Result<Vec<usize>, String> {
        match obj {
            Object::Tuple(items) => items
                .into_iter()
                .map(|o| match o {
                    Object::Int(v) if v >= 0 => Ok(v as usize),
                    Object::Long(v) if v >= 0 => Ok(v as usize),
                    other => Err(format!("bad dimension {other:?}")),
                })
                .collect(),
            other => Err(format!("bad size tuple {other:?}")),
        }
    };
    let stride = as_usizes(args.remove(3))?;
    let shape = as_usizes(args.remove(2))?;
    let offset = match args.remove(1) {
        Object::Int(v) if v >= 0 => v as usize,
        Object::Long(v) if v >= 0 => v as usize,
        other => return Err(format!("bad storage offset {other:?}")),
    };
    let storage = match args.remove(0) {
        Object::PersistentLoad(id) => match *id {
            Object::Tuple(parts) => parts,
            _ => return Err("bad storage reference".into()),
        },
        _ => return Err("the tensor has no storage reference".into()),
    };
    // ('storage', torch.FloatStorage, key, location, numel)
    let mut parts = storage.into_iter();
    let (_tag, storage_type, key) = (parts.next(), parts.next(), parts.next());
    let dtype = match storage_type {
        Some(Object::Class { class_name, .. }) => match class_name.as_str() {
            "FloatStorage" => DType::F32,
            "HalfStorage" => DType::F16,
            "BFloat16Storage" => DType::BF16,
            "DoubleStorage" => DType::F64,
            "LongStorage" => DType::I64,
            "ByteStorage" => DType::U8,
            other => return Err(format!("unsupported storage type {other}")),
        },
        _ => return Err("bad storage type".into()),
    };
    let storage_key = match key {
        Some(Object::Unicode(k)) => k,
        _ => return Err("bad storage key".into()),
    };
    // Row-major (C-contiguous) strides; state dicts hold nothing else.
    let mut expected = vec![0; shape.len()];
    let mut acc = 1;
    for d in (0..shape.len()).rev() {
        expected[d] = acc;
        acc *= shape[d];
    }
    let numel: usize = shape.iter().product();
    if numel > 1 && shape.iter().zip(&stride).zip(&expected).any(|((&s, &st), &ex)| s > 1 && st != ex) {
        return Err(format!("non-contiguous layout (size {shape:?}, stride {stride:?})"));
    }
    Ok(Entry { info: TensorInfo { name, shape, dtype }, storage_key, offset })
}
