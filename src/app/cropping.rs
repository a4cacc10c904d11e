//! Cropping the photo on screen: a frame set on the whole photo (by hand, or on the print that
//! Tintype finds inside a scan's margin), given to the photo as one step to undo.

use egui::RichText;
use image::GenericImageView as _;

use super::library::{self, Photo};
use super::{App, Change, Notice, history};
use crate::engine::Settings;
use crate::pipeline::crop::{self, Crop};

pub const CROP_BUTTON: &str = "Crop…";
pub const APPLY_LABEL: &str = "Crop";
pub const CANCEL_LABEL: &str = "Cancel";
pub const FIND_LABEL: &str = "Find the print";
pub const WHOLE_LABEL: &str = "Whole photo";
pub const SPLIT_LABEL: &str = "Add each print as a photo";
pub const STRAIGHTEN_LABEL: &str = "Straighten";
/// The straightening slider's reach either way, in degrees: prints lie askew by a few at most,
/// and a photo on its side is turned a quarter at a time.
const STRAIGHTEN_MOST: f32 = 15.0;

/// A crop being set on a photo, not yet given to it.
#[derive(Debug, Clone, PartialEq)]
pub struct CropEdit {
    pub photo: u64,
    pub crop: Crop,
    /// The prints Find the print found on a scan of several (the frame is on the first).
    pub prints: Vec<Crop>,
}

impl App {
    /// Starts setting the crop of the photo on screen, from the crop it has; the brush is put
    /// down (it paints on the cropped photo, which is not on screen while cropping).
    pub fn start_crop(&mut self) {
        let Some(p) = self.selected_photo().filter(|p| p.shown_original().is_some()) else { return };
        self.cropping =
            Some(CropEdit { photo: p.id, crop: p.settings.crop.unwrap_or(Crop::WHOLE), prints: Vec::new() });
        self.viewer.brush = None;
    }

    /// Crop… and C: starts setting the crop, or leaves the photo as it was.
    pub fn toggle_crop(&mut self) {
        match self.crop_edit() {
            Some(_) => self.cropping = None,
            None => self.start_crop(),
        }
    }

    /// The crop being set, when it is the photo on screen's.
    pub fn crop_edit(&self) -> Option<CropEdit> {
        self.cropping.clone().filter(|edit| Some(edit.photo) == self.selected)
    }

    /// Gives the photo the crop being set, as one step to undo; a frame on the whole photo
    /// takes its crop away.
    pub fn apply_crop(&mut self, now: f64) {
        let Some(edit) = self.cropping.take() else { return };
        let crop = Some(edit.crop).filter(|c| !c.is_whole());
        let Some(p) = self.photos.iter().find(|p| p.id == edit.photo) else { return };
        if p.settings.crop == crop {
            return;
        }
        let before =
            history::Step { photos: vec![(p.id, p.settings.clone())], new_photos: self.prefs.photo_settings() };
        // No photo given: each crop is a step of its own, however quick the next.
        self.history.record(Change::Settings(before), None, now);
        if let Some(p) = self.photos.iter_mut().find(|p| p.id == edit.photo) {
            p.settings.crop = crop;
        }
        self.settings_changed(now);
    }

    /// Sets the frame on the print inside the scan's margin (on the first, when the scan holds
    /// several), or says that there is none.
    pub fn find_print(&mut self) {
        let Some(edit) = self.crop_edit() else { return };
        let Some(p) = self.selected_photo() else { return };
        let Some(original) = p.shown_original() else { return };
        let prints = crop::find_each_print(original);
        match prints[..] {
            [] => {
                let text = format!(
                    "No scanner margin found around {}: it looks cropped already. Drag the frame's edges to crop it.",
                    p.name
                );
                self.notice = Some(Notice::info(text));
            }
            [one] => self.cropping = Some(CropEdit { crop: one, prints: Vec::new(), ..edit }),
            [first, ..] => self.cropping = Some(CropEdit { crop: first, prints, ..edit }),
        }
    }

