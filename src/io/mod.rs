//! Files in and out: decoding photos, encoding results atomically.

pub mod decode;
pub mod encode;
pub mod iptc;
pub mod photos;
pub mod provenance;

use std::path::{Path, PathBuf};

/// `photo.png` → `.photo.png.tmp-<pid>` beside it, so the final rename is atomic.
pub(crate) fn temp_path(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}
