//! Reading generator weights from any container people have (torch zip `.pth`, legacy
//! `.pth`, safetensors), checking every key against the architecture, and folding
//! spectral norm, weight norm and BatchNorm into plain conv weights once, at load time.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use candle_core::safetensors::Load;
use candle_core::{DType, Device, Tensor};

use super::Variant;
use super::pth::{self, PthData};
use super::spec::{self, Arch, ConvUnit, Norm, Unit};

/// Metadata keys of the folded safetensors files Tintype writes.
const FORMAT_KEY: &str = "tintype.format";
const FOLDED_FORMAT: &str = "deoldify-folded-v1";
const VARIANT_KEY: &str = "tintype.variant";

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read the file: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "{path}: not a model file Tintype can read ({why}). Expected a DeOldify generator \
         (.pth from DeOldify's README, or a .safetensors made by `tintype convert`)"
    )]
    NotModel { path: PathBuf, why: String },
    #[error("{path}: the file is damaged or incomplete ({why}). Download or copy it again")]
    Corrupt { path: PathBuf, why: String },
    #[error(
        "{path}: not a DeOldify generator ({why}). Use ColorizeArtistic_gen.pth, \
         ColorizeStable_gen.pth or ColorizeVideo_gen.pth (not a critic or a pretrain-only file)"
    )]
    NotGenerator { path: PathBuf, why: String },
    #[error("{path}: {arch:?} generator is missing the weight `{key}`; the file is incomplete or from another model")]
    MissingKey { path: PathBuf, arch: Arch, key: String },
    #[error("{path}: unexpected weight `{key}` for a {arch:?} generator; the file is from another model")]
    UnexpectedKey { path: PathBuf, arch: Arch, key: String },
    #[error("{path}: weight `{key}` has shape {found:?}, a {arch:?} generator needs {expected:?}")]
    WrongShape { path: PathBuf, arch: Arch, key: String, found: Vec<usize>, expected: Vec<usize> },
    #[error("{path}: weight `{key}` is stored as {found:?}; expected floating point")]
    WrongDtype { path: PathBuf, key: String, found: DType },
    #[error("{path}: {why}")]
    Compute { path: PathBuf, why: String },
}

impl LoadError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_owned(), source }
    }
    pub(crate) fn corrupt(path: &Path, why: impl Into<String>) -> Self {
        Self::Corrupt { path: path.to_owned(), why: why.into() }
    }
    pub(crate) fn not_model(path: &Path, why: impl Into<String>) -> Self {
        Self::NotModel { path: path.to_owned(), why: why.into() }
    }
    fn compute(path: &Path, e: candle_core::Error) -> Self {
        Self::Compute { path: path.to_owned(), why: e.to_string() }
    }
}

/// Name, shape and dtype of a stored tensor, known before its data is read.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: DType,
}

/// An opened weight file of any supported container.
enum WeightFile {
    Pth(PthData),
    SafeTensors { tensors: candle_core::safetensors::MmapedSafetensors, metadata: HashMap<String, String> },
}

