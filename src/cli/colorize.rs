//! `tintype colorize`: a batch over files and folders, a progress bar, a clear line per
//! failed file while the batch goes on, a summary, and a non-zero exit if anything failed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use tintype::engine::device::{self, DeviceChoice};
use tintype::engine::{Colorizer, Settings};
use tintype::io::photos::{self, Found};
use tintype::io::{decode, encode, provenance};
use tintype::model::Variant;
use tintype::pipeline::chroma::ChromaControls;
use tintype::store::Store;

#[derive(Args)]
pub struct ColorizeArgs {
    /// Photos and folders of photos.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output folder; folders given as input are mirrored inside it.
    #[arg(short, long, default_value = "colorized")]
    output: PathBuf,
    /// `compact` (built in), an installed model (artistic, stable, video; see `tintype
    /// models`), or the path of a weight file (.pth or .safetensors).
    #[arg(long, default_value = "compact")]
    model: String,
    /// artistic, stable or video when the file name does not say (Stable and Video share a layout).
    #[arg(long)]
    variant: Option<String>,
    /// Render factor: the model sees a 16·N px square (the built-in model: as many pixels in the
    /// photo's shape). Higher is steadier but slower.
    #[arg(long, value_parser = clap::value_parser!(u32).range(7..=64))]
    render_factor: Option<u32>,
    /// Fading repair, 0 (off) to 1 (full): restores contrast, black and white points and
    /// removes colour casts of faded prints before colorizing.
    #[arg(long, default_value_t = 0.0)]
    defade: f32,
    /// Colour strength, 0 (grey) to 2.
    #[arg(long, default_value_t = 1.0)]
    saturation: f32,
    /// −1 (cooler) to 1 (warmer).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    warmth: f32,
    /// −1 (greener) to 1 (more magenta).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    tint: f32,
    /// Turn every photo clockwise first, for scans that lie on their side: 0, 90, 180 or 270 degrees.
    #[arg(long, default_value_t = 0)]
    rotate: u16,
    /// Cut away the scanner's margin around each print (the even white or black of its lid)
    /// before colorizing; a photo with no margin is kept whole.
    #[arg(long)]
    trim: bool,
    /// A scan of several prints laid on the glass gives each print, trimmed, as its own output
    /// (scan-print1.png, scan-print2.png, …, in reading order); a scan of one is trimmed.
    #[arg(long)]
    split: bool,
    /// png, jpeg, tiff or webp.
    #[arg(long, default_value = "png")]
    format: String,
    /// JPEG quality, 1–100.
    #[arg(long, default_value_t = 92, value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
    /// Look into sub-folders too.
    #[arg(short, long)]
    recursive: bool,
    /// Leave photos whose output is already there, so a batch stopped part-way goes on where
    /// it stopped (an output is written whole or not at all).
    #[arg(long)]
    skip_existing: bool,
}

/// Where the chosen model's file is, and which variant it is if the user said.
fn model_file(args: &ColorizeArgs, data_dir: Option<PathBuf>) -> Result<(PathBuf, Option<Variant>)> {
    resolve_model(&args.model, args.variant.as_deref(), data_dir)
}

/// A model name (installed DeOldify model, `compact`) or a file path → the file, and the
/// variant the user named.
pub fn resolve_model(
    model: &str,
    variant: Option<&str>,
    data_dir: Option<PathBuf>,
) -> Result<(PathBuf, Option<Variant>)> {
    let variant = variant
        .map(|v| Variant::from_name(v).with_context(|| format!("unknown variant `{v}`: use artistic, stable or video")))
        .transpose()?;
    let known = tintype::store::manifest().into_iter().find(|e| e.name.eq_ignore_ascii_case(model));
    let path = match known {
        Some(entry) => Store::open(data_dir, None)?.resolve(&entry.name).with_context(|| {
            format!(
                "the {} model is not installed; run `tintype models fetch {}`, or `tintype models import FILE` with a file you have",
                entry.title, entry.name
            )
        })?,
        None if model.eq_ignore_ascii_case("compact") => tintype::store::builtin_compact().context(
            "the built-in compact model file is missing (models/compact.safetensors, or share/tintype/models/ beside the \
             program); reinstall Tintype, or use a DeOldify model (artistic, stable, video or a file)",
        )?,
        None => PathBuf::from(model),
    };
    if !path.exists() {
        bail!(
            "{}: no such model file. Give the path of a DeOldify weight file \
             (ColorizeArtistic_gen.pth, ColorizeStable_gen.pth, ColorizeVideo_gen.pth or a converted .safetensors)",
            path.display()
        );
    }
    Ok((path, variant))
}

