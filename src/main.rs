//! `tintype`: with no arguments (or only photos and folders, as a file manager passes them) the
//! window opens; otherwise a subcommand runs.

use std::path::PathBuf;
use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    tintype::engine::memory::keep_freed_memory();
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let opens_window =
        args.iter().all(|a| !a.to_string_lossy().starts_with('-') && !cli::is_subcommand(a) && a.exists());
    if !opens_window {
        // `tintype models list | head` should end quietly when `head` stops reading, as other
        // command-line tools do, not panic on the closed pipe. (Sockets are unaffected: the
        // standard library sends with MSG_NOSIGNAL / SO_NOSIGPIPE.)
        #[cfg(unix)]
        // SAFETY: nothing else runs yet; this only restores the default action for SIGPIPE.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
        return cli::run();
    }
    #[cfg(windows)]
    close_own_console();
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let threads = tintype::engine::device::free_cores();
        // SAFETY: nothing else runs yet; no thread reads the environment concurrently.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };
    }
    match tintype::app::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Tintype is one program for the window and the command line, so on Windows it is a console
/// program, and started from the Start menu or Explorer it is given a console window of its own.
/// The window closes that console when no other process shares it; started from a terminal, it
/// leaves the terminal's console alone. (Written to afterwards, stderr's closed handle is a sink
/// to Rust's standard library.)
#[cfg(windows)]
fn close_own_console() {
    use windows_sys::Win32::System::Console::{FreeConsole, GetConsoleProcessList};
    let mut ids = [0u32; 2];
    // SAFETY: `ids` has room for the 2 process ids its length says.
    let attached = unsafe { GetConsoleProcessList(ids.as_mut_ptr(), ids.len() as u32) };
    if attached == 1 {
        // SAFETY: this only detaches the process from its console.
        unsafe { FreeConsole() };
    }
}