impl WeightFile {
    fn open(path: &Path) -> Result<Self, LoadError> {
        let mut magic = [0u8; 16];
        let n = std::fs::File::open(path)
            .and_then(|mut f| read_up_to(&mut f, &mut magic))
            .map_err(|e| LoadError::io(path, e))?;
        let magic = &magic[..n];
        if n == 0 {
            return Err(LoadError::not_model(path, "the file is empty"));
        }
        if magic.starts_with(pth::ZIP_MAGIC) || magic.starts_with(pth::LEGACY_MAGIC) {
            return Ok(Self::Pth(PthData::open(path, magic)?));
        }
        // safetensors: an 8-byte little-endian header length, then a JSON object.
        if n >= 9 && magic[8] == b'{' {
            let file = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
            // SAFETY: read-only map of a file we do not modify.
            let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| LoadError::io(path, e))?;
            let metadata = safetensors::SafeTensors::read_metadata(&map)
                .map_err(|e| LoadError::corrupt(path, format!("bad safetensors header: {e}")))?
                .1
                .metadata()
                .clone()
                .unwrap_or_default();
            // Validates the header against the file's length (truncation) up front.
            safetensors::SafeTensors::deserialize(&map)
                .map_err(|e| LoadError::corrupt(path, format!("bad safetensors file: {e}")))?;
            // SAFETY: as above.
            let tensors = unsafe { candle_core::safetensors::MmapedSafetensors::new(path) }
                .map_err(|e| LoadError::corrupt(path, e.to_string()))?;
            return Ok(Self::SafeTensors { tensors, metadata });
        }
        let what = if magic.starts_with(b"\xff\xd8\xff") {
            "it is a JPEG image".to_string()
        } else if magic.starts_with(b"\x89PNG") {
            "it is a PNG image".to_string()
        } else if magic.starts_with(b"<") {
            "it is a web page, perhaps an error page saved in place of the download".to_string()
        } else {
            format!("unknown content starting with {:02x?}", &magic[..n.min(8)])
        };
        Err(LoadError::not_model(path, what))
    }

    fn infos(&self) -> Vec<TensorInfo> {
        match self {
            Self::Pth(p) => p.infos(),
            Self::SafeTensors { tensors, .. } => tensors
                .tensors()
                .into_iter()
                .map(|(name, view)| TensorInfo {
                    name,
                    shape: view.shape().to_vec(),
                    dtype: DType::try_from(view.dtype()).unwrap_or(DType::U8),
                })
                .collect(),
        }
    }

    /// The tensor as f32 on the CPU.
    fn tensor_f32(&self, path: &Path, name: &str) -> Result<Tensor, LoadError> {
        let t = match self {
            Self::Pth(p) => p.tensor(path, name)?,
            Self::SafeTensors { tensors, .. } => {
                let corrupt = |e: candle_core::Error| LoadError::corrupt(path, format!("`{name}`: {e}"));
                let view = tensors.get(name).map_err(corrupt)?;
                let t = view.load(&Device::Cpu).map_err(corrupt)?;
                release_mapped(view.data());
                t
            }
        };
        if !t.dtype().is_float() {
            return Err(LoadError::WrongDtype { path: path.to_owned(), key: name.to_string(), found: t.dtype() });
        }
        t.to_dtype(DType::F32).map_err(|e| LoadError::compute(path, e))
    }

    fn folded_variant(&self) -> Option<Option<String>> {
        match self {
            Self::SafeTensors { metadata, .. }
                if metadata.get(FORMAT_KEY).map(String::as_str) == Some(FOLDED_FORMAT) =>
            {
                Some(metadata.get(VARIANT_KEY).cloned())
            }
            _ => None,
        }
    }
}

/// Tells the kernel that a read-only file mapping's bytes, now copied into a tensor, are not
/// needed again: otherwise every page read stays resident until the whole file is unmapped,
/// and loading a weight file costs twice its size (Stable: 1.7 GB for 874 MB of weights).
/// The mapping stays valid; a later read fetches the page again from the file.
pub(crate) fn release_mapped(bytes: &[u8]) {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as usize;
        let start = (bytes.as_ptr() as usize).next_multiple_of(page);
        let end = (bytes.as_ptr() as usize + bytes.len()) / page * page;
        if end > start {
            // SAFETY: whole pages inside `bytes`, which lies in a shared, read-only file mapping:
            // MADV_DONTNEED drops them from this process and their content is read back from
            // the file on the next access, so no reference sees different bytes.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        }
    }
    #[cfg(not(unix))]
    let _ = bytes;
}