fn load_model(path: &Path, variant: Option<Variant>, device: &candle_core::Device) -> Result<Colorizer> {
    Ok(Colorizer::load(path, variant, device)?)
}

/// A photo's failure, told apart from the GPU running out of memory (worth a retry on the CPU).
enum Failure {
    OutOfMemory,
    Other(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Other(e.into())
    }
}

/// What of each scan is colorized.
#[derive(Clone, Copy, PartialEq)]
enum Cut {
    Whole,
    /// The print inside the scanner's margin.
    Trim,
    /// Each print of a scan of several, as its own output.
    Split,
}

/// What colorizing one file made.
struct Made {
    /// Pictures its file holds besides the one colorized (a multi-page TIFF's other pages).
    other_pictures: usize,
    /// The outputs written: one, or one for each print of a scan of several.
    outputs: Vec<PathBuf>,
}

/// Colorizes one photo into `out_path` (or, split, into `out_path` numbered for each print).
fn colorize_one(
    colorizer: &Colorizer,
    job: &Found,
    out_path: &Path,
    settings: &Settings,
    cut: Cut,
    format: encode::Format,
) -> Result<Made, Failure> {
    use tintype::pipeline::crop::{find_each_print, find_print};
    let photo = decode::decode(&job.input)?;
    let pixels = tintype::engine::turn(photo.pixels, settings.quarter_turns);
    let crops = match cut {
        Cut::Whole => vec![None],
        Cut::Split => match find_each_print(&pixels) {
            none if none.is_empty() => vec![None],
            prints => prints.into_iter().map(Some).collect(),
        },
        Cut::Trim => vec![find_print(&pixels)],
    };
    let numbered = crops.len() > 1;
    let mut outputs = Vec::new();
    for (k, crop) in crops.into_iter().enumerate() {
        let settings = Settings { crop, ..settings.clone() };
        let out_path = match numbered {
            true => out_path.with_file_name(format!(
                "{}-print{}.{}",
                out_path.file_stem().unwrap_or_default().to_string_lossy(),
                k + 1,
                format.extension()
            )),
            false => out_path.to_owned(),
        };
        let result = match colorizer.colorize(&pixels, &settings) {
            Ok(r) => r,
            Err(e) if device::is_out_of_memory(&e) => return Err(Failure::OutOfMemory),
            Err(e) => {
                let context = format!("{}: colorizing failed", job.input.display());
                return Err(anyhow::Error::from(e).context(context).into());
            }
        };
        let record = provenance::Provenance::now(colorizer.name(), settings.describe());
        let carried = photo.carried.turned(settings.quarter_turns);
        let exif = provenance::exif_for(Some(&job.input), &record, carried.density);
        let bytes = encode::encode(&result, format, &carried, exif.as_deref())
            .map_err(|why| anyhow::anyhow!("{}: cannot encode: {why}", out_path.display()))?;
        if let Some(parent) = out_path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("{}: cannot create the folder", parent.display()))?;
        }
        encode::write_atomic(&out_path, &bytes, &[&job.input])?;
        outputs.push(out_path);
    }
    Ok(Made { other_pictures: photo.other_pictures, outputs })
}

/// `dir/photo.<ext>`, or `dir/photo-2.<ext>`, … when another photo of this batch (say
/// `photo.jpg` beside `photo.png`) already claimed that name.
fn unique_output(base: &Path, ext: &str, planned: &mut std::collections::HashSet<PathBuf>) -> PathBuf {
    let first = base.with_extension(ext);
    if planned.insert(first.clone()) {
        return first;
    }
    let stem = base.file_stem().unwrap_or_default().to_string_lossy().into_owned();
    (2..)
        .map(|n| base.with_file_name(format!("{stem}-{n}.{ext}")))
        .find(|candidate| planned.insert(candidate.clone()))
        .expect("an unused name exists")
}

