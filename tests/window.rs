//! The real window on an X server (Xvfb, with Mesa's drivers): when the graphics backend that
//! wgpu picks cannot open it, as happens with broken drivers, Tintype opens it again with
//! OpenGL instead of giving up; with no display at all, it says to use the command line.
#![cfg(target_os = "linux")]

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills a process group on drop, so a failed assertion leaves nothing running.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let group = self.0.id() as libc::pid_t;
        assert!(group > 1);
        // SAFETY: a plain system call; the group is the one `process_group(0)` made for the child.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

#[test]
fn a_failing_graphics_backend_falls_back_to_opengl() {
    let dir = tempfile::tempdir().unwrap();
    let display = format!(":{}", 40 + std::process::id() % 400);
    let xvfb = Command::new("Xvfb")
        .args([display.as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("this test needs Xvfb (Debian: apt install xvfb)");
    let _xvfb = Group(xvfb);
    std::thread::sleep(Duration::from_secs(2));

    // DirectX 12 does not exist on Linux: wgpu finds nothing to draw with, as it does with a
    // driver that offers a backend and then fails on it.
    let stderr = dir.path().join("stderr");
    let app = Command::new(env!("CARGO_BIN_EXE_tintype"))
        .arg("assets/samples/walt-whitman.jpg")
        .env("DISPLAY", &display)
        .env_remove("WAYLAND_DISPLAY")
        .env("WGPU_BACKEND", "dx12")
        .env("XDG_RUNTIME_DIR", dir.path())
        .env("TINTYPE_CONFIG_DIR", dir.path().join("config"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut app = Group(app);
    let log = || std::fs::read_to_string(&stderr).unwrap_or_default();

    let start = Instant::now();
    while !log().contains("trying again with OpenGL") {
        if let Some(status) = app.0.try_wait().unwrap() {
            panic!("Tintype exited ({status}) without trying OpenGL:\n{}", log());
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no OpenGL retry within a minute:\n{}", log());
        std::thread::sleep(Duration::from_millis(200));
    }
    // The OpenGL window stays open (a failure there ends the process within a second or two).
    std::thread::sleep(Duration::from_secs(8));
    assert!(app.0.try_wait().unwrap().is_none(), "the OpenGL window did not stay open:\n{}", log());
    assert!(!log().contains("either"), "{}", log());
}

#[test]
fn without_a_display_the_message_points_to_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tintype"))
        .arg("assets/samples/walt-whitman.jpg")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .env("XDG_RUNTIME_DIR", dir.path())
        .env("TINTYPE_CONFIG_DIR", dir.path().join("config"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("could not open") && stderr.contains("tintype colorize PHOTO"), "{stderr}");
    // Not a graphics failure, so no second try.
    assert!(!stderr.contains("OpenGL"), "{stderr}");
}
