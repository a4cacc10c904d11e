//! `tintype models`: list, fetch, import and remove models in the per-user data folder.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use tintype::model::Variant;
use tintype::store::{FetchOptions, Store};

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Models Tintype knows, and which are installed.
    List,
    /// Download, check and install a DeOldify model (artistic, stable, video).
    Fetch { name: String },
    /// Install a weight file you already have (.pth or .safetensors).
    Import {
        path: PathBuf,
        /// artistic, stable or video, when the file name does not say (Stable and Video share a layout).
        #[arg(long)]
        variant: Option<String>,
    },
    /// Delete an installed model.
    Remove { name: String },
}

pub fn run(command: ModelsCommand, data_dir: Option<PathBuf>, base_url: Option<String>) -> Result<()> {
    let store = Store::open(data_dir, base_url)?;
    match command {
        ModelsCommand::List => {
            println!("models folder: {}", store.models_dir().display());
            match tintype::store::builtin_compact() {
                Some(path) => println!("{:<9} {:<14} built in: {}", "compact", "Compact", path.display()),
                None => println!("{:<9} {:<14} built in, but its file is missing", "compact", "Compact"),
            }
            for m in store.list() {
                let state = if m.installed.is_some() { "installed" } else { "not installed" };
                println!(
                    "{:<9} {:<14} {:>7.0} MB  {:<13} {}",
                    m.entry.name,
                    m.entry.title,
                    m.entry.approx_size as f64 / 1e6,
                    state,
                    m.entry.about
                );
            }
        }
        ModelsCommand::Fetch { name } => {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let cancel = AtomicBool::new(false);
            let progress = |done: u64, total: Option<u64>| {
                if let Some(t) = total {
                    bar.set_length(t);
                }
                bar.set_position(done);
            };
            let result = store.fetch(&name, &FetchOptions::new(&cancel, &progress));
            bar.finish_and_clear();
            let path = result?;
            println!("installed {name}: {}", path.display());
        }
        ModelsCommand::Import { path, variant } => {
            let variant = variant
                .as_deref()
                .map(|v| {
                    Variant::from_name(v)
                        .with_context(|| format!("unknown variant `{v}`: use artistic, stable or video"))
                })
                .transpose()?;
            let (name, installed) = store.import(&path, variant)?;
            println!("imported {} as {name}: {}", path.display(), installed.display());
        }
        ModelsCommand::Remove { name } => {
            if store.remove(&name)? {
                println!("removed {name}");
            } else {
                println!("{name} was not installed");
            }
        }
    }
    Ok(())
}
