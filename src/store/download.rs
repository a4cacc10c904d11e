//! HTTP downloads that survive real networks: resume with `Range` after an interruption,
//! a stall timeout per read, a few retries with back-off, cancellation, progress.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error(
        "{url}: the server answered {status} {text}; the file may have moved (try again later or use another mirror)"
    )]
    Http { url: String, status: u16, text: String },
    #[error(
        "{url}: {why} (after {attempts} attempts); check the internet connection and try again, the download resumes where it stopped"
    )]
    Network { url: String, why: String, attempts: u32 },
    #[error("{path}: cannot write the download: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("download cancelled")]
    Cancelled,
}

pub struct Options<'a> {
    /// Longest wait for a connection or for the next bytes before a retry.
    pub stall_timeout: Duration,
    pub retries: u32,
    /// First back-off; doubled after each failed attempt.
    pub backoff: Duration,
    pub cancel: &'a AtomicBool,
    /// (bytes so far, total if known).
    pub progress: &'a dyn Fn(u64, Option<u64>),
}

/// Downloads `url` into `partial`, continuing whatever `partial` already holds. On success
/// `partial` holds the whole body; on failure it keeps what arrived, for the next resume.
pub fn download(url: &str, partial: &Path, opts: &Options) -> Result<u64, DownloadError> {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(opts.stall_timeout)
        .timeout_read(opts.stall_timeout)
        .timeout_write(opts.stall_timeout)
        .build();
    let mut attempt = 0;
    let mut backoff = opts.backoff;
    loop {
        attempt += 1;
        match try_once(&agent, url, partial, opts) {
            Ok(n) => return Ok(n),
            Err(Attempt::Fatal(e)) => return Err(e),
            Err(Attempt::Retry(why)) if attempt > opts.retries => {
                return Err(DownloadError::Network { url: url.to_string(), why, attempts: attempt });
            }
            Err(Attempt::Retry(_)) => {
                // Sleep in small steps so a cancel is honoured promptly.
                let until = std::time::Instant::now() + backoff;
                while std::time::Instant::now() < until {
                    if opts.cancel.load(Ordering::Relaxed) {
                        return Err(DownloadError::Cancelled);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                backoff *= 2;
            }
        }
    }
}

enum Attempt {
    Retry(String),
    Fatal(DownloadError),
}

fn try_once(agent: &ureq::Agent, url: &str, partial: &Path, opts: &Options) -> Result<u64, Attempt> {
    let have = std::fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
    let mut request = agent.get(url);
    if have > 0 {
        request = request.set("Range", &format!("bytes={have}-"));
    }
    let response = match request.call() {
        Ok(r) => r,
        // 416: we already have everything (a previous attempt ended right after the last byte).
        Err(ureq::Error::Status(416, _)) if have > 0 => return Ok(have),
        Err(ureq::Error::Status(code, r)) if code >= 500 || code == 429 => {
            return Err(Attempt::Retry(format!("server error {code} {}", r.status_text())));
        }
        Err(ureq::Error::Status(code, r)) => {
            return Err(Attempt::Fatal(DownloadError::Http {
                url: url.to_string(),
                status: code,
                text: r.status_text().to_string(),
            }));
        }
        Err(e) => return Err(Attempt::Retry(e.to_string())),
    };
    // 206 continues the partial file; 200 means the server ignored the range: start over.
    let resuming = response.status() == 206 && have > 0;
    let length: Option<u64> = response.header("Content-Length").and_then(|v| v.parse().ok());
    let total = length.map(|l| if resuming { have + l } else { l });
    let write_err = |source| Attempt::Fatal(DownloadError::Write { path: partial.display().to_string(), source });
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(resuming)
        .truncate(!resuming)
        .open(partial)
        .map_err(write_err)?;
    let mut done = if resuming { have } else { 0 };
    (opts.progress)(done, total);
    let mut body = response.into_reader();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        if opts.cancel.load(Ordering::Relaxed) {
            return Err(Attempt::Fatal(DownloadError::Cancelled));
        }
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                file.flush().map_err(write_err)?;
                return Err(Attempt::Retry(format!("the connection broke or stalled: {e}")));
            }
        };
        file.write_all(&buf[..n]).map_err(write_err)?;
        done += n as u64;
        (opts.progress)(done, total);
    }
    file.sync_all().map_err(write_err)?;
    if let Some(total) = total.filter(|&t| done < t) {
        return Err(Attempt::Retry(format!("the server sent {done} of {total} bytes")));
    }
    Ok(done)
}
