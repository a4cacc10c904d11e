//! Model downloads against a real HTTP server on 127.0.0.1 started by the test, serving the
//! full-size Artistic generator (fixture weights) in upstream's legacy `.pth` container.
//! After every case the models folder holds the complete validated model or nothing of it.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tintype::model::{Generator, Variant};
use tintype::store::{self, FetchOptions, Store, StoreError};

const PATH: &str = "/deoldify/ColorizeArtistic_gen.pth";

/// The Artistic state dict as torch's legacy `.pth` bytes, built once.
fn artistic_pth() -> Arc<Vec<u8>> {
    static BYTES: OnceLock<Arc<Vec<u8>>> = OnceLock::new();
    BYTES
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("a.pth");
            let state = tintype::model::fixture::rebuild_state_dict(&common::deoldify_fixtures(), "artistic").unwrap();
            common::torch_save::save_legacy(&state, &path, false);
            Arc::new(std::fs::read(&path).unwrap())
        })
        .clone()
}

#[derive(Clone, Copy, PartialEq)]
enum Behaviour {
    Serve,
    /// The first response breaks off after this many bytes; later ones are whole.
    CutFirstAfter(usize),
    /// Every response stops sending after this many bytes and holds the connection.
    StallAfter(usize),
    NotFound,
}

struct Server {
    url: String,
    requests: Arc<AtomicUsize>,
    ranges: Arc<Mutex<Vec<String>>>,
}

fn serve(body: Arc<Vec<u8>>, behaviour: Behaviour) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let (req, rng) = (requests.clone(), ranges.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            let n = req.fetch_add(1, Ordering::SeqCst);
            let (body, rng) = (body.clone(), rng.clone());
            std::thread::spawn(move || handle(stream, &body, behaviour, n, &rng));
        }
    });
    Server { url, requests, ranges }
}

fn handle(mut stream: TcpStream, body: &[u8], behaviour: Behaviour, n: usize, ranges: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap_or(0);
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut start = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some(v) = header.to_ascii_lowercase().strip_prefix("range: bytes=") {
            ranges.lock().unwrap().push(v.trim().to_string());
            start = v.trim().trim_end_matches('-').parse().unwrap_or(0);
        }
    }
    if behaviour == Behaviour::NotFound || path != PATH {
        let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    let rest = &body[start.min(body.len())..];
    let head = if start > 0 {
        format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{}\r\nConnection: close\r\n\r\n",
            rest.len(),
            body.len() - 1,
            body.len()
        )
    } else {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", rest.len())
    };
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let limit = match behaviour {
        Behaviour::CutFirstAfter(k) if n == 0 => k,
        Behaviour::StallAfter(k) => k,
        _ => usize::MAX,
    };
    let sent = rest.len().min(limit);
    for chunk in rest[..sent].chunks(1 << 20) {
        if stream.write_all(chunk).is_err() {
            return;
        }
    }
    if let Behaviour::StallAfter(_) = behaviour {
        std::thread::sleep(Duration::from_secs(10));
    }
    // Dropping the stream closes the connection (a cut when `sent` < the length announced).
}

fn options<'a>(cancel: &'a AtomicBool, progress: &'a dyn Fn(u64, Option<u64>)) -> FetchOptions<'a> {
    let mut o = FetchOptions::new(cancel, progress);
    o.stall_timeout = Duration::from_millis(500);
    o.retries = 2;
    o.backoff = Duration::from_millis(20);
    o
}

/// Files in the models folder other than the resumable partial download and its lock.
fn installed_files(store: &Store) -> Vec<PathBuf> {
    match std::fs::read_dir(store.models_dir()) {
        Err(_) => vec![],
        Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect(),
    }
}

fn partial_files(store: &Store) -> Vec<PathBuf> {
    match std::fs::read_dir(store.models_dir().join(".partial")) {
        Err(_) => vec![],
        Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| !p.to_string_lossy().ends_with(".lock")).collect(),
    }
}

fn assert_complete(store: &Store, served: &[u8]) {
    let installed = store.resolve("artistic").expect("installed");
    let generator = Generator::load(&installed, &candle_core::Device::Cpu).unwrap();
    assert_eq!(generator.variant(), Variant::Artistic);
    let record = std::fs::read_to_string(store.models_dir().join("artistic.source.json")).unwrap();
    let sha = format!("{:x}", Sha256::digest(served));
    assert!(record.contains(&sha), "{record}");
    assert!(partial_files(store).is_empty(), "{:?}", partial_files(store));
}

