//! `tintype bench`: median forward time (from the grey render square) and peak memory of the
//! DeOldify generators on the fixture weights (the official architectures with seeded
//! weights), one configuration per child process so that each peak RSS is that
//! configuration's own, as `shared/oracle/bench.py` measures PyTorch.

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Device;

use crate::engine::Colorizer;
use crate::model::{Variant, weights};

/// One benchmark configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `artistic`, `stable`, `video` or `compact`.
    pub model: String,
    pub render_factor: u32,
    pub runs: usize,
    pub threads: usize,
    /// Also time each top-level stage (DeOldify models) in one extra run.
    pub profile: bool,
}

/// Peak resident memory of this process so far, in MiB (Linux: VmHWM).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Folded weights for `variant` rebuilt from the fixtures, cached as a safetensors file so
/// that each run loads the model the way the app does.
pub fn prepare_weights(fixtures: &Path, cache: &Path, variant: Variant) -> Result<PathBuf, String> {
    let fixture_name = match variant {
        Variant::Artistic => "artistic",
        Variant::Stable | Variant::Video => "stable",
    };
    let out = cache.join(format!("{}-fixture-folded.safetensors", variant.name()));
    if out.exists() {
        return Ok(out);
    }
    std::fs::create_dir_all(cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let state = crate::model::fixture::rebuild_state_dict(fixtures, fixture_name)
        .map_err(|e| format!("rebuilding the {fixture_name} fixture from {}: {e}", fixtures.display()))?;
    let label = PathBuf::from(format!("{}-fixture", variant.name()));
    let folded = weights::fold_state_dict(&label, &state, Some(variant)).map_err(|e| e.to_string())?;
    weights::save_folded(&folded, &out, false).map_err(|e| e.to_string())?;
    Ok(out)
}

/// A deterministic grey test image, the size of a render square.
pub fn synthetic_grey(size: u32) -> image::GrayImage {
    image::GrayImage::from_fn(size, size, |x, y| {
        let v = 0.5 + 0.35 * ((x as f32 * 0.05).sin() * (y as f32 * 0.037).cos());
        image::Luma([(v * 255.0).round() as u8])
    })
}

/// Runs one configuration in this process and returns its report line.
pub fn run_one(weights_path: &Path, config: &Config, device: &Device) -> Result<String, String> {
    let start = Instant::now();
    let variant = Variant::from_name(&config.model);
    let generator = Colorizer::load(weights_path, variant, device).map_err(|e| e.to_string())?;
    let load = start.elapsed().as_secs_f64();
    let size = 16 * config.render_factor as usize;
    let grey = synthetic_grey(size as u32);
    let time = || -> Result<f64, String> {
        let t = Instant::now();
        // From the grey square on: normalising (about a millisecond), the compact model's grain
        // filter, and the network.
        let x = generator.input(&grey).map_err(|e| e.to_string())?;
        let y = generator.forward(&x).map_err(|e| e.to_string())?;
        // Force the result so the timing covers the whole computation.
        y.sum_all().and_then(|s| s.to_scalar::<f32>()).map_err(|e| e.to_string())?;
        Ok(t.elapsed().as_secs_f64())
    };
    let warmup = time()?;
    let mut runs: Vec<f64> = (0..config.runs).map(|_| time()).collect::<Result<_, _>>()?;
    runs.sort_by(f64::total_cmp);
    let median = runs[runs.len() / 2];
    let peak = peak_rss_mib().map(|m| format!("{m:.0}")).unwrap_or_else(|| "unknown".into());
    let profile = match (&generator, config.profile) {
        (Colorizer::DeOldify(g), true) => {
            let x = generator.input(&grey).map_err(|e| e.to_string())?;
            let mut marks: Vec<(String, Instant)> = Vec::new();
            let t0 = Instant::now();
            g.forward_traced(&x, &mut |name, _| marks.push((name.to_string(), Instant::now())))
                .map_err(|e| e.to_string())?;
            let end = Instant::now();
            let mut last = t0;
            let mut parts: Vec<String> = marks
                .into_iter()
                .map(|(name, at)| {
                    let part = format!("{name}={:.2}", (at - last).as_secs_f64());
                    last = at;
                    part
                })
                .collect();
            parts.push(format!("sigmoid={:.2}", (end - last).as_secs_f64()));
            format!("\nprofile model={} rf={} stage_s: {}", config.model, config.render_factor, parts.join(" "))
        }
        _ => String::new(),
    };
    Ok(format!(
        "bench model={} rf={} size={size} device={} threads={} median_s={median:.2} peak_rss_mib={peak} load_s={load:.2} warmup_s={warmup:.2} runs_s={}{profile}",
        config.model,
        config.render_factor,
        crate::engine::device::name(device),
        config.threads,
        runs.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(",")
    ))
}

/// Everything around the model for one photo of `width`×`height` 16-bit pixels, timed:
/// decode a 16-bit TIFF, prepare the render square, finish (resize back, 16-bit merge) and
/// encode a 16-bit TIFF. The model's forward is replaced by its input (same shape, no cost).
/// Returns the report line; run it in its own process for its peak RSS.
pub fn run_pipeline(width: u32, height: u32, render_factor: u32, runs: usize) -> Result<String, String> {
    use crate::io::{decode, encode};
    use crate::pipeline::{chroma, deoldify};

    let dir = std::env::temp_dir().join("tintype-bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let input = dir.join(format!("scan-{width}x{height}-16bit.tif"));
    if !input.exists() {
        // A synthetic scan: smooth gradients with fine detail, all 16 bits used.
        let scan = image::ImageBuffer::<image::Rgb<u16>, Vec<u16>>::from_fn(width, height, |x, y| {
            let v = (((x as f32 * 0.013).sin() * (y as f32 * 0.017).cos() * 0.4 + 0.5) * 60000.0) as u16
                + (x ^ y) as u16 % 97;
            image::Rgb([v, v.saturating_sub(900), v.saturating_sub(2500)])
        });
        let bytes =
            encode::encode(&image::DynamicImage::ImageRgb16(scan), encode::Format::Tiff, &Default::default(), None)?;
        std::fs::write(&input, bytes).map_err(|e| e.to_string())?;
    }
    let output = dir.join("scan-out.tif");
    let mut times = Vec::new();
    for _ in 0..runs + 1 {
        let start = Instant::now();
        let photo = decode::decode(&input).map_err(|e| e.to_string())?;
        let orig16 = photo.pixels.to_rgb16();
        let orig8 = photo.pixels.to_rgb8();
        drop(photo);
        let (_, x) = deoldify::prepare(&orig8, render_factor, &Device::Cpu).map_err(|e| e.to_string())?;
        let square = deoldify::denormalise(&x).map_err(|e| e.to_string())?;
        let colour = deoldify::pil_bilinear_resize(&square, width, height);
        drop(orig8);
        let merged = chroma::merge_16bit(&orig16, &colour, &chroma::ChromaControls::default());
        drop((orig16, colour));
        let bytes =
            encode::encode(&image::DynamicImage::ImageRgb16(merged), encode::Format::Tiff, &Default::default(), None)?;
        encode::write_atomic(&output, &bytes, &[&input]).map_err(|e| e.to_string())?;
        times.push(start.elapsed().as_secs_f64());
    }
    let _ = std::fs::remove_file(&output);
    let warmup = times.remove(0);
    times.sort_by(f64::total_cmp);
    let peak = peak_rss_mib().map(|m| format!("{m:.0}")).unwrap_or_else(|| "unknown".into());
    Ok(format!(
        "bench pipeline size={width}x{height} depth=16 rf={render_factor} median_s={:.2} peak_rss_mib={peak} warmup_s={warmup:.2} megapixels={:.1}",
        times[times.len() / 2],
        width as f64 * height as f64 / 1e6
    ))
}
