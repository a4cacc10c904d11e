//! The window's panels: toolbar, photo list, viewer, controls, status line, the render-size
//! sheet; and model downloads and imports, which run on their own threads.

use std::collections::HashMap;
use std::f32::consts::FRAC_PI_2;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};

use egui::{Color32, RichText};
use image::GenericImageView as _;

use super::library::{Photo, Status};
use super::prefs::{BUILT_IN_TITLE, ModelPick, Prefs, RENDER_FACTORS, ShareLayout, ViewMode, file_title};
use super::viewer::Touch;
use super::{App, DialogPurpose, Notice, Quit, SheetChoice, command_key, cropping};
use crate::engine::Settings;
use crate::pipeline::brush::Tool;
use crate::pipeline::chroma::ChromaControls;
use crate::pipeline::crop::Crop;
use crate::store::FetchOptions;

pub const RENDER_SIZE_LABEL: &str = "Render size";
pub const FADING_LABEL: &str = "Fading repair";
pub const SATURATION_LABEL: &str = "Colour strength";
pub const APPLY_TO_ALL_LABEL: &str = "Apply to all photos";
pub const WARMTH_LABEL: &str = "Warmth";
pub const TINT_LABEL: &str = "Tint";
pub const REMOVE_LABEL: &str = "Remove colour with a brush";
pub const PAINT_LABEL: &str = "Paint a colour with a brush";
pub const RESTORE_LABEL: &str = "Restore the colour with a brush";
pub const PAINT_COLOUR_LABEL: &str = "Colour to paint";
pub const BRUSH_SIZE_LABEL: &str = "Brush size";
pub const CLEAR_BRUSH_LABEL: &str = "Clear brush strokes";
/// The brush's radius range, in screen points.
pub const BRUSH_SIZES: std::ops::RangeInclusive<f32> = 4.0..=150.0;

/// `size` held to [`BRUSH_SIZES`]; one that is not a number (a hand-edited settings file) gives
/// the default.
pub fn brush_size_in_range(size: f32) -> f32 {
    if size.is_finite() { size.clamp(*BRUSH_SIZES.start(), *BRUSH_SIZES.end()) } else { Prefs::default().brush_size }
}
const ERROR_RED: Color32 = Color32::from_rgb(0xe0, 0x55, 0x4f);
/// A photo's row in the list: its thumbnail, name and state.
const ROW_HEIGHT: f32 = 56.0;

/// A model download or import in progress.
struct Transfer {
    done: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
    cancel: Arc<AtomicBool>,
    finished: Receiver<Result<PathBuf, String>>,
}

#[derive(Default)]
pub(super) struct Downloads {
    running: HashMap<String, Transfer>,
}

impl Downloads {
    pub fn active(&self) -> bool {
        !self.running.is_empty()
    }
}

/// Why the photo on screen has no result: the canvas says it in words.
enum NoResult {
    Failed,
    NoModel,
    OnItsWay,
}

/// Files dragged over the window: the whole window says what dropping them does.
fn drop_overlay(ctx: &egui::Context) {
    let hovered: Vec<Option<PathBuf>> = ctx.input(|i| i.raw.hovered_files.iter().map(|f| f.path.clone()).collect());
    if hovered.is_empty() {
        return;
    }
    let models = hovered.iter().flatten().filter(|p| super::is_weight_file(p)).count();
    let text = match models {
        0 => "Drop to add these photos",
        n if n == hovered.len() => "Drop to import this model",
        _ => "Drop to add these photos and import the model",
    };
    let screen = ctx.content_rect();
    let dim = egui::LayerId::new(egui::Order::Foreground, egui::Id::unique("tintype-drop-dim"));
    ctx.layer_painter(dim).rect_filled(screen, 0.0, Color32::from_black_alpha(225));
    let area = egui::Area::new(egui::Id::unique("tintype-drop")).order(egui::Order::Tooltip);
    area.pivot(egui::Align2::CENTER_CENTER).fixed_pos(screen.center()).show(ctx, |ui| {
        let accent = ui.visuals().selection.stroke.color;
        let frame = egui::Frame::new().fill(Color32::from_gray(24)).stroke(egui::Stroke::new(2.0, accent));
        let frame = frame.inner_margin(24).corner_radius(8);
        frame.show(ui, |ui| ui.label(RichText::new(text).size(24.0).color(Color32::WHITE)));
    });
}

