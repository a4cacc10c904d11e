//! The models a person has: the per-user data folder, the manifest of models Tintype knows by
//! name, downloads that end in a validated, converted model or nothing, and imports.

pub mod download;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::model::{Variant, weights};

/// The manifest shipped with this build (`models/manifest.toml`).
const MANIFEST: &str = include_str!("../../models/manifest.toml");
const PARTIAL_DIR: &str = ".partial";

#[derive(Debug, Clone, serde::Deserialize)]
pub struct ModelEntry {
    pub name: String,
    pub title: String,
    pub variant: String,
    pub url: String,
    pub approx_size: u64,
    pub render_factor: u32,
    pub licence: String,
    pub about: String,
}

#[derive(serde::Deserialize)]
struct Manifest {
    model: Vec<ModelEntry>,
}

/// The built-in compact model's file where each package puts it — Linux
/// `<prefix>/share/tintype/models/`, Windows `models\` beside the program, macOS
/// `Tintype.app/Contents/Resources/models/` — or in the source tree for `cargo run`.
pub fn builtin_compact() -> Option<PathBuf> {
    shipped_places("models", "models")
        .into_iter()
        .map(|dir| dir.join("compact.safetensors"))
        .find(|p| p.is_file())
        .map(plain)
}

/// The sample photos the packages ship (`samples` where the models are; `assets/samples` in
/// the source tree), for a first try with nothing of one's own at hand. Empty when there are none.
pub fn sample_photos() -> Vec<PathBuf> {
    let Some(dir) = shipped_places("samples", "assets/samples").into_iter().find(|d| d.is_dir()) else {
        return Vec::new();
    };
    let found = crate::io::photos::collect(&[plain(dir)], false, &mut Vec::new());
    found.into_iter().map(|f| f.input).collect()
}

/// Where the packages put a shared `folder`, in the order looked at, and last `in_source` in
/// the source tree.
fn shipped_places(folder: &str, in_source: &str) -> Vec<PathBuf> {
    let mut places = Vec::new();
    if let Some(bin) = std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf)) {
        places.push(bin.join("../share/tintype").join(folder));
        places.push(bin.join(folder));
        places.push(bin.join("../Resources").join(folder));
    }
    places.push(Path::new(env!("CARGO_MANIFEST_DIR")).join(in_source));
    places
}

/// The canonical path, as people read it. dunce: Windows' canonical form is a `\\?\` path.
fn plain(path: PathBuf) -> PathBuf {
    dunce::canonicalize(&path).unwrap_or(path)
}

/// Tintype's per-user folders: `tintype` under the XDG folders on Linux, `Tintype` in AppData
/// on Windows (Roaming for settings, Local for models), `org.Tintype` in Application Support on
/// macOS.
pub fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("org", "", "Tintype")
}

