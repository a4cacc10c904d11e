//! What the app remembers between runs: the model and device, the render size and adjustments
//! set last (which photos added next start with), the export choices and recent folders, as
//! TOML in the per-user config folder. A missing or damaged file gives the defaults.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::Settings;
use crate::pipeline::chroma::ChromaControls;

/// The model the person picked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ModelPick {
    /// The compact model shipped inside the app.
    BuiltIn,
    /// A DeOldify model installed in the models folder, by manifest name.
    Installed(String),
    /// A weight file anywhere on disk.
    File(PathBuf),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ViewMode {
    Split,
    SideBySide,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShareLayout {
    SideBySide,
    Split,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    pub model: ModelPick,
    /// `auto` or `cpu` (and `cuda`, `metal` where built in).
    pub device: String,
    /// The render size and adjustments last set, which photos added next start with.
    pub render_factor: u32,
    pub defade: f32,
    pub saturation: f32,
    pub warmth: f32,
    pub tint: f32,
    pub view: ViewMode,
    /// Where exports go; `None` until chosen (then the Pictures folder is offered).
    pub export_dir: Option<PathBuf>,
    /// `png`, `jpeg`, `tiff` or `webp`.
    pub export_format: String,
    pub share_layout: ShareLayout,
    /// Newest first.
    pub recent_folders: Vec<PathBuf>,
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            model: ModelPick::BuiltIn,
            device: "auto".into(),
            render_factor: 35,
            defade: 0.0,
            saturation: 1.0,
            warmth: 0.0,
            tint: 0.0,
            view: ViewMode::Split,
            export_dir: None,
            export_format: "png".into(),
            share_layout: ShareLayout::SideBySide,
            recent_folders: Vec::new(),
        }
    }
}

const RECENT_MAX: usize = 8;
pub const FILE_NAME: &str = "settings.toml";

impl Prefs {
    /// The per-user config folder (`TINTYPE_CONFIG_DIR` overrides it).
    pub fn default_dir() -> Option<PathBuf> {
        std::env::var_os("TINTYPE_CONFIG_DIR")
            .map(PathBuf::from)
            .or_else(|| crate::store::project_dirs().map(|d| d.config_dir().to_owned()))
    }

    pub fn load(dir: &Path) -> Self {
        std::fs::read_to_string(dir.join(FILE_NAME))
            .ok()
            .and_then(|text| toml::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// Written atomically; a failure only costs the remembered settings, so it is returned for
    /// a quiet note rather than a dialog.
    pub fn save(&self, dir: &Path) -> Result<(), String> {
        let text = toml::to_string(self).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        crate::io::encode::write_atomic(&dir.join(FILE_NAME), text.as_bytes(), &[]).map_err(|e| e.to_string())
    }

    /// The settings a photo added now starts with.
    pub fn photo_settings(&self) -> Settings {
        Settings {
            render_factor: self.render_factor,
            defade: self.defade,
            chroma: ChromaControls { saturation: self.saturation, warmth: self.warmth, tint: self.tint },
            // Which way up a scan lies is its own: photos added next start upright.
            quarter_turns: 0,
        }
    }

    /// Keeps `settings` (but its turn) as those photos added next start with.
    pub fn remember_photo_settings(&mut self, settings: &Settings) {
        self.render_factor = settings.render_factor;
        self.defade = settings.defade;
        let ChromaControls { saturation, warmth, tint } = settings.chroma;
        (self.saturation, self.warmth, self.tint) = (saturation, warmth, tint);
    }

    pub fn remember_folder(&mut self, folder: &Path) {
        self.recent_folders.retain(|f| f != folder);
        self.recent_folders.insert(0, folder.to_owned());
        self.recent_folders.truncate(RECENT_MAX);
    }
}