impl App {
    pub(super) fn show(&mut self, ui: &mut egui::Ui) {
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_line(ui));
        // In a narrow window the list gives way, so the picture keeps most of the width.
        let list_max = (ui.available_width() * 0.22).max(140.0);
        egui::Panel::left("photos")
            .resizable(true)
            .default_size(250.0)
            .max_size(list_max)
            .show(ui, |ui| self.photo_list(ui));
        egui::Panel::right("controls").resizable(false).exact_size(300.0).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| self.controls(ui));
        });
        egui::CentralPanel::default().show(ui, |ui| {
            let failed = match self.selected_photo().map(|p| &p.status) {
                Some(Status::Failed(message)) => Some(message.clone()),
                _ => None,
            };
            if let Some(message) = self.model_problem().or(failed) {
                ui.label(RichText::new(message).color(ERROR_RED));
            }
            let (before, crop, after) = match self.selected_photo() {
                Some(p) => (p.shown_original().cloned(), p.settings.crop, p.shown_result().cloned()),
                None => (None, None, None),
            };
            // While a crop is being set the canvas shows the whole photo and the frame.
            if let Some(whole) = before.as_ref().filter(|_| self.crop_edit().is_some()) {
                self.crop_bar(ui);
                if let Some(mut edit) = self.crop_edit() {
                    let others = edit.prints.get(1..).unwrap_or_default();
                    if self.viewer.show_crop(ui, whole, &mut edit.crop, others) {
                        self.cropping = Some(edit);
                    }
                    return;
                }
            }
            let mode = self.prefs.view;
            let hint = self.canvas_hint();
            let pending = self.after_pending();
            match self.viewer.show(ui, mode, before.as_ref(), crop, after.as_ref(), &hint, pending) {
                Some(Touch::Stroke(stroke)) => self.add_stroke(stroke, ui.input(|i| i.time)),
                // A colour picked from the photo is the brush's colour from now on.
                Some(Touch::Picked(colour)) => {
                    self.prefs.paint_colour = colour;
                    self.take_brush(Tool::Paint(colour));
                }
                None => {}
            }
        });
        self.sheet_window(ui.ctx());
        self.help_window(ui.ctx());
        self.quit_dialog(ui.ctx());
        drop_overlay(ui.ctx());
    }

    /// What the canvas says while it has no picture: how to start, that the selected photo is
    /// on its way, or that it failed or waits for a model (the reason is above the canvas).
    fn canvas_hint(&self) -> String {
        match self.selected_photo() {
            None if self.photos.is_empty() => "Drop old photos or folders here, or press Add photos".into(),
            None => "Pick a photo on the left".into(),
            Some(p) => match self.why_no_result(p) {
                NoResult::Failed => format!("Nothing to show for {}", p.name),
                NoResult::NoModel => format!("{} waits for a model that can run", p.name),
                NoResult::OnItsWay => format!("Colorizing {}…", p.name),
            },
        }
    }

    /// What the after side says while the photo on screen has no result.
    fn after_pending(&self) -> &'static str {
        match self.selected_photo().map(|p| self.why_no_result(p)) {
            Some(NoResult::Failed) => "Not colorized",
            Some(NoResult::NoModel) => "Waits for a model",
            Some(NoResult::OnItsWay) | None => "Colorizing…",
        }
    }

    /// Why `photo` shows no result, for the canvas's words.
    fn why_no_result(&self, photo: &Photo) -> NoResult {
        match photo.status {
            Status::Failed(_) => NoResult::Failed,
            _ if self.model_problem().is_some() => NoResult::NoModel,
            _ => NoResult::OnItsWay,
        }
    }

    /// Width and height of what the model sees of the photo on screen at `render_factor`: the
    /// square DeOldify stretches every photo to, or the built-in model's rectangle in the
    /// photo's own shape (`None` until the photo is read).
    fn seen_size(&mut self, render_factor: u32) -> Option<(u32, u32)> {
        let side = 16 * render_factor;
        if !self.model_sees_photo_shape() {
            return Some((side, side));
        }
        let p = self.selected_photo()?;
        let whole = p.shown_original()?.dimensions();
        let (width, height) = p.settings.crop.map_or(whole, |c| {
            let part = c.pixels(whole);
            (part.width, part.height)
        });
        Some(crate::model::compact::photo_shaped((width, height), side))
    }

    /// "Render size 16 (288 × 224 px)".
    pub(super) fn render_size_label(&mut self, render_factor: u32) -> String {
        match self.seen_size(render_factor) {
            Some((w, h)) => format!("Render size {render_factor} ({w} × {h} px)"),
            None => format!("Render size {render_factor}"),
        }
    }

    fn render_size_caption(&mut self, render_factor: u32) -> String {
        let side = 16 * render_factor;
        match self.seen_size(render_factor) {
            Some((w, h)) => format!("The model sees {w} × {h} px."),
            None => format!("The model sees as many pixels as {side} × {side}, in the photo's shape."),
        }
    }

    fn toolbar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Add photos…")
                .on_hover_text(format!(
                    "{}; or drop photos and folders on the window",
                    command_key(ui.ctx(), egui::Key::O)
                ))
                .clicked()
            {
                self.open_dialog(DialogPurpose::Photos);
            }
            if ui.button("Add folder…").clicked() {
                self.open_dialog(DialogPurpose::Folder);
            }
            if ui
                .add_enabled(self.selected.is_some(), egui::Button::new("Remove"))
                .on_hover_text(format!(
                    "Delete: takes the picked photos off the list; the files stay, and {} puts them back",
                    command_key(ui.ctx(), egui::Key::Z)
                ))
                .clicked()
            {
                self.remove_picked(ui.input(|i| i.time));
            }
            let turnable = self.selected.is_some();
            let now = ui.input(|i| i.time);
            if ui
                .add_enabled(turnable, egui::Button::new("Rotate left"))
                .on_hover_text(format!("{}: the picked photos", command_key(ui.ctx(), egui::Key::L)))
                .clicked()
            {
                self.turn_picked(false, now);
            }
            if ui
                .add_enabled(turnable, egui::Button::new("Rotate right"))
                .on_hover_text(format!("{}: the picked photos", command_key(ui.ctx(), egui::Key::R)))
                .clicked()
            {
                self.turn_picked(true, now);
            }
            ui.separator();
            if ui.selectable_label(self.prefs.view == ViewMode::Split, "Split").clicked() {
                self.prefs.view = ViewMode::Split;
            }
            if ui.selectable_label(self.prefs.view == ViewMode::SideBySide, "Side by side").clicked() {
                self.prefs.view = ViewMode::SideBySide;
            }
            ui.separator();
            if ui.button("Fit").clicked() {
                self.viewer.zoom = None;
            }
            if ui.button("100 %").clicked() {
                self.viewer.zoom = Some(1.0);
            }
            if ui.button("Zoom out").clicked() {
                self.viewer.zoom_by(1.0 / 1.25);
            }
            if ui.button("Zoom in").clicked() {
                self.viewer.zoom_by(1.25);
            }
            match self.viewer.zoom_percent() {
                Some(z) => ui.label(format!("{z:.0} %")),
                None => ui.label("fit"),
            };
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let help = ui.selectable_label(self.help_open, "Help");
                if help.on_hover_text("F1: the keys, where things are kept, credits").clicked() {
                    self.help_open = !self.help_open;
                }
            });
        });
    }

    /// Shows `folder` in the system's file manager.
    pub(super) fn open_folder(&mut self, folder: &std::path::Path) {
        if let Err(e) = open::that_detached(folder) {
            let text = format!("{}: no file manager could open it ({e}); open the folder yourself", folder.display());
            self.notice = Some(Notice::error(text));
        }
    }

    fn status_line(&mut self, ui: &mut egui::Ui) {
        let mut open = None;
        ui.horizontal(|ui| match &self.notice {
            Some(Notice { text, error, folder }) => {
                if let Some(folder) = folder
                    && ui.button("Open folder").on_hover_text(folder.display().to_string()).clicked()
                {
                    open = Some(folder.clone());
                }
                let text = if *error { RichText::new(text).color(ERROR_RED) } else { RichText::new(text) };
                // A long message wraps rather than running off the window's edge.
                ui.add(egui::Label::new(text).wrap());
            }
            None => {
                let count = self.photos.len();
                let done = self.photos.iter().filter(|p| p.status == Status::Done).count();
                let failed = self.photos.iter().filter(|p| matches!(p.status, Status::Failed(_))).count();
                let mut text = format!("{count} photo{}, {done} colorized", if count == 1 { "" } else { "s" });
                if failed > 0 {
                    text += &format!(", {failed} failed");
                }
                let picked = self.picked().len();
                if picked > 1 {
                    text += &format!(" · {picked} picked: Remove, Rotate and Export act on all {picked}");
                } else if let Some(p) = self.selected_photo().filter(|p| p.status == Status::Done) {
                    // How long the photo on screen took, so a slow device or a large render
                    // size shows for what it costs.
                    if let Some((took, device)) = p.took {
                        text += &format!(" · {} took {:.2} s on the {device}", p.name, took.as_secs_f32());
                    }
                }
                ui.label(text);
            }
        });
        if let Some(folder) = open {
            self.open_folder(&folder);
        }
    }

    fn photo_list(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading("Photos");
            if !self.photos.is_empty() {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    // A menu, so that one stray click does not empty a tuned list.
                    ui.menu_button("Clear list", |ui| {
                        let count = self.photos.len();
                        let all = if count == 1 { "the photo".to_string() } else { format!("all {count} photos") };
                        if ui.button(format!("Take {all} off the list")).on_hover_text("The files stay").clicked() {
                            self.clear_list(ui.input(|i| i.time));
                            ui.close();
                        }
                    });
                });
            }
        });
        if self.photos.is_empty() {
            ui.label("Drop scans or folders on the window, or press Add photos.");
            if !self.samples.is_empty() && ui.link("Or try the sample photos").clicked() {
                self.add_paths(self.samples.clone());
            }
            if !self.prefs.recent_folders.is_empty() {
                ui.add_space(8.0);
                ui.label("Recent folders:");
                for folder in self.prefs.recent_folders.clone() {
                    let name =
                        folder.file_name().map_or_else(|| folder.display().to_string(), |n| n.to_string_lossy().into());
                    if ui.link(name).on_hover_text(folder.display().to_string()).clicked() {
                        self.add_paths(vec![folder]);
                    }
                }
            }
        }
        let model = self.runnable_model().ok();
        let mut clicked = None;
        // A right-click picks the row (unless it is picked already) and offers what the
        // toolbar does, for it or for all the picked photos.
        let (mut right_clicked, mut chosen) = (None, None);
        let picked_count = self.picked().len();
        let mut menu_by_keys = self.row_menu_by_keys;
        let nothing_focused = ui.memory(|m| m.focused().is_none());
        // The menu of the photo on screen, asked for from the keyboard while its row is scrolled
        // out of sight: the row is laid out and brought into sight, and the menu opens under it.
        let menu_keys = |e: &egui::Event| {
            matches!(e, egui::Event::Key { key: egui::Key::F10, pressed: true, modifiers, .. } if modifiers.shift_only())
                || matches!(e, egui::Event::Key { key: egui::Key::Menu, pressed: true, modifiers, .. } if modifiers.is_none())
        };
        if nothing_focused && ui.input(|i| i.events.iter().any(menu_keys)) {
            self.reveal_selected = true;
        }
        egui::ScrollArea::vertical().show(ui, |ui| {
            for p in &self.photos {
                let selected = self.selected == Some(p.id);
                // Each row takes one id from the list whatever it holds (a scope, like a bare
                // allocation, takes one): a progress bar coming or going above a row between
                // the press and the release of a click would otherwise hand the click to
                // another row.
                let row = egui::Rect::from_min_size(ui.cursor().min, egui::vec2(ui.available_width(), ROW_HEIGHT));
                // A row whose menu was opened from the keyboard is laid out while it scrolls into
                // sight, so that its menu stays open.
                let laid_out =
                    ui.is_rect_visible(row) || (selected && self.reveal_selected) || menu_by_keys == Some(p.id);
                if !laid_out {
                    // A row scrolled out of sight only takes its room: laying out thousands of
                    // thumbnails and names (or a scope for each) would slow every frame of a
                    // long list.
                    if matches!(p.status, Status::Working(_) | Status::Failed(_)) || p.other_pictures > 0 {
                        ui.scope(|ui| {
                            ui.allocate_space(row.size());
                            status_extras(ui, p);
                        });
                    } else {
                        ui.allocate_space(row.size());
                    }
                    continue;
                }
                ui.scope(|ui| {
                    let text = format!("{}\n{}", p.name, p.status_text(model.as_ref()));
                    let button = match &p.thumbnail {
                        Some(t) => {
                            // The thumbnail is of the file as it lies: a crop (set on the photo
                            // as turned) is turned back to find its part.
                            let turns = p.settings.quarter_turns % 4;
                            let part = p.settings.crop.map_or(Crop::WHOLE, |c| c.turned(4 - turns));
                            // Straightened, the crop's rectangle is taken about its centre on
                            // the file as it lies and turned with the thumbnail (a sliver of
                            // what lies beyond its corners shows at 48 points).
                            let [w, h] = t.size().map(|side| side as f32);
                            let middle = [(part.left + part.right) / 2.0 * w, (part.top + part.bottom) / 2.0 * h];
                            let [x, y] = Crop::straighten_point(middle, (w as u32, h as u32), -part.angle);
                            let uv = egui::Rect::from_center_size(
                                egui::pos2(x / w, y / h),
                                egui::vec2(part.right - part.left, part.bottom - part.top),
                            );
                            let size = t.size_vec2() * uv.size();
                            egui::Button::image_and_text(
                                egui::Image::from_texture(egui::load::SizedTexture::new(t.id(), size))
                                    .uv(uv)
                                    .max_size(egui::vec2(48.0, 48.0))
                                    .rotate(
                                        f32::from(turns) * FRAC_PI_2 + part.angle.to_radians(),
                                        egui::Vec2::splat(0.5),
                                    ),
                                text,
                            )
                        }
                        None => egui::Button::new(text),
                    };
                    let response = ui.add_sized(row.size(), button.selected(self.is_picked(p.id)).wrap());
                    if selected && self.reveal_selected {
                        response.scroll_to_me(None);
                    }
                    status_extras(ui, p);
                    if response.clicked() {
                        clicked = Some((p.id, ui.input(|i| i.modifiers)));
                    }
                    if response.secondary_clicked() {
                        right_clicked = Some(p.id);
                        menu_by_keys = None;
                    }
                    // The menu key or Shift+F10 opens the menu of the row with the keyboard
                    // focus (with none focused, of the photo on screen), under the row rather
                    // than at the pointer, its first item focused.
                    let by_keys = (response.has_focus() || (selected && nothing_focused))
                        && ui.input_mut(|i| {
                            i.consume_key(egui::Modifiers::SHIFT, egui::Key::F10)
                                || i.consume_key(egui::Modifiers::NONE, egui::Key::Menu)
                        });
                    let mut menu = egui::Popup::context_menu(&response);
                    if by_keys {
                        menu_by_keys = Some(p.id);
                        menu = menu.open_memory(egui::SetOpenCommand::Bool(true));
                    }
                    if menu_by_keys == Some(p.id) {
                        menu = menu.anchor(response.rect);
                    }
                    menu.show(|ui| {
                        let count = if self.is_picked(p.id) { picked_count } else { 1 };
                        if let Some(action) = row_menu(ui, count, by_keys) {
                            chosen = Some((p.id, action));
                        }
                    });
                });
            }
        });
        self.reveal_selected = false;
        self.row_menu_by_keys = menu_by_keys;
        if let Some((id, modifiers)) = clicked {
            self.pick(id, modifiers);
        }
        if let Some(id) = right_clicked.filter(|&id| !self.is_picked(id)) {
            self.pick(id, egui::Modifiers::NONE);
        }
        if let Some((id, action)) = chosen {
            if !self.is_picked(id) {
                self.pick(id, egui::Modifiers::NONE);
            }
            let now = ui.input(|i| i.time);
            match action {
                RowAction::Export => self.export_picked(),
                RowAction::Copy => self.copy_result(id),
                RowAction::Turn { clockwise } => self.turn_picked(clockwise, now),
                RowAction::OpenFolder => {
                    let folder = self
                        .photos
                        .iter()
                        .find(|p| p.id == id)
                        .and_then(|p| p.path.parent().map(std::path::Path::to_path_buf));
                    if let Some(folder) = folder {
                        self.open_folder(&folder);
                    }
                }
                RowAction::Remove => self.remove_picked(now),
            }
        }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        let now = ui.input(|i| i.time);
        let mut changed = false;
        ui.heading("Colorizer");
        // In a scope of its own, so that a download's progress bar coming or going does not move
        // the ids of the sliders below it while one is held.
        changed |= ui.scope(|ui| self.model_picker(ui)).inner;
        // Offered once there is a choice: a DeOldify model downloaded, or a weight file in use.
        if self.models_at_hand().len() > 1
            && ui
                .add_enabled(self.selected.is_some(), egui::Button::new("Compare models…"))
                .on_hover_text("The photo on screen with each model at hand, side by side")
                .clicked()
        {
            self.open_model_sheet();
        }
        ui.add_space(6.0);
        ui.heading("Render");
        // The render size and adjustments are the photo on screen's own (with none, those of
        // the photos added next).
        let mut settings = self.shown_settings();
        let mut adjusted = false;
        adjusted |=
            ui.add(egui::Slider::new(&mut settings.render_factor, RENDER_FACTORS).text(RENDER_SIZE_LABEL)).changed();
        let caption = self.render_size_caption(settings.render_factor);
        ui.label(RichText::new(format!("{caption} Higher is steadier but slower.")).small());
        if ui.add_enabled(self.selected.is_some(), egui::Button::new("Compare render sizes…")).clicked() {
            self.open_render_size_sheet();
        }
        ui.add_space(6.0);
        ui.heading("Adjust");
        let chroma = &mut settings.chroma;
        adjusted |=
            ui.add(egui::Slider::new(&mut settings.defade, 0.0..=1.0).fixed_decimals(2).text(FADING_LABEL)).changed();
        adjusted |= ui.add(egui::Slider::new(&mut chroma.saturation, 0.0..=2.0).text(SATURATION_LABEL)).changed();
        adjusted |= ui.add(egui::Slider::new(&mut chroma.warmth, -1.0..=1.0).text(WARMTH_LABEL)).changed();
        adjusted |= ui
            .add(egui::Slider::new(&mut chroma.tint, -1.0..=1.0).text(TINT_LABEL))
            .on_hover_text("Towards green (left) or magenta (right)")
            .changed();
        ui.horizontal_wrapped(|ui| {
            if ui.button("Reset adjustments").clicked() {
                (settings.defade, settings.chroma) = (0.0, ChromaControls::default());
                adjusted = true;
            }
            if ui
                .add_enabled(self.others_differ(), egui::Button::new(APPLY_TO_ALL_LABEL))
                .on_hover_text(format!(
                    "Gives every photo in the list this photo's render size and adjustments ({} takes it back)",
                    command_key(ui.ctx(), egui::Key::Z)
                ))
                .clicked()
            {
                self.apply_to_all(now);
            }
        });
        if adjusted {
            self.set_shown_settings(settings, now);
        }
        self.touch_up(ui, now);
        ui.add_space(6.0);
        ui.heading("Save and share");
        egui::ComboBox::from_label("Format").selected_text(self.prefs.export_format.to_uppercase()).show_ui(ui, |ui| {
            for f in ["png", "jpeg", "tiff", "webp"] {
                ui.selectable_value(&mut self.prefs.export_format, f.to_string(), f.to_uppercase());
            }
        });
        let folder = self.export_folder();
        let to = ui.link(RichText::new(format!("To {}", folder.display())).small());
        if to.on_hover_text("Open the export folder").clicked() {
            if folder.is_dir() {
                self.open_folder(&folder);
            } else {
                self.notice = Some(Notice::info(format!("Nothing has been exported to {} yet.", folder.display())));
            }
        }
        if ui.button("Change export folder…").clicked() {
            self.open_dialog(DialogPurpose::ExportFolder);
        }
        ui.horizontal(|ui| {
            if ui
                .add_enabled(self.selected.is_some(), egui::Button::new("Export"))
                .on_hover_text(format!("{}: the picked photos", command_key(ui.ctx(), egui::Key::E)))
                .clicked()
            {
                self.export_picked();
            }
            // While Export all runs, its button stops it.
            if self.export_batch.is_some() {
                let stopping = self.export_batch.as_ref().is_some_and(super::export::Batch::is_stopped);
                if ui
                    .add_enabled(!stopping, egui::Button::new("Stop exporting"))
                    .on_hover_text("Photos being written are finished; the others are not saved")
                    .clicked()
                {
                    self.stop_export_all();
                }
            } else if ui.add_enabled(!self.photos.is_empty(), egui::Button::new("Export all")).clicked() {
                self.export_all();
            }
        });
        let layout_name = |l: ShareLayout| match l {
            ShareLayout::SideBySide => "Two pictures",
            ShareLayout::Split => "One picture, split",
        };
        egui::ComboBox::from_label("Share layout").selected_text(layout_name(self.prefs.share_layout)).show_ui(
            ui,
            |ui| {
                for l in [ShareLayout::SideBySide, ShareLayout::Split] {
                    ui.selectable_value(&mut self.prefs.share_layout, l, layout_name(l));
                }
            },
        );
        ui.horizontal(|ui| {
            if ui.add_enabled(self.selected.is_some(), egui::Button::new("Share before/after")).clicked() {
                self.share();
            }
            let copy = ui.add_enabled(self.selected.is_some(), egui::Button::new("Copy")).on_hover_text(format!(
                "{}: the colorized photo, to paste elsewhere",
                command_key(ui.ctx(), egui::Key::C)
            ));
            if let Some(id) = self.selected.filter(|_| copy.clicked()) {
                self.copy_result(id);
            }
        });
        if changed {
            self.settings_changed(now);
        }
    }

    /// The brush that mends wrong colour (a green beard, a red smear on a wall), taking it
    /// away or painting the right one, or giving the model's colour back where a stroke went
    /// too far: its three tools, its colour and size, and the photo's strokes cleared.
    fn touch_up(&mut self, ui: &mut egui::Ui, now: f64) {
        ui.add_space(6.0);
        ui.heading("Touch up");
        let can_crop = self.selected_photo().is_some_and(|p| p.shown_original().is_some());
        let crop_button = egui::Button::new(cropping::CROP_BUTTON).selected(self.crop_edit().is_some());
        let hover = "C: cut away the scanner's margin around the print, or crop the photo";
        if ui.add_enabled(can_crop, crop_button).on_hover_text(hover).clicked() {
            self.toggle_crop();
        }
        let up = self.viewer.brush.map(|_| self.viewer.tool);
        let has = |tool: Tool| up.is_some_and(|t| t.same_kind(tool));
        let hover = "B picks the brush up and puts it down; Escape puts it down";
        let photo = self.selected.is_some();
        let tool_button = |app: &mut Self, ui: &mut egui::Ui, label, tool| {
            if ui.add_enabled(photo, egui::Button::new(label).selected(has(tool))).on_hover_text(hover).clicked() {
                app.brush_button(tool);
            }
        };
        tool_button(self, ui, REMOVE_LABEL, Tool::Remove);
        ui.horizontal(|ui| {
            tool_button(self, ui, PAINT_LABEL, Tool::Paint(self.prefs.paint_colour));
            let mut colour = self.prefs.paint_colour;
            let picker = ui.add_enabled_ui(photo, |ui| egui::color_picker::color_edit_button_srgb(ui, &mut colour));
            let clicks = super::colour_pick_clicks(ui.ctx()).join(", ");
            let picker =
                picker.inner.on_hover_text(format!("The colour the brush paints ({clicks} on the photo picks one)"));
            picker
                .widget_info(|| egui::WidgetInfo::labeled(egui::accesskit::Role::ColorWell, photo, PAINT_COLOUR_LABEL));
            if colour != self.prefs.paint_colour {
                self.prefs.paint_colour = colour;
                self.take_brush(Tool::Paint(colour));
            }
        });
        tool_button(self, ui, RESTORE_LABEL, Tool::Restore);
        if let Some(size) = &mut self.viewer.brush {
            if ui.add(egui::Slider::new(size, BRUSH_SIZES).fixed_decimals(0).text(BRUSH_SIZE_LABEL)).changed() {
                self.prefs.brush_size = *size;
            }
            let text = match up {
                Some(Tool::Paint(_)) => format!(
                    "Paint over a patch of wrong colour to give it this colour; the photo's shading stays. \
                     {} picks a colour from the photo. Drag with the right button to pan.",
                    super::colour_pick_clicks(ui.ctx()).join(" or ")
                ),
                Some(Tool::Restore) => "Paint where a stroke went too far to give back the model's own colour. \
                                        Drag with the right button to pan."
                    .to_owned(),
                _ => {
                    "Paint over a patch of wrong colour to make it grey. Drag with the right button to pan.".to_owned()
                }
            };
            ui.label(RichText::new(text).small());
        }
        let strokes = self.selected_photo().map_or(0, |p| p.settings.brush.len());
        let undo = command_key(ui.ctx(), egui::Key::Z);
        let hover = match strokes {
            0 => "This photo has no brush strokes".to_owned(),
            1 => format!("Takes away this photo's brush stroke ({undo} takes a stroke back)"),
            n => format!("Takes away this photo's {n} brush strokes ({undo} takes the last one back)"),
        };
        if ui.add_enabled(strokes > 0, egui::Button::new(CLEAR_BRUSH_LABEL)).on_hover_text(hover).clicked() {
            let settings = Settings { brush: Vec::new(), ..self.shown_settings() };
            self.set_shown_settings(settings, now);
        }
    }

    /// The model list: built in, the DeOldify models (with Download when missing), a file.
    /// Returns whether the pick changed.
    fn model_picker(&mut self, ui: &mut egui::Ui) -> bool {
        let before = self.prefs.model.clone();
        let entries = self.models.manifest.clone();
        let have: Vec<String> = self.models.installed.keys().cloned().collect();
        let installed = |name: &str| have.iter().any(|h| h == name);
        let title = match &self.prefs.model {
            ModelPick::BuiltIn => BUILT_IN_TITLE.to_string(),
            ModelPick::Installed(n) => entries.iter().find(|e| &e.name == n).map_or(n.clone(), |e| e.title.clone()),
            ModelPick::File(p) => file_title(p),
        };
        let mut pick_file = false;
        egui::ComboBox::from_label("Model").selected_text(title).show_ui(ui, |ui| {
            ui.selectable_value(&mut self.prefs.model, ModelPick::BuiltIn, BUILT_IN_TITLE);
            for e in &entries {
                let label = if installed(&e.name) { e.title.clone() } else { format!("{} (not installed)", e.title) };
                ui.selectable_value(&mut self.prefs.model, ModelPick::Installed(e.name.clone()), label);
            }
            if ui.selectable_label(matches!(self.prefs.model, ModelPick::File(_)), "A weight file…").clicked() {
                pick_file = true;
            }
        });
        if pick_file {
            self.open_dialog(DialogPurpose::ModelFile);
        }
        if let ModelPick::Installed(name) = self.prefs.model.clone()
            && !installed(&name)
            && let Some(entry) = entries.iter().find(|e| e.name == name)
        {
            match self.downloads.running.get(&name) {
                Some(t) => {
                    let (done, total) = (t.done.load(Ordering::Relaxed), t.total.load(Ordering::Relaxed));
                    let fraction = if total > 0 { done as f32 / total as f32 } else { 0.0 };
                    ui.add(egui::ProgressBar::new(fraction).text(format!(
                        "{} of {} MB",
                        done / 1_000_000,
                        entry.approx_size / 1_000_000
                    )));
                    if ui.button("Cancel download").clicked() {
                        t.cancel.store(true, Ordering::SeqCst);
                    }
                }
                None => {
                    ui.label(format!(
                        "{} is not installed ({} MB download).",
                        entry.title,
                        entry.approx_size / 1_000_000
                    ));
                    ui.horizontal(|ui| {
                        if ui.button(format!("Download {}", entry.title)).clicked() {
                            self.start_download(&name);
                        }
                        if ui.button("Import a file…").clicked() {
                            self.open_dialog(DialogPurpose::Import);
                        }
                    });
                }
            }
        }
        egui::ComboBox::from_label("Device").selected_text(self.prefs.device.to_uppercase()).show_ui(ui, |ui| {
            let mut devices = vec!["auto", "cpu"];
            if cfg!(feature = "cuda") {
                devices.push("cuda");
            }
            if cfg!(feature = "metal") {
                devices.push("metal");
            }
            for d in devices {
                ui.selectable_value(&mut self.prefs.device, d.to_string(), d.to_uppercase());
            }
        });
        before != self.prefs.model
    }

    fn start_download(&mut self, name: &str) {
        let Some(store) = self.store.clone() else {
            self.notice = Some(Notice::error("No folder for models: set TINTYPE_DATA_DIR."));
            return;
        };
        let (done, total, cancel) =
            (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
        let (tx, finished) = mpsc::channel();
        let (d, t, c, n) = (done.clone(), total.clone(), cancel.clone(), name.to_string());
        std::thread::spawn(move || {
            let progress = |got: u64, of: Option<u64>| {
                d.store(got, Ordering::Relaxed);
                t.store(of.unwrap_or(0), Ordering::Relaxed);
            };
            let result = store.fetch(&n, &FetchOptions::new(&c, &progress)).map_err(|e| e.to_string());
            let _ = tx.send(result);
        });
        self.downloads.running.insert(name.to_string(), Transfer { done, total, cancel, finished });
    }

    /// Validates, converts and adds a weight file the person has, on its own thread.
    pub(super) fn import_model(&mut self, path: PathBuf) {
        let Some(store) = self.store.clone() else { return };
        let (tx, finished) = mpsc::channel();
        let shown = path.clone();
        std::thread::spawn(move || {
            let _ = tx.send(store.import(&path, None).map(|(_, p)| p).map_err(|e| e.to_string()));
        });
        let zero = || Arc::new(AtomicU64::new(0));
        let transfer = Transfer { done: zero(), total: zero(), cancel: Arc::new(AtomicBool::new(false)), finished };
        self.downloads.running.insert(format!("import:{}", shown.display()), transfer);
        self.notice = Some(Notice::info(format!("Importing {}…", shown.display())));
    }

    pub(super) fn poll_downloads(&mut self) {
        let mut ended = Vec::new();
        for (name, t) in &self.downloads.running {
            if let Ok(result) = t.finished.try_recv() {
                ended.push((name.clone(), result));
            }
        }
        for (name, result) in ended {
            self.downloads.running.remove(&name);
            self.models = super::ModelFiles::read(self.store.as_ref());
            self.broken_model = None;
            self.notice = Some(match result {
                Ok(path) => Notice::info(format!("Model ready: {}", path.display())),
                Err(e) => Notice::error(e),
            });
            // The model list and the chosen model may have changed.
            self.settings_changed(0.0);
        }
    }

    /// Asked when the window is closed with photos still to be saved.
    fn quit_dialog(&mut self, ctx: &egui::Context) {
        if !matches!(self.quit, Quit::Asking | Quit::WhenSaved) {
            return;
        }
        let left = self.exports_unfinished();
        let modal = egui::Modal::new(egui::Id::unique("tintype-quit")).show(ctx, |ui| {
            ui.heading("Photos are still being saved");
            let photos = if left == 1 { "1 photo is".to_string() } else { format!("{left} photos are") };
            ui.label(format!("{photos} still to be saved to {}.", self.export_folder().display()));
            if self.quit == Quit::WhenSaved {
                ui.label("Tintype closes once they are saved.");
            }
            ui.horizontal(|ui| {
                if self.quit == Quit::Asking && ui.button("Quit when saved").clicked() {
                    self.quit = Quit::WhenSaved;
                }
                if ui.button("Quit now").clicked() {
                    self.quit = Quit::Now;
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
                if ui.button("Keep Tintype open").clicked() {
                    self.quit = Quit::No;
                }
            });
        });
        if modal.should_close() && self.quit == Quit::Asking {
            self.quit = Quit::No;
        }
    }

    fn sheet_window(&mut self, ctx: &egui::Context) {
        const TILE_SIDE: f32 = 230.0;
        // A render size's label says what the model sees, known once the photo is read.
        let factors: Vec<Option<u32>> = self
            .sheet
            .iter()
            .flat_map(|s| &s.tiles)
            .map(|t| if let SheetChoice::RenderFactor(rf) = t.choice { Some(rf) } else { None })
            .collect();
        let labels: Vec<Option<String>> =
            factors.into_iter().map(|rf| rf.map(|rf| self.render_size_label(rf))).collect();
        let Some(sheet) = &self.sheet else { return };
        let by_model = sheet.tiles.iter().any(|t| matches!(t.choice, SheetChoice::Model(_)));
        let (title, intro, hover) = if by_model {
            (
                "Models",
                "The same photo with each model at hand. Click the one you like best to use it for all photos.",
                "Use this model",
            )
        } else {
            (
                "Render sizes",
                "The same photo at six render sizes. Click the one you like best to use it.",
                "Use this render size",
            )
        };
        let mut open = true;
        let mut chosen = None;
        egui::Window::new(title).open(&mut open).collapsible(false).default_width(760.0).show(ctx, |ui| {
            ui.label(intro);
            egui::Grid::new("sheet").num_columns(3).show(ui, |ui| {
                for (i, (tile, label)) in sheet.tiles.iter().zip(labels).enumerate() {
                    // The button is named by what it uses; a model's time is said under it.
                    let name = label.unwrap_or_else(|| tile.label.clone());
                    let label = match tile.took {
                        Some(took) if by_model => format!("{name} · {:.1} s", took.as_secs_f64()),
                        _ => name.clone(),
                    };
                    // Each tile as wide as its picture will be, so a long name waits beside
                    // its spinner without squeezing the column.
                    ui.vertical(|ui| {
                        ui.set_width(TILE_SIDE);
                        match &tile.render {
                            Some(Ok(tex)) => {
                                let image = egui::Image::from_texture(egui::load::SizedTexture::from_handle(tex))
                                    .max_size(egui::vec2(TILE_SIDE, TILE_SIDE));
                                let response = ui.add(egui::Button::image(image)).on_hover_text(hover);
                                response.widget_info(|| {
                                    egui::WidgetInfo::labeled(egui::accesskit::Role::Button, true, &name)
                                });
                                if response.clicked() {
                                    chosen = Some(tile.choice.clone());
                                }
                                ui.label(label);
                            }
                            Some(Err(e)) => {
                                ui.label(label);
                                ui.label(RichText::new(e).color(ERROR_RED));
                            }
                            None => {
                                ui.label(label);
                                ui.add(egui::Spinner::new());
                            }
                        }
                    });
                    if i % 3 == 2 {
                        ui.end_row();
                    }
                }
            });
        });
        let now = ctx.input(|i| i.time);
        match chosen {
            Some(SheetChoice::RenderFactor(rf)) => {
                let settings = Settings { render_factor: rf, ..self.shown_settings() };
                self.set_shown_settings(settings, now);
                open = false;
            }
            Some(SheetChoice::Model(pick)) => {
                self.prefs.model = pick;
                self.settings_changed(now);
                open = false;
            }
            None => {}
        }
        if !open {
            self.close_sheet();
        }
    }
}

/// What a photo's right-click menu can do.
#[derive(Clone, Copy)]
enum RowAction {
    Export,
    Copy,
    Turn { clockwise: bool },
    OpenFolder,
    Remove,
}

/// A photo's right-click menu, for `count` photos (the picked ones when it is among them);
/// `focus_first` as it opens from the keyboard.
fn row_menu(ui: &mut egui::Ui, count: usize, focus_first: bool) -> Option<RowAction> {
    let them = if count == 1 { String::new() } else { format!(" {count} photos") };
    let items = [
        (format!("Export{them}"), RowAction::Export),
        ("Copy".to_string(), RowAction::Copy),
        (format!("Rotate{them} left"), RowAction::Turn { clockwise: false }),
        (format!("Rotate{them} right"), RowAction::Turn { clockwise: true }),
        ("Open its folder".to_string(), RowAction::OpenFolder),
        (format!("Remove{them} from the list"), RowAction::Remove),
    ];
    let mut chosen = None;
    for (label, action) in items {
        // One photo at a time goes on the clipboard or has its folder opened.
        if matches!(action, RowAction::Copy | RowAction::OpenFolder) && count > 1 {
            continue;
        }
        let button = ui.button(label);
        if focus_first && matches!(action, RowAction::Export) {
            button.request_focus();
        }
        if button.clicked() {
            chosen = Some(action);
            ui.close();
        }
    }
    chosen
}

/// Under a photo's row in the list: its progress while it renders, what went wrong if it failed.
fn status_extras(ui: &mut egui::Ui, p: &Photo) {
    match &p.status {
        Status::Working(stage) => {
            ui.add(egui::ProgressBar::new(stage.fraction()).desired_height(4.0).animate(true));
        }
        Status::Failed(message) => {
            ui.label(RichText::new(message).color(ERROR_RED).small());
        }
        _ => {}
    }
    if p.other_pictures > 0 {
        ui.label(RichText::new(other_pictures_note(p.other_pictures)).small());
    }
}

/// What the list says of a file holding more pictures than the one colorized.
fn other_pictures_note(others: usize) -> String {
    format!("The first of {} pictures in this file; save each as its own file to colorize the others.", others + 1)
}
