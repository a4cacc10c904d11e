//! Finding photos among the files and folders a person hands over (command line, drop, dialog).

use std::path::{Path, PathBuf};

/// File endings read when walking a folder.
pub const PHOTO_EXTENSIONS: [&str; 9] = ["jpg", "jpeg", "png", "tif", "tiff", "webp", "bmp", "jfif", "gif"];
/// Photos Tintype cannot read, still picked up from folders so that each is reported with what
/// to do rather than passed over in silence (a phone's photos of prints are often HEIC).
const UNREADABLE_PHOTO_EXTENSIONS: [&str; 3] = ["heic", "heif", "avif"];

/// A photo found: where it is, and its path relative to what was handed over (a folder's own
/// name comes first, so a batch can mirror the folder).
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub input: PathBuf,
    pub relative: PathBuf,
}

pub fn is_photo(path: &Path) -> bool {
    has_ending(path, &PHOTO_EXTENSIONS)
}

fn has_ending(path: &Path, endings: &[&str]) -> bool {
    path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).is_some_and(|e| endings.contains(&e.as_str()))
}

/// What a walk carries down the folders: what was found, what went wrong, and the folders it is
/// inside (canonical), so that a link back up to one of them is not walked round and round (the
/// system stops that only after 40 links, each photo colorized again at every level).
struct Walk<'a> {
    base: &'a Path,
    recursive: bool,
    found: Vec<Found>,
    problems: &'a mut Vec<String>,
    inside: Vec<PathBuf>,
}

fn walk(dir: &Path, w: &mut Walk) {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if w.inside.contains(&canonical) {
        return; // a link back up: its photos are being walked already, once
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            w.problems.push(format!("{}: cannot list the folder: {e}", dir.display()));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    w.inside.push(canonical);
    for path in paths {
        if path.is_dir() {
            if w.recursive {
                walk(&path, w);
            }
        } else if is_photo(&path) || has_ending(&path, &UNREADABLE_PHOTO_EXTENSIONS) {
            let relative = path.strip_prefix(w.base).unwrap_or(&path).to_path_buf();
            w.found.push(Found { input: path, relative });
        }
    }
    w.inside.pop();
}

/// Files are taken as they are (whatever their ending: the decoder judges by content); folders
/// are walked for photo endings. Anything that cannot be read goes into `problems`.
pub fn collect(inputs: &[PathBuf], recursive: bool, problems: &mut Vec<String>) -> Vec<Found> {
    let mut found = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let name = input.canonicalize().ok().and_then(|p| p.file_name().map(PathBuf::from)).unwrap_or_default();
            let mut w = Walk { base: input, recursive, found: Vec::new(), problems, inside: Vec::new() };
            walk(input, &mut w);
            found.extend(w.found.into_iter().map(|f| Found { relative: name.join(&f.relative), ..f }));
        } else if input.exists() {
            let relative = PathBuf::from(input.file_name().unwrap_or_default());
            found.push(Found { input: input.clone(), relative });
        } else {
            problems.push(format!("{}: no such file or folder", input.display()));
        }
    }
    found
}

// Symbolic links, as the test makes them, are a Unix matter.
#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_link_back_up_is_not_walked_round() {
        let dir = tempfile::tempdir().unwrap();
        let album = dir.path().join("album");
        std::fs::create_dir_all(album.join("1920s")).unwrap();
        std::fs::write(album.join("1920s/wedding.png"), b"").unwrap();
        std::os::unix::fs::symlink("..", album.join("1920s/up")).unwrap();
        // A link to a folder beside it is walked: it is not one the walk is inside.
        std::fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
        std::fs::write(dir.path().join("elsewhere/porch.jpg"), b"").unwrap();
        std::os::unix::fs::symlink("../elsewhere", album.join("elsewhere")).unwrap();
        let mut problems = Vec::new();
        let found = collect(&[album], true, &mut problems);
        let relative: Vec<_> = found.iter().map(|f| f.relative.clone()).collect();
        assert_eq!(relative, [PathBuf::from("album/1920s/wedding.png"), PathBuf::from("album/elsewhere/porch.jpg")]);
        assert!(problems.is_empty(), "{problems:?}");
    }
}