pub fn run(args: ColorizeArgs, data_dir: Option<PathBuf>, device_choice: DeviceChoice) -> Result<()> {
    let format = match encode::Format::from_name(&args.format) {
        Some(encode::Format::Jpeg { .. }) => encode::Format::Jpeg { quality: args.quality },
        Some(f) => f,
        None => bail!("unknown format `{}`: use png, jpeg, tiff or webp", args.format),
    };
    if !(0.0..=1.0).contains(&args.defade) {
        bail!("--defade goes from 0 (off) to 1 (full repair)");
    }
    if !(0.0..=2.0).contains(&args.saturation)
        || !(-1.0..=1.0).contains(&args.warmth)
        || !(-1.0..=1.0).contains(&args.tint)
    {
        bail!("--saturation goes from 0 to 2, --warmth and --tint from -1 to 1");
    }
    if !args.rotate.is_multiple_of(90) || args.rotate > 270 {
        bail!("--rotate turns by 0, 90, 180 or 270 degrees clockwise, not {}", args.rotate);
    }
    let mut problems = Vec::new();
    let jobs = photos::collect(&args.inputs, args.recursive, &mut problems);
    for p in &problems {
        eprintln!("error: {p}");
    }
    if jobs.is_empty() {
        bail!("no photos found (JPEG, PNG, TIFF, WebP, BMP or GIF)");
    }
    let (model_path, variant) = model_file(&args, data_dir)?;
    let device = device::open(device_choice).map_err(anyhow::Error::msg)?;
    let mut colorizer = load_model(&model_path, variant, &device)?;
    let settings = Settings {
        render_factor: args.render_factor.unwrap_or(colorizer.default_render_factor()),
        defade: args.defade,
        chroma: ChromaControls { saturation: args.saturation, warmth: args.warmth, tint: args.tint },
        quarter_turns: (args.rotate / 90) as u8,
        // The brush is the window's: strokes are painted by hand on a photo on screen.
        brush: Vec::new(),
        crop: None,
    };
    let cut = match (args.split, args.trim) {
        (true, _) => Cut::Split,
        (false, true) => Cut::Trim,
        (false, false) => Cut::Whole,
    };

    let bar = ProgressBar::new(jobs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg} [{elapsed_precise}, about {eta} left]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (mut done, mut skipped, mut failed) = (0usize, 0usize, problems.len());
    let mut planned = std::collections::HashSet::new();
    for job in &jobs {
        bar.set_message(job.relative.display().to_string());
        let out_path = unique_output(&args.output.join(&job.relative), format.extension(), &mut planned);
        if args.skip_existing && out_path.exists() {
            skipped += 1;
            bar.inc(1);
            continue;
        }
        // One bad file (even a panic deep in a decoder) must not stop the batch.
        let attempt = |colorizer: &Colorizer| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                colorize_one(colorizer, job, &out_path, &settings, cut, format)
            }))
        };
        let mut outcome = attempt(&colorizer);
        if let Ok(Err(Failure::OutOfMemory)) = outcome {
            // Never a silent grey result: say so, move to the CPU, and do this photo again.
            bar.suspend(|| {
                eprintln!(
                    "warning: the GPU ran out of memory on {} at render factor {}; continuing on the CPU (a smaller --render-factor keeps the GPU)",
                    job.input.display(),
                    settings.render_factor
                )
            });
            colorizer = load_model(&model_path, variant, &candle_core::Device::Cpu)?;
            outcome = attempt(&colorizer);
        }
        match outcome {
            Ok(Ok(Made { other_pictures: others, outputs })) => {
                done += 1;
                if outputs.len() > 1 {
                    let names: Vec<String> = outputs.iter().map(|o| o.display().to_string()).collect();
                    bar.suspend(|| {
                        eprintln!("{} holds {} prints: {}", job.input.display(), outputs.len(), names.join(", "))
                    });
                }
                if others > 0 {
                    bar.suspend(|| {
                        eprintln!(
                            "warning: {} holds {} pictures (pages); only the first was colorized: save each as its own file to colorize the others",
                            job.input.display(),
                            others + 1
                        )
                    });
                }
            }
            Ok(Err(Failure::OutOfMemory)) => {
                failed += 1;
                bar.suspend(|| {
                    eprintln!(
                        "error: {}: out of memory even on the CPU; try a smaller --render-factor",
                        job.input.display()
                    )
                });
            }
            Ok(Err(Failure::Other(e))) => {
                failed += 1;
                bar.suspend(|| eprintln!("error: {e:#}"));
            }
            Err(_) => {
                failed += 1;
                bar.suspend(|| {
                    eprintln!(
                        "error: {}: internal error while colorizing; please report this file",
                        job.input.display()
                    )
                });
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let skipped = if skipped > 0 { format!(", {skipped} already there") } else { String::new() };
    println!(
        "colorized {done} photo{} into {}{skipped}, {failed} failed",
        if done == 1 { "" } else { "s" },
        args.output.display()
    );
    if failed > 0 {
        bail!("{failed} file{} could not be colorized (see above)", if failed == 1 { "" } else { "s" });
    }
    Ok(())
}
