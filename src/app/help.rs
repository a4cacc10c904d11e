//! The Help window (F1, or Help on the toolbar): the keys, where Tintype keeps what it keeps
//! (each folder one click away), and whose work it stands on, with the terms that come with it.

use std::path::PathBuf;

use egui::RichText;

use super::{App, command_key};

impl App {
    pub(super) fn help_window(&mut self, ctx: &egui::Context) {
        if !self.help_open {
            return;
        }
        let command = |key| command_key(ctx, key);
        let keys = [
            (command(egui::Key::O), "Add photos"),
            (command(egui::Key::V), "Paste copied files, or a copied picture"),
            (command(egui::Key::E), "Export the picked photos"),
            (command(egui::Key::C), "Copy the colorized photo on screen"),
            (command(egui::Key::Z), "Take back the last change"),
            (format!("{}, {}", command(egui::Key::Y), shifted(ctx, egui::Key::Z)), "Put it back"),
            (command(egui::Key::L) + ", " + &command(egui::Key::R), "Rotate the picked photos"),
            (command(egui::Key::A), "Pick every photo"),
            ("Delete".into(), "Take the picked photos off the list"),
            ("Page Up, Page Down".into(), "The photo above, below"),
            ("Shift+F10".into(), "The menu of the photo on screen, or of the one focused"),
            ("+, −, wheel".into(), "Zoom the picture"),
            ("Double-click".into(), "The picture at 100 % where clicked, or fitted"),
            ("C".into(), "Crop the photo on screen (Enter crops, Escape leaves it as it was)"),
            ("Arrows, Alt+arrows".into(), "Move the crop frame, or its right and bottom edges"),
            ("B".into(), "The brush that mends wrong colour (Escape puts it down)"),
            (super::colour_pick_clicks(ctx).join(", "), "The brush's colour, picked from the photo"),
            ("[, ]".into(), "A smaller, larger brush"),
            ("Right-drag".into(), "Pan the picture while the brush is up"),
            (command(egui::Key::Plus) + ", " + &command(egui::Key::Minus), "Zoom the whole window"),
            ("F11, Escape".into(), "Full screen, and back"),
            ("F1".into(), "This window (Escape closes it)"),
        ];
        let folders = self.kept_folders();
        let mut open = true;
        let mut to_open = None;
        let window = egui::Window::new("Help").open(&mut open).collapsible(false).vscroll(true);
        window.default_size([520.0, 720.0]).show(ctx, |ui| {
            ui.label(format!("Tintype {VERSION} brings old black-and-white photos back to colour, offline."));
            ui.label(
                "Drop scans on the window; the photo on screen is colorized first. The originals are never changed.",
            );
            ui.add_space(6.0);
            ui.strong("Keys");
            egui::Grid::new("help-keys").num_columns(2).striped(true).show(ui, |ui| {
                for (key, what) in &keys {
                    ui.label(RichText::new(key).monospace());
                    ui.label(*what);
                    ui.end_row();
                }
            });
            ui.add_space(6.0);
            ui.strong("Where Tintype keeps things");
            egui::Grid::new("help-folders").num_columns(2).show(ui, |ui| {
                for (what, folder) in &folders {
                    ui.label(*what);
                    let link = ui.link(folder.display().to_string()).on_hover_text("Open this folder");
                    if link.clicked() {
                        to_open = Some(folder.clone());
                    }
                    ui.end_row();
                }
            });
            ui.add_space(6.0);
            ui.strong("Made with");
            for credit in CREDITS {
                ui.label(credit);
            }
        });
        if let Some(folder) = to_open {
            if folder.is_dir() {
                self.open_folder(&folder);
            } else {
                let text = format!("{} holds nothing yet.", folder.display());
                self.notice = Some(super::Notice::info(text));
            }
        }
        self.help_open = open;
    }

    /// What Tintype keeps and where: settings and the list, models and pasted pictures,
    /// thumbnails, exports.
    fn kept_folders(&self) -> Vec<(&'static str, PathBuf)> {
        let mut folders = Vec::new();
        if let Some(dir) = &self.options.config_dir {
            folders.push(("Settings and the photo list", dir.clone()));
        }
        if let Some(store) = &self.store {
            folders.push(("Downloaded models", store.models_dir()));
            folders.push(("Pasted pictures", store.pasted_dir()));
        }
        if let Some(dir) = &self.options.cache_dir {
            folders.push(("Thumbnails", dir.clone()));
        }
        folders.push(("Exports", self.export_folder()));
        folders
    }
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

const CREDITS: [&str; 3] = [
    "DeOldify's generators, by Jason Antic (MIT licence), ported to candle; their weight files are \
     downloaded only when asked for, from where DeOldify publishes them.",
    "The built-in model: an EfficientNet-Lite0 encoder (Apache-2.0) trained by the Tintype developers \
     on BSDS500 and a sample of ImageNet, whose photos allow non-commercial research use only. Its \
     model card (models/compact.md, with Tintype's source) gives its numbers and failings.",
    "candle, egui, eframe, wgpu and image, among other open-source crates.",
];

/// `key` with Shift and the command key, as the platform names it ("Ctrl+Shift+Z").
fn shifted(ctx: &egui::Context, key: egui::Key) -> String {
    ctx.format_shortcut(&egui::KeyboardShortcut::new(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, key))
}
