//! Photos handed to the window that is already open. Explorer starts one process per file when a
//! person selects several photos and picks "Open with Tintype", and a file manager starts another
//! when more photos are opened later: each of those hands its photos to the open window, as a
//! file in the config folder's inbox, and exits, so the photos arrive in one window.
//!
//! The open window holds a lock on `window.lock`, which the system drops when the window's
//! process ends, however it ends. A process that finds the lock free opens its own window.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant, SystemTime};

const LOCK_FILE: &str = "window.lock";
const INBOX_DIR: &str = "inbox";
/// How often the open window looks in its inbox.
const POLL: Duration = Duration::from_millis(250);
/// How long a handed-over list may wait to be taken before its process opens a window of its own
/// (the open window may be busy starting up, or hung).
const HAND_OVER_WAIT: Duration = Duration::from_secs(5);

/// The open window's claim on the inbox, and the photos that arrive in it.
pub struct Inbox {
    _lock: File,
    arrived: Receiver<Vec<PathBuf>>,
    /// The window to wake; the inbox's thread looks only while this lives.
    window: Arc<OnceLock<egui::Context>>,
}

impl Inbox {
    /// Claims the inbox in `config_dir` for this process's window, or None when another window
    /// holds it (or the folder cannot be written): then this window simply receives nothing.
    /// Claimed before the window opens, so that the other processes Explorer starts beside this
    /// one, a moment later, find it taken.
    pub fn claim(config_dir: &Path) -> Option<Self> {
        let lock = open_lock(config_dir)?;
        lock.try_lock().ok()?;
        let dir = config_dir.join(INBOX_DIR);
        std::fs::create_dir_all(&dir).ok()?;
        let (tx, arrived) = channel();
        let window: Arc<OnceLock<egui::Context>> = Arc::default();
        let watching: Weak<OnceLock<egui::Context>> = Arc::downgrade(&window);
        std::thread::Builder::new()
            .name("inbox".into())
            .spawn(move || {
                while let Some(wake) = watching.upgrade() {
                    let paths = take_all(&dir);
                    if !paths.is_empty() && tx.send(paths).is_ok() {
                        // Before the window exists there is nothing to wake: its first frame looks.
                        if let Some(ctx) = wake.get() {
                            ctx.request_repaint();
                        }
                    }
                    std::thread::sleep(POLL);
                }
            })
            .ok()?;
        Some(Self { _lock: lock, arrived, window })
    }

    /// The window to wake when photos arrive.
    pub fn wake(&self, ctx: &egui::Context) {
        let _ = self.window.set(ctx.clone());
    }

    /// The photos handed over since the last call, in the order they came.
    pub fn poll(&self) -> Vec<PathBuf> {
        self.arrived.try_iter().flatten().collect()
    }
}

/// Hands `paths` to the window open on `config_dir`, if there is one that takes them within a
/// few seconds. True when it did (this process has nothing left to do); false when this process
/// should open a window of its own.
pub fn hand_over(config_dir: &Path, paths: &[PathBuf]) -> bool {
    let Some(lock) = open_lock(config_dir) else { return false };
    match lock.try_lock() {
        Err(TryLockError::WouldBlock) => {}
        _ => return false, // no window holds it (dropping `lock` releases it again)
    }
    let Some(list) = paths
        .iter()
        .map(|p| std::path::absolute(p).ok().and_then(|p| p.into_os_string().into_string().ok()))
        .collect::<Option<Vec<String>>>()
    else {
        return false; // a name that is not Unicode cannot be written down; open it here
    };
    let dir = config_dir.join(INBOX_DIR);
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let name = format!("{}-{nanos}", std::process::id());
    let (partial, ready) = (dir.join(format!("{name}.partial")), dir.join(format!("{name}.paths")));
    // Written whole, then renamed, so the window never reads half a list.
    if std::fs::write(&partial, list.join("\n")).is_err() || std::fs::rename(&partial, &ready).is_err() {
        let _ = std::fs::remove_file(&partial);
        return false;
    }
    let start = Instant::now();
    while start.elapsed() < HAND_OVER_WAIT {
        if !ready.exists() {
            return true;
        }
        std::thread::sleep(POLL / 2);
    }
    // Not taken: take it back. If the window took it in the meantime, it is gone already.
    std::fs::remove_file(&ready).is_err()
}

fn open_lock(config_dir: &Path) -> Option<File> {
    std::fs::create_dir_all(config_dir).ok()?;
    std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(config_dir.join(LOCK_FILE)).ok()
}

/// Reads and removes every finished list in the inbox, oldest first.
fn take_all(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut lists: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "paths"))
        .map(|p| (p.metadata().and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH), p))
        .collect();
    lists.sort();
    let mut paths = Vec::new();
    for (_, list) in lists {
        // Removed first: a list whose removal fails was taken back by its sender, or would
        // be read again at every look.
        let Ok(text) = std::fs::read_to_string(&list) else { continue };
        if std::fs::remove_file(&list).is_ok() {
            paths.extend(text.lines().filter(|l| !l.is_empty()).map(PathBuf::from));
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_no_window_open_nothing_is_handed_over_or_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!hand_over(dir.path(), &[PathBuf::from("porch.jpg")]));
        assert!(!dir.path().join(INBOX_DIR).exists());
        // And a window opened afterwards can claim the inbox: the sender's lock was released.
        assert!(Inbox::claim(dir.path()).is_some());
    }

    #[test]
    fn photos_handed_over_arrive_in_the_open_window_and_a_second_window_gets_none() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::claim(dir.path()).expect("the first window claims the inbox");
        assert!(Inbox::claim(dir.path()).is_none(), "one window holds the inbox");
        let photos = [dir.path().join("Grandma 1950.jpg"), dir.path().join("porch.jpg")];
        assert!(hand_over(dir.path(), &photos));
        let start = Instant::now();
        let mut arrived = Vec::new();
        while arrived.is_empty() && start.elapsed() < Duration::from_secs(5) {
            arrived = inbox.poll();
            std::thread::sleep(POLL);
        }
        assert_eq!(arrived, photos);
        assert!(take_all(&dir.path().join(INBOX_DIR)).is_empty());
    }
}