    /// Gives the photo being cropped its frame (on the first of the prints found on it), and
    /// adds each of the others as a photo of its own, after it in the list, with its settings:
    /// one step to undo.
    pub fn split_into_prints(&mut self, now: f64) {
        let Some(edit) = self.cropping.take() else { return };
        let Some(at) = self.photos.iter().position(|p| p.id == edit.photo) else { return };
        let [_, ref others @ ..] = edit.prints[..] else { return };
        let scan = &self.photos[at];
        let before =
            history::Step { photos: vec![(scan.id, scan.settings.clone())], new_photos: self.prefs.photo_settings() };
        // Brush strokes are kept on the whole scan: each print keeps those that fall on it.
        let prints: Vec<Photo> = others
            .iter()
            .enumerate()
            .map(|(k, &crop)| {
                let mut print = Photo::new(
                    self.next_id + k as u64,
                    scan.path.clone(),
                    Settings { crop: Some(crop), ..scan.settings.clone() },
                );
                (print.thumbnail, print.original, print.original_turns) =
                    (scan.thumbnail.clone(), scan.original.clone(), scan.original_turns);
                print
            })
            .collect();
        self.next_id += prints.len() as u64;
        let added: Vec<u64> = prints.iter().map(|p| p.id).collect();
        // The first print as its frame is now: found, then perhaps adjusted by hand.
        self.photos[at].settings.crop = Some(edit.crop).filter(|c| !c.is_whole());
        self.photos.splice(at + 1..at + 1, prints);
        let changes = vec![Change::Settings(before), Change::PutBack(added)];
        self.history.record(Change::Several(changes), None, now);
        library::number_prints(&mut self.photos);
        self.settings_changed(now);
    }

    /// The bar above the canvas while a crop is being set: what to do, the size kept, and the
    /// buttons (Enter crops, Escape cancels).
    pub(super) fn crop_bar(&mut self, ui: &mut egui::Ui) {
        let Some(edit) = self.crop_edit() else { return };
        let whole = self.selected_photo().and_then(|p| p.shown_original()).map(|o| o.dimensions());
        let size = whole.map(|whole| edit.crop.pixels(whole));
        let now = ui.input(|i| i.time);
        // The buttons first, so they stay where they are as the text changes.
        ui.horizontal_wrapped(|ui| {
            let apply = egui::Button::new(RichText::new(APPLY_LABEL).strong()).fill(ui.visuals().selection.bg_fill);
            if ui.add(apply).on_hover_text("Enter").clicked() {
                self.apply_crop(now);
            }
            if ui.button(CANCEL_LABEL).on_hover_text("Escape").clicked() {
                self.cropping = None;
            }
            if ui.button(FIND_LABEL).on_hover_text("The print inside the scanner's margin").clicked() {
                self.find_print();
            }
            if ui.button(WHOLE_LABEL).clicked()
                && let Some(edit) = &mut self.cropping
            {
                (edit.crop, edit.prints) = (Crop::WHOLE, Vec::new());
            }
            if edit.prints.len() > 1 {
                let hover = "Each print becomes a photo of its own in the list, with this one's settings";
                if ui.button(SPLIT_LABEL).on_hover_text(hover).clicked() {
                    self.split_into_prints(now);
                }
            }
            if let (Some(edit), Some(whole)) = (&mut self.cropping, whole) {
                let mut angle = edit.crop.angle;
                let slider = egui::Slider::new(&mut angle, -STRAIGHTEN_MOST..=STRAIGHTEN_MOST)
                    .text(STRAIGHTEN_LABEL)
                    .suffix("°")
                    .step_by(0.1)
                    .fixed_decimals(1);
                let hover = "Turns the photo a little, for a print that lay askew on the glass";
                if ui.add(slider).on_hover_text(hover).changed() {
                    // The corners the turn leaves empty are not kept: the frame draws in.
                    edit.crop = Crop { angle, ..edit.crop }.inside_photo(whole);
                }
            }
            let kept = size.map(|s| format!("{} × {} px kept. ", s.width, s.height)).unwrap_or_default();
            let prints = match edit.prints.len() {
                0 | 1 => String::new(),
                n => format!("{n} prints on this scan; the frame is on the first. "),
            };
            ui.label(format!(
                "{prints}{kept}Drag the frame's edges or corners, or inside it to move it; \
                 click it and the arrow keys move it (with Alt, its right and bottom edges)."
            ));
        });
        let typing = ui.ctx().text_edit_focused();
        if !typing && ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Enter)) {
            self.apply_crop(now);
        }
    }
}