fn read_up_to(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Folded generator weights: plain conv weights and biases, BatchNorm affines, attention γ.
pub struct FoldedWeights {
    pub variant: Variant,
    pub tensors: HashMap<String, Tensor>,
}

/// Which architecture a set of upstream keys belongs to, or why it is none of them.
fn detect_arch(path: &Path, names: &HashMap<&str, &TensorInfo>, folded: bool) -> Result<Arch, LoadError> {
    let w = if folded { "weight" } else { "weight_orig" };
    let has = |k: &str| names.contains_key(k);
    if !has("layers.0.0.weight") {
        let why = if names.is_empty() {
            "it holds no tensors".to_string()
        } else if names.keys().any(|k| k.starts_with("layers.0.weight") || k.contains("critic")) {
            "it looks like a critic".to_string()
        } else {
            let mut first: Vec<&&str> = names.keys().collect();
            first.sort();
            format!("no encoder weight `layers.0.0.weight`; its first key is `{}`", first[0])
        };
        return Err(LoadError::NotGenerator { path: path.to_owned(), why });
    }
    let resnet101 = has("layers.0.4.0.conv3.weight");
    let deep = has(&format!("layers.4.conv1.0.{w}"));
    let wide = has(&format!("layers.4.conv.0.{w}"));
    match (resnet101, deep, wide) {
        (false, true, false) => Ok(Arch::Deep34),
        (true, false, true) => Ok(Arch::Wide101),
        _ => Err(LoadError::NotGenerator {
            path: path.to_owned(),
            why: format!(
                "its encoder is {} and its decoder {}; DeOldify pairs ResNet34 with the deep \
                 decoder (Artistic) and ResNet101 with the wide one (Stable, Video)",
                if resnet101 { "ResNet101" } else { "not ResNet101" },
                if deep {
                    "deep"
                } else if wide {
                    "wide"
                } else {
                    "of neither known kind"
                }
            ),
        }),
    }
}

/// Compares the file's keys and shapes with the architecture's, before any data is read.
fn check_manifest(
    path: &Path,
    arch: Arch,
    expected: &[(String, Vec<usize>)],
    found: &[TensorInfo],
) -> Result<(), LoadError> {
    let found_by_name: HashMap<&str, &TensorInfo> = found.iter().map(|i| (i.name.as_str(), i)).collect();
    for (key, shape) in expected {
        match found_by_name.get(key.as_str()) {
            None => return Err(LoadError::MissingKey { path: path.to_owned(), arch, key: key.clone() }),
            // torch stores num_batches_tracked as shape [] but some exporters as [1].
            Some(info) if key.ends_with("num_batches_tracked") && info.shape.iter().product::<usize>() == 1 => {}
            Some(info) if &info.shape != shape => {
                return Err(LoadError::WrongShape {
                    path: path.to_owned(),
                    arch,
                    key: key.clone(),
                    found: info.shape.clone(),
                    expected: shape.clone(),
                });
            }
            Some(_) => {}
        }
    }
    let expected_names: std::collections::HashSet<&str> = expected.iter().map(|(k, _)| k.as_str()).collect();
    let mut unexpected: Vec<&str> =
        found.iter().map(|i| i.name.as_str()).filter(|n| !expected_names.contains(n)).collect();
    unexpected.sort();
    if let Some(key) = unexpected.first() {
        return Err(LoadError::UnexpectedKey { path: path.to_owned(), arch, key: key.to_string() });
    }
    Ok(())
}

/// Which variant a file is, given its architecture: Video shares Stable's layout exactly,
/// so only the user's choice or the file name tells them apart.
fn variant_for(arch: Arch, path: &Path, chosen: Option<Variant>, recorded: Option<&str>) -> Result<Variant, LoadError> {
    if let Some(v) = chosen {
        if v.arch() != arch {
            return Err(LoadError::NotGenerator {
                path: path.to_owned(),
                why: format!("it holds the {arch:?} architecture, which is not {}", v.name()),
            });
        }
        return Ok(v);
    }
    if let Some(v) = recorded.and_then(Variant::from_name).filter(|v| v.arch() == arch) {
        return Ok(v);
    }
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    Ok(match arch {
        Arch::Deep34 => Variant::Artistic,
        Arch::Wide101 if name.contains("video") => Variant::Video,
        Arch::Wide101 => Variant::Stable,
    })
}

/// Every tensor of a weight file as stored (names as in the file, f32 on the CPU), without
/// checking it against an architecture. For inspection and tests.
pub fn read_state_dict(path: &Path) -> Result<Vec<(String, Tensor)>, LoadError> {
    let file = WeightFile::open(path)?;
    file.infos()
        .into_iter()
        .map(|info| {
            let t = match &file {
                WeightFile::Pth(p) => p.tensor(path, &info.name)?,
                WeightFile::SafeTensors { tensors, .. } => tensors
                    .load(&info.name, &Device::Cpu)
                    .map_err(|e| LoadError::corrupt(path, format!("`{}`: {e}", info.name)))?,
            };
            Ok((info.name, t))
        })
        .collect()
}

/// The keys and shapes a file of `arch` must hold: upstream state-dict keys, or with
/// `folded` the keys of a file written by `tintype convert`.
pub fn expected_keys(arch: Arch, folded: bool) -> Vec<(String, Vec<usize>)> {
    let units = arch.units();
    if folded { spec::folded_manifest(&units) } else { spec::raw_manifest(&units) }
}

/// Checks a list of stored tensors against `arch`'s upstream keys; the error names the
/// first missing, mis-shaped or unexpected key.
pub fn check_keys(label: &Path, arch: Arch, found: &[TensorInfo]) -> Result<(), LoadError> {
    check_manifest(label, arch, &expected_keys(arch, false), found)
}

/// Loads a generator's weights from any supported file and folds them.
/// `chosen` overrides the variant (Stable and Video share one layout).
pub fn load_folded(path: &Path, chosen: Option<Variant>) -> Result<FoldedWeights, LoadError> {
    let file = WeightFile::open(path)?;
    let infos = file.infos();
    fold_checked(path, &infos, file.folded_variant(), chosen, |name| file.tensor_f32(path, name))
}

/// Checks and folds a state dict already in memory (upstream key names). `label` names it
/// in messages and, like a file name, can say "video".
pub fn fold_state_dict(
    label: &Path,
    entries: &[(String, Tensor)],
    chosen: Option<Variant>,
) -> Result<FoldedWeights, LoadError> {
    let infos: Vec<TensorInfo> = entries
        .iter()
        .map(|(name, t)| TensorInfo { name: name.clone(), shape: t.dims().to_vec(), dtype: t.dtype() })
        .collect();
    let by_name: HashMap<&str, &Tensor> = entries.iter().map(|(n, t)| (n.as_str(), t)).collect();
    fold_checked(label, &infos, None, chosen, |name| {
        let t = by_name.get(name).ok_or_else(|| LoadError::corrupt(label, format!("no tensor `{name}`")))?;
        t.to_dtype(DType::F32).map_err(|e| LoadError::compute(label, e))
    })
}

/// `recorded`: `Some` for a folded file (with the variant it records), `None` for upstream keys.
fn fold_checked(
    path: &Path,
    infos: &[TensorInfo],
    recorded: Option<Option<String>>,
    chosen: Option<Variant>,
    mut get: impl FnMut(&str) -> Result<Tensor, LoadError>,
) -> Result<FoldedWeights, LoadError> {
    let by_name: HashMap<&str, &TensorInfo> = infos.iter().map(|i| (i.name.as_str(), i)).collect();
    let arch = detect_arch(path, &by_name, recorded.is_some())?;
    let units = arch.units();
    if let Some(recorded) = recorded {
        check_manifest(path, arch, &spec::folded_manifest(&units), infos)?;
        let variant = variant_for(arch, path, chosen, recorded.as_deref())?;
        let mut tensors = HashMap::with_capacity(infos.len());
        for info in infos {
            tensors.insert(info.name.clone(), get(&info.name)?);
        }
        return Ok(FoldedWeights { variant, tensors });
    }
    check_manifest(path, arch, &spec::raw_manifest(&units), infos)?;
    let variant = variant_for(arch, path, chosen, None)?;
    let tensors = fold(&units, get).map_err(|e| match e {
        FoldError::Load(e) => e,
        FoldError::Candle(e) => LoadError::compute(path, e),
    })?;
    Ok(FoldedWeights { variant, tensors })
}

enum FoldError {
    Load(LoadError),
    Candle(candle_core::Error),
}
impl From<candle_core::Error> for FoldError {
    fn from(e: candle_core::Error) -> Self {
        Self::Candle(e)
    }
}
impl From<LoadError> for FoldError {
    fn from(e: LoadError) -> Self {
        Self::Load(e)
    }
}

/// BatchNorm in eval mode as `x·scale + shift`, computed in f64 and rounded once.
fn bn_affine(
    get: &mut impl FnMut(&str) -> Result<Tensor, LoadError>,
    prefix: &str,
) -> Result<(Tensor, Tensor), FoldError> {
    let f64s = |t: Tensor| t.to_dtype(DType::F64);
    let gamma = f64s(get(&format!("{prefix}.weight"))?)?;
    let beta = f64s(get(&format!("{prefix}.bias"))?)?;
    let mean = f64s(get(&format!("{prefix}.running_mean"))?)?;
    let var = f64s(get(&format!("{prefix}.running_var"))?)?;
    let scale = gamma.broadcast_div(&(var + spec::BN_EPS)?.sqrt()?)?;
    let shift = (beta - mean.mul(&scale)?)?;
    Ok((scale.to_dtype(DType::F32)?, shift.to_dtype(DType::F32)?))
}

/// Eval-mode weight of a normalised conv, exactly as torch recomputes it before a forward.
fn conv_weight(get: &mut impl FnMut(&str) -> Result<Tensor, LoadError>, c: &ConvUnit) -> Result<Tensor, FoldError> {
    let p = &c.prefix;
    Ok(match c.norm {
        Norm::Plain => get(&format!("{p}.weight"))?,
        Norm::Spectral => {
            // σ = uᵀ (W v) with the stored u, v; eval mode does no power iteration.
            let w = get(&format!("{p}.weight_orig"))?;
            let u = get(&format!("{p}.weight_u"))?;
            let v = get(&format!("{p}.weight_v"))?;
            let m = w.reshape((c.out_ch, ()))?;
            let mv = m.matmul(&v.unsqueeze(1)?)?.squeeze(1)?;
            let sigma = (u * mv)?.sum_all()?;
            w.broadcast_div(&sigma)?
        }
        Norm::Weight => {
            // W = g · v / ‖v‖, the norm per output channel.
            let g = get(&format!("{p}.weight_g"))?;
            let v = get(&format!("{p}.weight_v"))?;
            let norm = v.sqr()?.flatten_from(1)?.sum_keepdim(1)?.sqrt()?;
            let factor = g.flatten_all()?.unsqueeze(1)?.broadcast_div(&norm)?;
            let shape: Vec<usize> = std::iter::once(c.out_ch).chain(std::iter::repeat_n(1, v.rank() - 1)).collect();
            v.broadcast_mul(&factor.reshape(shape)?)?
        }
    })
}

fn fold(
    units: &[Unit],
    mut get: impl FnMut(&str) -> Result<Tensor, LoadError>,
) -> Result<HashMap<String, Tensor>, FoldError> {
    let mut out = HashMap::new();
    for unit in units {
        match unit {
            Unit::Conv(c) => {
                let mut w = conv_weight(&mut get, c)?;
                let mut b = if c.bias { Some(get(&format!("{}.bias", c.prefix))?) } else { None };
                if let Some(bn) = &c.folded_bn {
                    let (scale, shift) = bn_affine(&mut get, bn)?;
                    let mut shape = vec![1; w.rank()];
                    shape[0] = c.out_ch;
                    w = w.broadcast_mul(&scale.reshape(shape)?)?;
                    b = Some(match b {
                        Some(b) => (b * &scale)?.add(&shift)?,
                        None => shift,
                    });
                }
                out.insert(format!("{}.weight", c.prefix), w.contiguous()?);
                if let Some(b) = b {
                    out.insert(format!("{}.bias", c.prefix), b);
                }
            }
            Unit::BatchNorm { prefix, .. } => {
                let (scale, shift) = bn_affine(&mut get, prefix)?;
                out.insert(format!("{prefix}.scale"), scale);
                out.insert(format!("{prefix}.shift"), shift);
            }
            Unit::Gamma(key) => {
                out.insert(key.clone(), get(key)?);
            }
        }
    }
    Ok(out)
}

/// Writes folded weights as safetensors (f32, or f16 with `half`), atomically: a temporary
/// file in the target folder, then a rename.
pub fn save_folded(weights: &FoldedWeights, out: &Path, half: bool) -> Result<(), LoadError> {
    let dtype = if half { DType::F16 } else { DType::F32 };
    let mut tensors: Vec<(String, Tensor)> = Vec::with_capacity(weights.tensors.len());
    for (name, t) in &weights.tensors {
        // Only the conv weights shrink; biases, BN affines and γ are tiny and stay exact.
        let dtype = if t.rank() > 1 { dtype } else { DType::F32 };
        tensors.push((name.clone(), t.to_dtype(dtype).map_err(|e| LoadError::compute(out, e))?));
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let metadata: HashMap<String, String> = [
        (FORMAT_KEY.to_string(), FOLDED_FORMAT.to_string()),
        (VARIANT_KEY.to_string(), weights.variant.name().to_string()),
    ]
    .into();
    let tmp = crate::io::temp_path(out);
    let result = safetensors::serialize_to_file(tensors.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata), &tmp)
        .map_err(|e| LoadError::Compute { path: out.to_owned(), why: format!("cannot write: {e}") })
        .and_then(|()| std::fs::rename(&tmp, out).map_err(|e| LoadError::io(out, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
