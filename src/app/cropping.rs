//! Cropping the photo on screen: a frame set on the whole photo (by hand, or on the print that
//! Tintype finds inside a scan's margin), given to the photo as one step to undo.

use egui::RichText;
use image::GenericImageView as _;

use super::{App, Change, Notice, history};
use crate::pipeline::crop::{self, Crop};

pub const CROP_BUTTON: &str = "Crop…";
pub const APPLY_LABEL: &str = "Crop";
pub const CANCEL_LABEL: &str = "Cancel";
pub const FIND_LABEL: &str = "Find the print";
pub const WHOLE_LABEL: &str = "Whole photo";

/// A crop being set on a photo, not yet given to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropEdit {
    pub photo: u64,
    pub crop: Crop,
}

impl App {
    /// Starts setting the crop of the photo on screen, from the crop it has; the brush is put
    /// down (it paints on the cropped photo, which is not on screen while cropping).
    pub fn start_crop(&mut self) {
        let Some(p) = self.selected_photo().filter(|p| p.shown_original().is_some()) else { return };
        self.cropping = Some(CropEdit { photo: p.id, crop: p.settings.crop.unwrap_or(Crop::WHOLE) });
        self.viewer.brush = None;
    }

    /// The crop being set, when it is the photo on screen's.
    pub fn crop_edit(&self) -> Option<CropEdit> {
        self.cropping.filter(|edit| Some(edit.photo) == self.selected)
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

    /// Sets the frame on the print inside the scan's margin, or says that there is none.
    pub fn find_print(&mut self) {
        let Some(edit) = self.crop_edit() else { return };
        let Some(p) = self.selected_photo() else { return };
        let Some(original) = p.shown_original() else { return };
        match crop::find_print(original) {
            Some(found) => self.cropping = Some(CropEdit { crop: found, ..edit }),
            None => {
                let text = format!(
                    "No scanner margin found around {}: it looks cropped already. Drag the frame's edges to crop it.",
                    p.name
                );
                self.notice = Some(Notice::info(text));
            }
        }
    }

    /// The bar above the canvas while a crop is being set: what to do, the size kept, and the
    /// buttons (Enter crops, Escape cancels).
    pub(super) fn crop_bar(&mut self, ui: &mut egui::Ui) {
        let Some(edit) = self.crop_edit() else { return };
        let size = self.selected_photo().and_then(|p| p.shown_original()).map(|o| edit.crop.pixels(o.dimensions()));
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
                edit.crop = Crop::WHOLE;
            }
            let kept = size.map(|s| format!("{} × {} px kept. ", s.width, s.height)).unwrap_or_default();
            ui.label(format!("{kept}Drag the frame's edges or corners, or inside it to move it."));
        });
        let typing = ui.ctx().text_edit_focused();
        if !typing && ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Enter)) {
            self.apply_crop(now);
        }
    }
}