/// Every model of the shipped manifest.
pub fn manifest() -> Vec<ModelEntry> {
    toml::from_str::<Manifest>(MANIFEST).expect("the shipped manifest parses (tested)").model
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unknown model `{0}`; known models: {1}")]
    Unknown(String, String),
    #[error("{path}: {why}")]
    Folder { path: PathBuf, why: String },
    #[error("not enough free space in {path}: {needed_mb} MB needed, {free_mb} MB free; free some space and try again")]
    NoSpace { path: PathBuf, needed_mb: u64, free_mb: u64 },
    #[error(transparent)]
    Download(#[from] download::DownloadError),
    #[error("the downloaded {name} model is not valid ({why}); it was deleted, try again or use another mirror")]
    Invalid { name: String, why: String },
    #[error(transparent)]
    Load(#[from] weights::LoadError),
    #[error("another Tintype is downloading {0} right now; wait for it to finish")]
    Busy(String),
}

/// Where models live: `TINTYPE_DATA_DIR` (or `--data-dir`), else the per-user data folder.
#[derive(Clone)]
pub struct Store {
    root: PathBuf,
    base_url: Option<String>,
}

pub struct FetchOptions<'a> {
    pub cancel: &'a AtomicBool,
    pub progress: &'a dyn Fn(u64, Option<u64>),
    pub stall_timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
    /// Overrides the free space the disk reports (for tests of a full disk).
    pub free_space_override: Option<u64>,
}

impl<'a> FetchOptions<'a> {
    pub fn new(cancel: &'a AtomicBool, progress: &'a dyn Fn(u64, Option<u64>)) -> Self {
        Self {
            cancel,
            progress,
            stall_timeout: Duration::from_secs(30),
            retries: 4,
            backoff: Duration::from_secs(1),
            free_space_override: None,
        }
    }
}

/// A model in the store, installed or not.
#[derive(Debug, Clone)]
pub struct ModelStatus {
    pub entry: ModelEntry,
    pub installed: Option<PathBuf>,
}

impl Store {
    /// `data_dir` and `base_url` come from flags; unset, from `TINTYPE_DATA_DIR` and
    /// `TINTYPE_MODEL_BASE_URL`; unset again, the per-user data folder and the manifest's hosts.
    pub fn open(data_dir: Option<PathBuf>, base_url: Option<String>) -> Result<Self, StoreError> {
        let root = data_dir
            .or_else(|| std::env::var_os("TINTYPE_DATA_DIR").map(PathBuf::from))
            // Local, not roaming, on Windows: models are hundreds of MB and must not travel
            // with a roaming profile.
            .or_else(|| project_dirs().map(|d| d.data_local_dir().to_path_buf()))
            .ok_or_else(|| StoreError::Folder {
                path: PathBuf::from("~"),
                why: "no home folder found; set TINTYPE_DATA_DIR to a folder for models".into(),
            })?;
        let base_url = base_url.or_else(|| std::env::var("TINTYPE_MODEL_BASE_URL").ok()).filter(|s| !s.is_empty());
        Ok(Self { root, base_url })
    }

    pub fn models_dir(&self) -> PathBuf {
        self.root.join("models")
    }

    /// Where pictures pasted into the window are kept as files.
    pub fn pasted_dir(&self) -> PathBuf {
        self.root.join("pasted")
    }

    fn installed_path(&self, name: &str) -> PathBuf {
        self.models_dir().join(format!("{name}.safetensors"))
    }

    fn entry(name: &str) -> Result<ModelEntry, StoreError> {
        let all = manifest();
        let names = all.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ");
        all.iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
            .cloned()
            .ok_or_else(|| StoreError::Unknown(name.to_string(), names))
    }

    /// The URL to fetch `entry` from: the manifest's, or the same path on the base URL.
    pub fn url_for(&self, entry: &ModelEntry) -> String {
        match &self.base_url {
            None => entry.url.clone(),
            Some(base) => {
                let path = entry.url.splitn(4, '/').nth(3).unwrap_or_default();
                format!("{}/{path}", base.trim_end_matches('/'))
            }
        }
    }

    /// The installed file for a model name, if it is installed.
    pub fn resolve(&self, name: &str) -> Option<PathBuf> {
        Some(self.installed_path(name)).filter(|p| p.is_file())
    }

    pub fn list(&self) -> Vec<ModelStatus> {
        manifest().into_iter().map(|entry| ModelStatus { installed: self.resolve(&entry.name), entry }).collect()
    }

    fn ensure_dir(&self, dir: &Path) -> Result<(), StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Folder { path: dir.to_owned(), why: format!("cannot create the folder: {e}") })
    }

    /// Downloads, validates and converts the model `name`; returns its installed file.
    /// Afterwards the models folder holds the complete validated model or nothing of it (a
    /// broken-off download keeps its bytes under `.partial/` to resume from).
    pub fn fetch(&self, name: &str, opts: &FetchOptions) -> Result<PathBuf, StoreError> {
        let entry = Self::entry(name)?;
        let installed = self.installed_path(&entry.name);
        if installed.is_file() {
            return Ok(installed);
        }
        let partial_dir = self.models_dir().join(PARTIAL_DIR);
        self.ensure_dir(&partial_dir)?;
        // One download per model at a time, across processes; the OS drops the lock if we die.
        let lock_path = partial_dir.join(format!("{}.lock", entry.name));
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::Folder { path: lock_path.clone(), why: e.to_string() })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(StoreError::Busy(entry.name.clone())),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(StoreError::Folder { path: lock_path, why: e.to_string() });
            }
        }
        if installed.is_file() {
            return Ok(installed); // finished by the process that held the lock
        }

        let partial = partial_dir.join(format!("{}.pth.part", entry.name));
        let have = std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
        // The download plus the converted f32 copy, with a little room.
        let needed = (entry.approx_size.saturating_sub(have) + entry.approx_size) * 21 / 20;
        let free = match opts.free_space_override {
            Some(f) => f,
            None => fs4::available_space(&partial_dir).unwrap_or(u64::MAX),
        };
        if free < needed {
            return Err(StoreError::NoSpace {
                path: self.models_dir(),
                needed_mb: needed / 1_000_000,
                free_mb: free / 1_000_000,
            });
        }

        let url = self.url_for(&entry);
        let dl = download::Options {
            stall_timeout: opts.stall_timeout,
            retries: opts.retries,
            backoff: opts.backoff,
            cancel: opts.cancel,
            progress: opts.progress,
        };
        download::download(&url, &partial, &dl)?;

        let variant = Variant::from_name(&entry.variant).expect("manifest variants are known (tested)");
        let installed = self.install_from(&partial, &entry.name, Some(variant)).inspect_err(|_| {
            // A complete download that is not the model is useless to resume from.
            let _ = std::fs::remove_file(&partial);
        })?;
        let sha = sha256_file(&partial).unwrap_or_default();
        let record = format!(
            "{{\"source\": {url:?}, \"sha256\": {sha:?}, \"bytes\": {}}}\n",
            std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0)
        );
        let _ = std::fs::write(self.models_dir().join(format!("{}.source.json", entry.name)), record);
        let _ = std::fs::remove_file(&partial);
        Ok(installed)
    }

    /// Validates `source` as a DeOldify generator, converts it to folded f32 safetensors and
    /// installs it under `name`, atomically.
    fn install_from(&self, source: &Path, name: &str, variant: Option<Variant>) -> Result<PathBuf, StoreError> {
        let folded = weights::load_folded(source, variant)
            .map_err(|e| StoreError::Invalid { name: name.to_string(), why: e.to_string() })?;
        self.ensure_dir(&self.models_dir())?;
        let installed = self.installed_path(name);
        weights::save_folded(&folded, &installed, false)?;
        Ok(installed)
    }

    /// Adds a weight file the user already has (any supported container); returns the
    /// model's name (its variant) and installed file.
    pub fn import(&self, path: &Path, variant: Option<Variant>) -> Result<(String, PathBuf), StoreError> {
        let folded = weights::load_folded(path, variant)?;
        let name = folded.variant.name().to_string();
        self.ensure_dir(&self.models_dir())?;
        let installed = self.installed_path(&name);
        weights::save_folded(&folded, &installed, false)?;
        Ok((name, installed))
    }

    /// Removes an installed model; false if it was not installed.
    pub fn remove(&self, name: &str) -> Result<bool, StoreError> {
        let entry = Self::entry(name)?;
        let path = self.installed_path(&entry.name);
        if !path.exists() {
            return Ok(false);
        }
        std::fs::remove_file(&path)
            .map_err(|e| StoreError::Folder { path: path.clone(), why: format!("cannot remove: {e}") })?;
        let _ = std::fs::remove_file(self.models_dir().join(format!("{}.source.json", entry.name)));
        let _ = std::fs::remove_file(self.models_dir().join(PARTIAL_DIR).join(format!("{}.pth.part", entry.name)));
        Ok(true)
    }
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(format!("{:x}", hasher.finalize()))
}
