//! Finding photos among the files and folders a person hands over (command line, drop, dialog).

use std::path::{Path, PathBuf};

/// File endings read when walking a folder.
pub const PHOTO_EXTENSIONS: [&str; 8] = ["jpg", "jpeg", "png", "tif", "tiff", "webp", "bmp", "jfif"];

/// A photo found: where it is, and its path relative to what was handed over (a folder's own
/// name comes first, so a batch can mirror the folder).
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub input: PathBuf,
    pub relative: PathBuf,
}

pub fn is_photo(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| PHOTO_EXTENSIONS.contains(&e.as_str()))
}

fn walk(dir: &Path, base: &Path, recursive: bool, found: &mut Vec<Found>, problems: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(format!("{}: cannot list the folder: {e}", dir.display()));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            if recursive {
                walk(&path, base, recursive, found, problems);
            }
        } else if is_photo(&path) {
            let relative = path.strip_prefix(base).unwrap_or(&path).to_path_buf();
            found.push(Found { input: path, relative });
        }
    }
}

/// Files are taken as they are (whatever their ending: the decoder judges by content); folders
/// are walked for photo endings. Anything that cannot be read goes into `problems`.
pub fn collect(inputs: &[PathBuf], recursive: bool, problems: &mut Vec<String>) -> Vec<Found> {
    let mut found = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let name = input.canonicalize().ok().and_then(|p| p.file_name().map(PathBuf::from)).unwrap_or_default();
            let before = found.len();
            walk(input, input, recursive, &mut found, problems);
            for f in &mut found[before..] {
                f.relative = name.join(&f.relative);
            }
        } else if input.exists() {
            let relative = PathBuf::from(input.file_name().unwrap_or_default());
            found.push(Found { input: input.clone(), relative });
        } else {
            problems.push(format!("{}: no such file or folder", input.display()));
        }
    }
    found
}
