//! Command-line subcommands. Each one drives the library and reports errors in words.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use tintype::bench;
use tintype::engine::device::{self, DeviceChoice};

mod colorize;
mod eval;
mod models;
use colorize::ColorizeArgs;
use tintype::model::{Variant, weights};

#[derive(Parser)]
#[command(name = "tintype", version, about = "Brings old black-and-white photos back to colour")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Folder for downloaded and imported models (default: the per-user data folder, or
    /// TINTYPE_DATA_DIR).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Fetch models from this host instead of the official ones (a mirror; or
    /// TINTYPE_MODEL_BASE_URL).
    #[arg(long, global = true)]
    base_url: Option<String>,
    /// Where the network runs: auto (a GPU when this build has one and finds one), cpu, cuda, metal.
    #[arg(long, global = true, default_value = "auto")]
    device: String,
}

#[derive(Subcommand)]
enum Command {
    /// Colorize photos or folders of photos; originals are never changed.
    Colorize(ColorizeArgs),
    /// Measure colour quality of a model on a folder (re-grayscaled colour photos, or old photos).
    Eval(eval::EvalArgs),
    /// List, download, import and remove models.
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Convert a DeOldify generator (.pth or .safetensors) to folded safetensors that load
    /// in well under a second.
    Convert {
        /// ColorizeArtistic_gen.pth, ColorizeStable_gen.pth, ColorizeVideo_gen.pth, …
        input: PathBuf,
        /// Where to write the .safetensors file.
        output: PathBuf,
        /// Store f16 (half the size); it computes in f32 on the CPU.
        #[arg(long)]
        half: bool,
        /// artistic, stable or video (Stable and Video share one layout; by default the
        /// file name decides).
        #[arg(long)]
        variant: Option<String>,
    },
    /// Time the models (fixture weights for DeOldify's) or everything around them.
    Bench(BenchArgs),
}

#[derive(clap::Args)]
struct BenchArgs {
    /// artistic, stable, compact, or all (artistic and stable).
    #[arg(long, default_value = "all")]
    model: String,
    /// Render factors (the square side is 16 × render factor).
    #[arg(long, value_delimiter = ',', default_value = "20,35")]
    render_factor: Vec<u32>,
    /// Timed runs per configuration (after one warm-up).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// CPU threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Folder with the DeOldify fixtures.
    #[arg(long, default_value = "tests/fixtures/deoldify")]
    fixtures: PathBuf,
    /// Internal: run one configuration with these folded weights in this process.
    #[arg(long, hide = true)]
    one: Option<PathBuf>,
    /// Also print the time of each top-level stage (DeOldify models).
    #[arg(long)]
    profile: bool,
    /// Time everything around the model instead (decode, prepare, finish, encode) on a
    /// synthetic 16-bit scan of this size, e.g. 6000x4000.
    #[arg(long)]
    pipeline: Option<String>,
}