#[test]
fn manifest_names_the_official_models() {
    let names: Vec<String> = store::manifest().into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["artistic", "stable", "video"]);
    for e in store::manifest() {
        let v = Variant::from_name(&e.variant).unwrap();
        assert_eq!(v.default_render_factor(), e.render_factor);
        assert!(e.url.starts_with("https://"));
    }
    let store = Store::open(Some("/nonexistent".into()), Some("http://127.0.0.1:9/".into())).unwrap();
    let artistic = &store::manifest()[0];
    assert_eq!(store.url_for(artistic), "http://127.0.0.1:9/deoldify/ColorizeArtistic_gen.pth");
}

#[test]
fn full_download_installs_a_validated_model() {
    let body = artistic_pth();
    let server = serve(body.clone(), Behaviour::Serve);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Some(dir.path().into()), Some(server.url.clone())).unwrap();
    let cancel = AtomicBool::new(false);
    let last = Mutex::new((0u64, None));
    let progress = |d: u64, t: Option<u64>| *last.lock().unwrap() = (d, t);
    store.fetch("artistic", &options(&cancel, &progress)).unwrap();
    assert_eq!(*last.lock().unwrap(), (body.len() as u64, Some(body.len() as u64)));
    assert_complete(&store, &body);
    // Fetching again is a no-op.
    let before = server.requests.load(Ordering::SeqCst);
    store.fetch("artistic", &options(&cancel, &progress)).unwrap();
    assert_eq!(server.requests.load(Ordering::SeqCst), before);
    assert!(store.remove("artistic").unwrap());
    assert!(installed_files(&store).is_empty());
}

#[test]
fn an_interrupted_download_resumes_with_a_range_request() {
    let body = artistic_pth();
    let server = serve(body.clone(), Behaviour::CutFirstAfter(100_000_000));
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Some(dir.path().into()), Some(server.url.clone())).unwrap();
    let cancel = AtomicBool::new(false);
    store.fetch("artistic", &options(&cancel, &|_, _| {})).unwrap();
    assert_complete(&store, &body);
    assert_eq!(*server.ranges.lock().unwrap(), ["100000000-"]);
}

#[test]
fn a_corrupted_file_is_rejected_and_removed() {
    let mut bad = artistic_pth().as_ref().clone();
    // Damage the state-dict pickle right after the three header pickles.
    for b in &mut bad[200..260] {
        *b = 0x55;
    }
    let server = serve(Arc::new(bad), Behaviour::Serve);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Some(dir.path().into()), Some(server.url.clone())).unwrap();
    let cancel = AtomicBool::new(false);
    let err = store.fetch("artistic", &options(&cancel, &|_, _| {})).unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
    assert!(err.to_string().contains("deleted"), "{err}");
    assert!(installed_files(&store).is_empty(), "{:?}", installed_files(&store));
    assert!(partial_files(&store).is_empty());
}

