//! `tintype eval`: judge any model on any folder with the metrics of shared/design/quality.md.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use image::DynamicImage;

use tintype::engine::device::{self, DeviceChoice};
use tintype::engine::{Colorizer, Settings};
use tintype::eval;
use tintype::io::{decode, photos};
use tintype::pipeline::chroma::ChromaControls;
use tintype::pipeline::deoldify;

#[derive(Clone, Copy, ValueEnum)]
pub enum Mode {
    /// Colour photos made grey (Pillow luma), colorized, compared with the originals and with
    /// the plain grey picture.
    Regrey,
    /// Old photos, no truth: colourfulness, hue entropy, brown-band share, luminance kept.
    Old,
}

#[derive(Args)]
pub struct EvalArgs {
    mode: Mode,
    /// Folder of photos.
    folder: PathBuf,
    /// A model file, or an installed model's name (see `tintype models`), or `compact`.
    #[arg(long)]
    pub model: String,
    #[arg(long)]
    render_factor: Option<u32>,
    /// Use only the first N photos (sorted by name).
    #[arg(long)]
    limit: Option<usize>,
    /// Also write every photo's numbers and the summary as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Old-photo mode: also write a review sheet (each input beside its result) as PNG.
    #[arg(long)]
    sheet: Option<PathBuf>,
}

fn photos(folder: &Path, limit: Option<usize>) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .with_context(|| format!("{}: cannot list the folder", folder.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| photos::is_photo(p))
        .collect();
    files.sort();
    files.truncate(limit.unwrap_or(usize::MAX));
    if files.is_empty() {
        bail!("{}: no photos", folder.display());
    }
    Ok(files)
}

pub fn run(
    args: EvalArgs,
    model: (PathBuf, Option<tintype::model::Variant>),
    device_choice: DeviceChoice,
) -> Result<()> {
    let device = device::open(device_choice).map_err(anyhow::Error::msg)?;
    let colorizer = Colorizer::load(&model.0, model.1, &device)?;
    let settings = Settings {
        render_factor: args.render_factor.unwrap_or(colorizer.default_render_factor()),
        defade: 0.0,
        chroma: ChromaControls::default(),
        quarter_turns: 0,
        brush: Vec::new(),
        crop: None,
    };
    let files = photos(&args.folder, args.limit)?;
    let name = |p: &Path| p.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let json = match args.mode {
        Mode::Regrey => {
            let mut scored = Vec::new();
            for path in &files {
                let truth = decode::decode(path)?.pixels.to_rgb8();
                let grey = DynamicImage::ImageLuma8(deoldify::pil_luma(&truth)).to_rgb8();
                let colorized = colorizer.colorize(&DynamicImage::ImageRgb8(grey.clone()), &settings)?.to_rgb8();
                scored.push(eval::score_regrey(&name(path), &truth, &grey, &colorized));
            }
            let s = eval::summarise_regrey(&scored);
            println!(
                "eval regrey model={} rf={} photos={} ciede2000={:.2} grey_ciede2000={:.2} gain={:.2} gain_ci95=[{:.2},{:.2}] \
                 better_than_grey={:.0}% psnr={:.2} grey_psnr={:.2} colourfulness={:.1} truth_colourfulness={:.1} delta_cf={:.1}",
                colorizer.name(),
                settings.render_factor,
                s.photos,
                s.ciede2000,
                s.grey_ciede2000,
                s.gain,
                s.gain_ci.0,
                s.gain_ci.1,
                s.better_than_grey * 100.0,
                s.psnr,
                s.grey_psnr,
                s.colourfulness,
                s.truth_colourfulness,
                s.delta_colourfulness
            );
            serde_json::json!({ "mode": "regrey", "model": colorizer.name(), "render_factor": settings.render_factor, "summary": s, "photos": scored })
        }
        Mode::Old => {
            let mut scored = Vec::new();
            let mut pairs = Vec::new();
            for path in &files {
                let input = decode::decode(path)?.pixels;
                let colorized = colorizer.colorize(&input, &settings)?.to_rgb8();
                scored.push(eval::score_old(&name(path), &input.to_rgb8(), &colorized));
                if args.sheet.is_some() {
                    pairs.push((input.to_rgb8(), colorized));
                }
            }
            if let Some(sheet) = &args.sheet {
                eval::review_sheet(&pairs, 256, 2)
                    .save(sheet)
                    .with_context(|| format!("{}: cannot write", sheet.display()))?;
            }
            let s = eval::summarise_old(&scored);
            println!(
                "eval old model={} rf={} photos={} colourfulness={:.1} hue_entropy={:.3} brown_share={:.3} luminance_psnr={:.1} min_luminance_psnr={:.1}",
                colorizer.name(),
                settings.render_factor,
                s.photos,
                s.colourfulness,
                s.hue_entropy,
                s.brown_share,
                s.luminance_psnr,
                s.min_luminance_psnr
            );
            serde_json::json!({ "mode": "old", "model": colorizer.name(), "render_factor": settings.render_factor, "summary": s, "photos": scored })
        }
    };
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_vec_pretty(&json)?)
            .with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(())
}