/// Whether `arg` names a subcommand (a file of that name still means the subcommand).
pub fn is_subcommand(arg: &std::path::Path) -> bool {
    use clap::CommandFactory;
    let name = arg.to_string_lossy();
    Cli::command().get_subcommands().any(|c| c.get_name() == name) || name == "help"
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    // The CPU back end sizes its thread pool from RAYON_NUM_THREADS when it first runs:
    // unless the user set it, use the cores that are free now.
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let threads = match &cli.command {
            // A benchmark measures the machine: all cores unless told otherwise.
            Command::Bench(args) => args.threads.unwrap_or_else(all_cores),
            _ => device::free_cores(),
        };
        // SAFETY: nothing else runs yet; no thread reads the environment concurrently.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };
    }
    let device = match DeviceChoice::from_name(&cli.device) {
        Some(d) => d,
        None => {
            eprintln!("error: unknown device `{}`: use auto, cpu, cuda or metal", cli.device);
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Colorize(args) => colorize::run(args, cli.data_dir, device),
        Command::Models(command) => models::run(command, cli.data_dir, cli.base_url),
        Command::Eval(args) => {
            colorize::resolve_model(&args.model, None, cli.data_dir).and_then(|model| eval::run(args, model, device))
        }
        Command::Convert { input, output, half, variant } => convert(input, output, half, variant),
        Command::Bench(args) => match &args.pipeline {
            Some(size) => bench_pipeline(size, args.render_factor[0], args.runs),
            None => bench_cmd(&args, &cli.device),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn parse_variant(name: &str) -> Result<Variant> {
    Variant::from_name(name).with_context(|| format!("unknown model `{name}`: use artistic, stable or video"))
}

fn convert(input: PathBuf, output: PathBuf, half: bool, variant: Option<String>) -> Result<()> {
    let chosen = variant.as_deref().map(parse_variant).transpose()?;
    if output.exists() && output.canonicalize().ok() == input.canonicalize().ok() {
        bail!("{}: the output would overwrite the input; choose another file name", output.display());
    }
    let start = std::time::Instant::now();
    let folded = weights::load_folded(&input, chosen)?;
    weights::save_folded(&folded, &output, half)?;
    let bytes = std::fs::metadata(&output).map(|m| m.len()).unwrap_or(0);
    println!(
        "converted {} ({}) → {} ({:.1} MB, {}) in {:.1} s",
        input.display(),
        folded.variant.name(),
        output.display(),
        bytes as f64 / 1e6,
        if half { "f16" } else { "f32" },
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn bench_pipeline(size: &str, render_factor: u32, runs: usize) -> Result<()> {
    let (w, h) = size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
        .with_context(|| format!("--pipeline takes WIDTHxHEIGHT, e.g. 6000x4000, not `{size}`"))?;
    println!("{}", bench::run_pipeline(w, h, render_factor, runs.max(1)).map_err(anyhow::Error::msg)?);
    Ok(())
}

fn bench_cmd(args: &BenchArgs, device: &str) -> Result<()> {
    let BenchArgs { model, render_factor: render_factors, runs, threads, fixtures, one, profile, .. } = args;
    let (runs, profile) = (*runs, *profile);
    let models: Vec<&str> = match model.as_str() {
        "all" => vec!["artistic", "stable"],
        "artistic" | "stable" | "compact" => vec![model.as_str()],
        other => bail!("unknown model `{other}`: use artistic, stable, compact or all"),
    };
    let threads = threads.unwrap_or_else(all_cores);
    let device_choice = DeviceChoice::from_name(device).with_context(|| format!("unknown device `{device}`"))?;
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    if let Some(weights_path) = one {
        let config =
            bench::Config { model: models[0].to_string(), render_factor: render_factors[0], runs, threads, profile };
        let device = device::open(device_choice).map_err(anyhow::Error::msg)?;
        println!("{}", bench::run_one(weights_path, &config, &device).map_err(anyhow::Error::msg)?);
        return Ok(());
    }
    let cache = std::env::temp_dir().join("tintype-bench");
    let exe = std::env::current_exe().context("finding the tintype executable")?;
    for name in models {
        let weights_path = match name {
            "compact" => tintype::store::builtin_compact().context("the built-in compact model file is missing")?,
            _ => {
                let variant = parse_variant(name)?;
                bench::prepare_weights(fixtures, &cache, variant).map_err(anyhow::Error::msg)?
            }
        };
        for &rf in render_factors.iter() {
            // A child process per configuration, so each peak RSS is its own.
            let out = std::process::Command::new(&exe)
                .args(["bench", "--model", name, "--render-factor", &rf.to_string()])
                .args(["--runs", &runs.to_string(), "--threads", &threads.to_string(), "--device", device])
                .args(profile.then_some("--profile"))
                .arg("--one")
                .arg(&weights_path)
                .env("RAYON_NUM_THREADS", threads.to_string())
                .output()
                .context("starting a benchmark process")?;
            if !out.status.success() {
                bail!("benchmark of {name} at rf {rf} failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            print!("{}", String::from_utf8_lossy(&out.stdout));
        }
    }
    Ok(())
}