#[test]
fn not_found_and_a_stalled_server_leave_nothing_installed() {
    let dir = tempfile::tempdir().unwrap();
    let cancel = AtomicBool::new(false);

    let server = serve(artistic_pth(), Behaviour::NotFound);
    let store = Store::open(Some(dir.path().into()), Some(server.url.clone())).unwrap();
    let err = store.fetch("artistic", &options(&cancel, &|_, _| {})).unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
    assert!(installed_files(&store).is_empty());
    assert_eq!(server.requests.load(Ordering::SeqCst), 1, "a 404 is not retried");

    let server = serve(artistic_pth(), Behaviour::StallAfter(1_000_000));
    let store = Store::open(Some(dir.path().into()), Some(server.url.clone())).unwrap();
    let started = std::time::Instant::now();
    let err = store.fetch("artistic", &options(&cancel, &|_, _| {})).unwrap_err();
    assert!(err.to_string().contains("stalled") || err.to_string().contains("timed out"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(8), "the stall timeout did not fire");
    assert_eq!(server.requests.load(Ordering::SeqCst), 3, "two retries after the first attempt");
    assert!(installed_files(&store).is_empty());
    // Each retry resumed where the last one stalled; what arrived is kept to resume from.
    assert_eq!(*server.ranges.lock().unwrap(), ["1000000-", "2000000-"]);
    let partial = partial_files(&store);
    assert_eq!(partial.len(), 1);
    assert_eq!(std::fs::metadata(&partial[0]).unwrap().len(), 3_000_000);
    assert_eq!(std::fs::read(&partial[0]).unwrap(), artistic_pth()[..3_000_000]);
}

#[test]
fn a_full_disk_is_refused_before_downloading() {
    let server = serve(artistic_pth(), Behaviour::Serve);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Some(dir.path().into()), Some(server.url.clone())).unwrap();
    let cancel = AtomicBool::new(false);
    let progress = |_: u64, _: Option<u64>| {};
    let mut opts = options(&cancel, &progress);
    opts.free_space_override = Some(100_000_000);
    let err = store.fetch("artistic", &opts).unwrap_err();
    assert!(matches!(err, StoreError::NoSpace { .. }), "{err}");
    assert!(err.to_string().contains("MB needed"), "{err}");
    assert_eq!(server.requests.load(Ordering::SeqCst), 0);
    assert!(installed_files(&store).is_empty());
    assert!(partial_files(&store).is_empty());
}

#[test]
fn concurrent_fetches_of_one_model_install_it_once() {
    let body = artistic_pth();
    let server = serve(body.clone(), Behaviour::Serve);
    let dir = tempfile::tempdir().unwrap();
    let root: PathBuf = dir.path().into();
    let results: Vec<Result<PathBuf, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (root, url) = (root.clone(), server.url.clone());
                s.spawn(move || {
                    let store = Store::open(Some(root), Some(url)).unwrap();
                    let cancel = AtomicBool::new(false);
                    store.fetch("artistic", &options(&cancel, &|_, _| {})).map_err(|e| e.to_string())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.iter().any(|r| r.is_ok()), "{results:?}");
    for r in &results {
        if let Err(e) = r {
            assert!(e.contains("downloading artistic right now"), "{e}");
        }
    }
    let store = Store::open(Some(root), None).unwrap();
    assert_complete(&store, &body);
}

#[test]
fn import_and_the_command_line_use_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let pth = dir.path().join("ColorizeArtistic_gen.pth");
    std::fs::write(&pth, artistic_pth().as_slice()).unwrap();
    let data = dir.path().join("data");
    let exe = env!("CARGO_BIN_EXE_tintype");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(exe).args(args).arg("--data-dir").arg(&data).output().unwrap();
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    };
    let (ok, log) = run(&["models", "import", pth.to_str().unwrap()]);
    assert!(ok && log.contains("imported") && log.contains("artistic"), "{log}");
    let (ok, log) = run(&["models", "list"]);
    assert!(ok && log.lines().any(|l| l.starts_with("artistic") && l.contains(" installed")), "{log}");
    // colorize by name
    let photo = dir.path().join("p.png");
    image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 3) as u8, (y * 5) as u8, 90])).save(&photo).unwrap();
    let out_dir = dir.path().join("out");
    let (ok, log) = run(&[
        "colorize",
        photo.to_str().unwrap(),
        "-o",
        out_dir.to_str().unwrap(),
        "--model",
        "artistic",
        "--render-factor",
        "7",
    ]);
    assert!(ok, "{log}");
    assert!(out_dir.join("p.png").exists());
    // A known model that is not installed says how to get it.
    let (ok, log) = run(&["colorize", photo.to_str().unwrap(), "-o", out_dir.to_str().unwrap(), "--model", "stable"]);
    assert!(!ok && log.contains("tintype models fetch stable"), "{log}");
    let (ok, log) = run(&["models", "remove", "artistic"]);
    assert!(ok && log.contains("removed"), "{log}");
    // A JPEG renamed .pth is refused with the file named, and nothing is added.
    let fake = dir.path().join("fake.pth");
    std::fs::write(&fake, b"\xff\xd8\xff\xe0 not really").unwrap();
    let (ok, log) = run(&["models", "import", fake.to_str().unwrap()]);
    assert!(!ok && log.contains("fake.pth") && log.contains("JPEG"), "{log}");
    assert!(std::fs::read_dir(data.join("models")).unwrap().all(|e| !e.unwrap().path().is_file()));
}
