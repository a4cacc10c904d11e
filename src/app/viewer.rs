//! The viewer: before and after under one zoom and pan, split by a draggable handle (mouse or
//! arrow keys) or side by side. Pictures larger than the GPU's texture limit are shown as tiles.
//! With the brush on, dragging paints strokes (taking colour away, painting one, or giving the
//! model's back) instead of panning.

use std::sync::Arc;

use egui::emath::GuiRounding as _;
use egui::{Color32, Pos2, Rect, Sense, Stroke, TextureOptions, Vec2, pos2, vec2};
use image::{DynamicImage, GenericImageView as _};

use super::prefs::ViewMode;
use crate::pipeline::brush::{self, Tool};
use crate::pipeline::crop::{self, Crop};

pub const SPLIT_LABEL: &str = "Before/after split";
pub const VIEWER_LABEL: &str =
    "Photo viewer: drag to pan, scroll or + and − to zoom, 0 to fit, double-click for 100 % or to fit";
/// How far one arrow key press moves the split (Shift: a fifth of it).
const SPLIT_STEP: f32 = 0.05;
const HANDLE_WIDTH: f32 = 14.0;
const ZOOM_RANGE: (f32, f32) = (0.02, 16.0);

/// A picture uploaded as textures no larger than the GPU allows.
pub struct TiledTexture {
    source: Arc<DynamicImage>,
    size: Vec2,
    /// Each tile's place in image pixels, and its texture.
    tiles: Vec<(Rect, egui::TextureHandle)>,
}

impl TiledTexture {
    pub fn new(ctx: &egui::Context, name: &str, source: Arc<DynamicImage>) -> Self {
        let side = ctx.input(|i| i.max_texture_side).clamp(256, 8192) as u32;
        let rgba = source.to_rgba8();
        let (w, h) = rgba.dimensions();
        let mut tiles = Vec::new();
        for y in (0..h).step_by(side as usize) {
            for x in (0..w).step_by(side as usize) {
                let (tw, th) = (side.min(w - x), side.min(h - y));
                let tile = image::imageops::crop_imm(&rgba, x, y, tw, th).to_image();
                let colour = egui::ColorImage::from_rgba_unmultiplied([tw as usize, th as usize], tile.as_raw());
                let handle = ctx.load_texture(format!("{name}@{x},{y}"), colour, TextureOptions::LINEAR);
                let place = Rect::from_min_size(pos2(x as f32, y as f32), vec2(tw as f32, th as f32));
                tiles.push((place, handle));
            }
        }
        Self { source, size: vec2(w as f32, h as f32), tiles }
    }

    pub fn is_of(&self, image: &Arc<DynamicImage>) -> bool {
        Arc::ptr_eq(&self.source, image)
    }

    pub fn tile_count(&self) -> usize {
        self.tiles.len()
    }

    /// Paints `part` of the picture (in its pixels, once straightened by `angle`: see
    /// [`Crop::angle`]) into `screen` (its on-screen place), clipped to `clip`.
    fn paint(&self, painter: &egui::Painter, angle: f32, part: Rect, screen: Rect, clip: Rect) {
        let painter = painter.with_clip_rect(clip);
        let scale = screen.size() / part.size();
        if angle != 0.0 {
            // Each tile a quad turned about the picture's centre, shown only within the part.
            let painter = painter.with_clip_rect(clip.intersect(screen));
            let whole = (self.size.x as u32, self.size.y as u32);
            let to_screen = |p: Pos2| {
                let [x, y] = Crop::straighten_point([p.x, p.y], whole, angle);
                screen.min + (pos2(x, y) - part.min) * scale
            };
            for (place, tex) in &self.tiles {
                let mut mesh = egui::Mesh::with_texture(tex.id());
                let corners = [place.left_top(), place.right_top(), place.right_bottom(), place.left_bottom()];
                for (corner, uv) in
                    corners.into_iter().zip([pos2(0.0, 0.0), pos2(1.0, 0.0), pos2(1.0, 1.0), pos2(0.0, 1.0)])
                {
                    mesh.vertices.push(egui::epaint::Vertex { pos: to_screen(corner), uv, color: Color32::WHITE });
                }
                mesh.add_triangle(0, 1, 2);
                mesh.add_triangle(0, 2, 3);
                painter.add(egui::Shape::mesh(mesh));
            }
            return;
        }
        for (place, tex) in &self.tiles {
            let shown = place.intersect(part);
            if !shown.is_positive() {
                continue;
            }
            let rect = Rect::from_min_size(screen.min + (shown.min - part.min) * scale, shown.size() * scale);
            let uv = Rect::from_min_max(
                ((shown.min - place.min) / place.size()).to_pos2(),
                ((shown.max - place.min) / place.size()).to_pos2(),
            );
            if rect.intersects(clip) {
                painter.image(tex.id(), rect, uv, Color32::WHITE);
            }
        }
    }

    /// The whole picture, in its pixels.
    fn whole(&self) -> Rect {
        Rect::from_min_size(Pos2::ZERO, self.size)
    }
}

/// Where the viewer looks and how it is split; shared by before and after.
pub struct Viewer {
    /// Share of the picture's width shown "before", 0–1.
    pub split: f32,
    /// Screen points per image pixel; `None` fits the picture to the window.
    pub zoom: Option<f32>,
    /// The image point at the centre of the view.
    centre: Option<Pos2>,
    /// The scale that fitted the picture at the last frame: where the zoom buttons start from.
    fit: f32,
    before: Option<TiledTexture>,
    after: Option<TiledTexture>,
    /// The brush's radius in screen points while the brush is on: a drag paints, not pans.
    pub brush: Option<f32>,
    /// What the brush does.
    pub tool: Tool,
    /// The stroke being painted: its points in the picture's pixels, its radius there, and
    /// where it started on screen (side by side, the pane it is painted in).
    painting: Option<(Vec<Pos2>, f32, Pos2)>,
    /// Strokes handed out and not yet in the after picture: drawn over it until it comes.
    waiting: Vec<Pending>,
    /// The crop frame's edges held by a drag under way.
    crop_grab: Option<CropGrab>,
}

impl Default for Viewer {
    fn default() -> Self {
        Self {
            split: 0.5,
            zoom: None,
            centre: None,
            fit: 1.0,
            before: None,
            after: None,
            brush: None,
            tool: Tool::Remove,
            painting: None,
            waiting: Vec::new(),
            crop_grab: None,
        }
    }
}

impl Viewer {
    /// Shows `before` and `after` (either may be missing while work runs), or `hint` where
    /// there is no picture yet; `pending` says why the after picture is missing. `before` is the
    /// whole photo, of which `crop` is shown; `after` is the crop already. Returns what the
    /// person has just done with the brush.
    #[allow(clippy::too_many_arguments)]
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        mode: ViewMode,
        before: Option<&Arc<DynamicImage>>,
        crop: Option<Crop>,
        after: Option<&Arc<DynamicImage>>,
        hint: &str,
        pending: &str,
    ) -> Option<Touch> {
        let ctx = ui.ctx().clone();
        sync(&mut self.before, before, &ctx, "before");
        // A new result, or another photo: the strokes waiting for it are in it, or no longer
        // this picture's. (The photo read again, as it is for a render, is the same picture.)
        if sync(&mut self.after, after, &ctx, "after") {
            self.waiting.clear();
            self.painting = None;
        }
        let area = ui.available_rect_before_wrap().round_ui();
        ui.advance_cursor_after_rect(area);
        // An id of its own, not the next in the panel: a message appearing above the canvas
        // would otherwise drop a pan under way.
        let response = ui.interact(area, ui.make_persistent_id("tintype-canvas"), Sense::click_and_drag());
        let painter = ui.painter_at(area);
        painter.rect_filled(area, 0.0, ui.visuals().extreme_bg_color);
        let Some(shown) = self.before.as_ref().or(self.after.as_ref()) else {
            // A label rather than painted text, so screen readers (and the tests) read it too.
            let weak = ui.visuals().weak_text_color();
            ui.put(area, egui::Label::new(egui::RichText::new(hint).heading().color(weak)));
            return None;
        };
        let before_part = self.before.as_ref().map(|b| match crop {
            Some(c) => pixel_rect(c.pixels((b.size.x as u32, b.size.y as u32))),
            None => b.whole(),
        });
        // The before picture is the whole photo as it lies: straightened, as the after one is.
        let straightened = crop.map_or(0.0, |c| c.angle);
        let size = before_part.map_or(shown.size, |part| part.size());
        let panes = if mode == ViewMode::SideBySide { 2.0 } else { 1.0 };
        let pane_size = vec2((area.width() - 8.0 * (panes - 1.0)) / panes, area.height());
        let fit = (pane_size.x / size.x).min(pane_size.y / size.y);
        self.fit = fit;
        let mut scale = self.zoom.unwrap_or(fit);
        let mut centre = self.centre.filter(|_| self.zoom.is_some()).unwrap_or((size / 2.0).to_pos2());

        // Wheel and pinch zoom about the pointer; dragging pans (not on the split handle).
        if response.hovered() {
            let (zoom, scroll) = ctx.input(|i| (i.zoom_delta(), i.smooth_scroll_delta().y));
            let factor = zoom * (scroll / 400.0).exp();
            if factor != 1.0 {
                let new_scale = (scale * factor).clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
                if let Some(pointer) = response.hover_pos() {
                    let pane = pane_of(area, pane_size, pointer);
                    let at = centre + (pointer - pane.center()) / scale;
                    centre = at - (pointer - pane.center()) / new_scale;
                }
                scale = new_scale;
                self.zoom = Some(scale);
            }
        }
        // With the brush on, the left button paints and the others pan.
        let brushing = self.brush.is_some();
        let panning = if brushing {
            response.dragged_by(egui::PointerButton::Secondary) || response.dragged_by(egui::PointerButton::Middle)
        } else {
            response.dragged()
        };
        if panning && self.zoom.is_some() {
            centre -= response.drag_delta() / scale;
        }
        // A double-click shows the photo at 100 %, the point clicked staying under the pointer,
        // and fits it again.
        if response.double_clicked() && !brushing {
            if self.zoom.is_some() {
                self.zoom = None;
                scale = fit;
            } else {
                if let Some(pointer) = response.interact_pointer_pos() {
                    let from_centre = pointer - pane_of(area, pane_size, pointer).center();
                    centre += from_centre / scale - from_centre;
                }
                scale = 1.0;
                self.zoom = Some(scale);
            }
        }
        // From the keyboard: + and − zoom, 0 fits, the arrows pan.
        response.widget_info(|| egui::WidgetInfo::labeled(egui::accesskit::Role::Image, true, VIEWER_LABEL));
        if response.clicked() {
            response.request_focus();
        }
        if response.has_focus() {
            let all = egui::EventFilter { horizontal_arrows: true, vertical_arrows: true, ..Default::default() };
            ui.memory_mut(|m| m.set_focus_lock_filter(response.id, all));
            use egui::Key;
            let (zoom_in, zoom_out, fit_key, pan) = ctx.input(|i| {
                let pan = vec2(
                    i.key_pressed(Key::ArrowRight) as i32 as f32 - i.key_pressed(Key::ArrowLeft) as i32 as f32,
                    i.key_pressed(Key::ArrowDown) as i32 as f32 - i.key_pressed(Key::ArrowUp) as i32 as f32,
                );
                (
                    i.key_pressed(Key::Plus) || i.key_pressed(Key::Equals),
                    i.key_pressed(Key::Minus),
                    i.key_pressed(Key::Num0),
                    pan,
                )
            });
            if zoom_in || zoom_out {
                scale = (scale * if zoom_in { 1.25 } else { 0.8 }).clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
                self.zoom = Some(scale);
            }
            if fit_key {
                self.zoom = None;
                scale = fit;
            }
            if pan != Vec2::ZERO && self.zoom.is_some() {
                centre += pan * 60.0 / scale;
            }
        }
        if self.zoom.is_some() {
            self.centre = Some(centre);
        }

        let place =
            |pane: Rect| Rect::from_center_size(pane.center() - (centre.to_vec2() - size / 2.0) * scale, size * scale);
        // The picture's pixel under a screen point, in the pane where `start` falls (side by
        // side, a stroke stays in the pane it started in).
        let pane_at = |p: Pos2| if mode == ViewMode::SideBySide { pane_of(area, pane_size, p) } else { area };
        let to_picture = |p: Pos2, start: Pos2| ((p - place(pane_at(start)).min) / scale).to_pos2();
        let finished = match self.brush {
            Some(_) if picks_colour(&ctx, &response) => {
                // Read from the after picture at its own size (it is the before picture's
                // size, but the two arrive apart).
                let colour = after.zip(response.interact_pointer_pos()).map(|(after, p)| {
                    let at = to_picture(p, p);
                    let at = [at.x / size.x * after.width() as f32, at.y / size.y * after.height() as f32];
                    colour_around(after, at)
                });
                colour.map(Touch::Picked)
            }
            Some(radius) => self.paint(&ctx, &response, radius / scale, to_picture, size).map(Touch::Stroke),
            None => None,
        };
        match mode {
            ViewMode::SideBySide => {
                let left = Rect::from_min_size(area.min, pane_size);
                let right = Rect::from_min_size(pos2(area.right() - pane_size.x, area.top()), pane_size);
                let before = self.before.as_ref().zip(before_part);
                let after = self.after.as_ref().map(|a| (a, a.whole()));
                for (pane, tex, angle) in [(left, before, straightened), (right, after, 0.0)] {
                    match tex {
                        Some((t, part)) => t.paint(&painter, angle, part, place(pane), pane),
                        None => waiting(&painter, pane, pending),
                    }
                }
                for (pane, text) in [(left, "Before"), (right, "After")] {
                    caption(&painter, pane, text);
                }
            }
            ViewMode::Split => {
                let screen = place(area);
                let x = (screen.left() + self.split * screen.width()).clamp(area.left(), area.right());
                let left = Rect::from_min_max(area.min, pos2(x, area.bottom()));
                let right = Rect::from_min_max(pos2(x, area.top()), area.max);
                let before = self.before.as_ref().zip(before_part);
                if let Some((b, part)) = before {
                    b.paint(&painter, straightened, part, screen, left);
                }
                match &self.after {
                    Some(a) => a.paint(&painter, 0.0, a.whole(), screen, right),
                    None => {
                        if let Some((b, part)) = before {
                            b.paint(&painter, straightened, part, screen, right);
                        }
                        waiting(&painter, right, pending);
                    }
                }
                caption(&painter, left, "Before");
                caption(&painter, right, "After");
                self.handle(ui, area, screen, x);
            }
        }
        if let Some(radius) = self.brush {
            let panes = match mode {
                ViewMode::SideBySide => vec![
                    Rect::from_min_size(area.min, pane_size),
                    Rect::from_min_size(pos2(area.right() - pane_size.x, area.top()), pane_size),
                ],
                ViewMode::Split => vec![area],
            };
            for pane in panes {
                let (painter, picture) = (painter.with_clip_rect(pane), place(pane));
                let painting = self.painting.iter().map(|(points, r, _)| (points, r, self.tool));
                let waiting = self.waiting.iter().map(|w| (&w.points, &w.radius, w.tool));
                for (points, r, tool) in waiting.chain(painting) {
                    let on_screen: Vec<Pos2> = points.iter().map(|p| picture.min + p.to_vec2() * scale).collect();
                    stroke_shape(&painter, &on_screen, r * scale, tool);
                }
            }
            if let Some(pointer) = response.hover_pos() {
                ctx.set_cursor_icon(egui::CursorIcon::Crosshair);
                painter.circle_stroke(pointer, radius, Stroke::new(3.0, Color32::from_black_alpha(140)));
                painter.circle_stroke(pointer, radius, Stroke::new(1.5, Color32::WHITE));
                // A painting brush shows its colour inside the ring.
                if let Tool::Paint([r, g, b]) = self.tool {
                    painter.circle_stroke(
                        pointer,
                        (radius - 2.5).max(1.0),
                        Stroke::new(2.0, Color32::from_rgb(r, g, b)),
                    );
                }
            }
        }
        finished
    }

    /// Follows the left button with the brush: a drag adds to the stroke under way, a click is
    /// a dab. Returns the stroke once the button is let go, in the picture's proportions.
    fn paint(
        &mut self,
        ctx: &egui::Context,
        response: &egui::Response,
        radius: f32,
        to_picture: impl Fn(Pos2, Pos2) -> Pos2,
        size: Vec2,
    ) -> Option<brush::Stroke> {
        use egui::PointerButton::Primary;
        if response.drag_started_by(Primary) {
            // The drag is seen some points after the press: the stroke starts where it was.
            let origin = ctx.input(|i| i.pointer.press_origin()).or(response.interact_pointer_pos());
            self.painting = origin.map(|p| (vec![to_picture(p, p)], radius, p));
        }
        if response.dragged_by(Primary)
            && let (Some((points, r, start)), Some(p)) = (&mut self.painting, response.interact_pointer_pos())
        {
            let p = to_picture(p, *start);
            // Points a quarter of the radius apart draw a smooth stroke and keep the file small.
            if points.last().is_none_or(|last| last.distance(p) >= (*r / 4.0).max(1.0)) {
                points.push(p);
            }
        }
        let done = if response.drag_stopped_by(Primary) {
            self.painting.take().map(|(points, r, _)| (points, r))
        } else if response.clicked_by(Primary) {
            response.interact_pointer_pos().map(|p| (vec![to_picture(p, p)], radius))
        } else {
            None
        }?;
        // Kept within a tenth of the radius of the path drawn: the edge of the patch moves by no
        // more than that, and a long stroke keeps a few of its points rather than hundreds.
        let path = brush::simplify(&done.0.iter().map(|p| [p.x, p.y]).collect::<Vec<_>>(), done.1 / 10.0);
        let stroke = brush::Stroke {
            points: path.iter().map(|p| [(p[0] / size.x).clamp(0.0, 1.0), (p[1] / size.y).clamp(0.0, 1.0)]).collect(),
            radius: (done.1 / size.x.min(size.y)).clamp(brush::MIN_RADIUS, brush::MAX_RADIUS),
            tool: self.tool,
        };
        self.waiting.push(Pending { points: done.0, radius: done.1, tool: self.tool });
        Some(stroke)
    }

    /// Cropping: the whole photo fitted to the canvas, the part kept bright inside a frame
    /// with handles, the rest dimmed. Dragging an edge or a corner moves it; dragging inside the
    /// frame moves the frame. `others` (the other prints found on a scan of several) are
    /// outlined and numbered from 2. Returns whether `crop` changed.
    pub fn show_crop(
        &mut self,
        ui: &mut egui::Ui,
        before: &Arc<DynamicImage>,
        crop: &mut Crop,
        others: &[Crop],
    ) -> bool {
        let ctx = ui.ctx().clone();
        sync(&mut self.before, Some(before), &ctx, "before");
        let area = ui.available_rect_before_wrap().round_ui();
        ui.advance_cursor_after_rect(area);
        let response = ui.interact(area, ui.make_persistent_id("tintype-crop"), Sense::click_and_drag());
        response.widget_info(|| egui::WidgetInfo::labeled(egui::accesskit::Role::Image, true, CROP_LABEL));
        let painter = ui.painter_at(area);
        painter.rect_filled(area, 0.0, ui.visuals().extreme_bg_color);
        let Some(tex) = &self.before else { return false };
        // A margin all round, so that an edge of the frame on the photo's edge can be grabbed.
        let inner = area.shrink(2.0 * CROP_REACH);
        let fit = (inner.width() / tex.size.x).min(inner.height() / tex.size.y);
        let screen = Rect::from_center_size(inner.center(), tex.size * fit);
        // Straightened, the photo's corners turn out of the canvas and leave it empty in others.
        tex.paint(&painter, crop.angle, tex.whole(), screen, screen.intersect(area));
        let whole = (tex.size.x as u32, tex.size.y as u32);

        let frame_of = |c: &Crop| {
            Rect::from_min_max(screen.lerp_inside(vec2(c.left, c.top)), screen.lerp_inside(vec2(c.right, c.bottom)))
        };
        let before_drag = *crop;
        if response.drag_started() {
            let origin = ctx.input(|i| i.pointer.press_origin()).or(response.interact_pointer_pos());
            self.crop_grab = origin
                .and_then(|p| held_edges(frame_of(crop), p).map(|edges| CropGrab { edges, from: *crop, start: p }));
        }
        if let (Some(grab), Some(p)) = (&self.crop_grab, response.interact_pointer_pos())
            && response.dragged()
        {
            let moved = (p - grab.start) / screen.size();
            *crop = grab.dragged(moved);
            // On a straightened photo an edge stops where the photo ends, short of the canvas's
            // edge: as far along the drag as keeps the frame on the photo.
            if !crop.lies_inside(whole) && grab.from.lies_inside(whole) {
                *crop = grab.dragged(moved * crop::furthest(|t| grab.dragged(moved * t).lies_inside(whole)));
            }
        }
        if response.drag_stopped() {
            self.crop_grab = None;
        }
        // From the keyboard, once focused (Tab, or a click): the arrows move the frame, with Alt
        // its right and bottom edges; Shift takes finer steps.
        if response.clicked() || response.drag_started() {
            response.request_focus();
        }
        if response.has_focus() {
            let arrows = egui::EventFilter { horizontal_arrows: true, vertical_arrows: true, ..Default::default() };
            ui.memory_mut(|m| m.set_focus_lock_filter(response.id, arrows));
            let (step, alt) = ctx.input(|i| {
                use egui::Key;
                let pressed = |key| i.key_pressed(key) as i32 as f32;
                let step = vec2(
                    pressed(Key::ArrowRight) - pressed(Key::ArrowLeft),
                    pressed(Key::ArrowDown) - pressed(Key::ArrowUp),
                );
                (step * if i.modifiers.shift { CROP_FINE_STEP } else { CROP_STEP }, i.modifiers.alt)
            });
            if step != Vec2::ZERO {
                let edges = if alt { [false, false, true, true] } else { [true; 4] };
                let moved = CropGrab { edges, from: *crop, start: Pos2::ZERO }.dragged(step);
                // Not off the photo a slant leaves (unless the frame was off it already).
                if moved.lies_inside(whole) || !crop.lies_inside(whole) {
                    *crop = moved;
                }
            }
        }
        let held = self
            .crop_grab
            .as_ref()
            .map(|g| g.edges)
            .or_else(|| response.hover_pos().and_then(|p| held_edges(frame_of(crop), p)));
        if let Some(edges) = held {
            ctx.set_cursor_icon(match edges {
                [true, true, true, true] => egui::CursorIcon::Move,
                [true, true, false, false] | [false, false, true, true] => egui::CursorIcon::ResizeNwSe,
                [false, true, true, false] | [true, false, false, true] => egui::CursorIcon::ResizeNeSw,
                [true, false, false, false] | [false, false, true, false] => egui::CursorIcon::ResizeHorizontal,
                _ => egui::CursorIcon::ResizeVertical,
            });
        }

        let frame = frame_of(crop);
        let dim = Color32::from_black_alpha(170);
        for band in [
            Rect::from_min_max(screen.min, pos2(screen.right(), frame.top())),
            Rect::from_min_max(pos2(screen.left(), frame.bottom()), screen.max),
            Rect::from_min_max(pos2(screen.left(), frame.top()), pos2(frame.left(), frame.bottom())),
            Rect::from_min_max(pos2(frame.right(), frame.top()), pos2(screen.right(), frame.bottom())),
        ] {
            painter.rect_filled(band, 0.0, dim);
        }
        for (k, other) in others.iter().enumerate() {
            // Each print found has its own slant: its corners, from the photo as it lies to this
            // canvas.
            let outline: Vec<Pos2> = other
                .corners(whole)
                .iter()
                .map(|&[x, y]| {
                    let [x, y] = Crop::straighten_point([x * tex.size.x, y * tex.size.y], whole, crop.angle);
                    screen.min + vec2(x, y) * fit
                })
                .collect();
            let first = outline[0];
            painter.add(egui::Shape::closed_line(outline, Stroke::new(1.5, Color32::from_white_alpha(150))));
            pill(&painter, &format!("{}", k + 2), 14.0, |_| first + vec2(8.0, 8.0));
        }
        // The thirds, for placing the print's subject, faint.
        let thirds = Stroke::new(1.0, Color32::from_white_alpha(70));
        for k in [1.0, 2.0] {
            let x = frame.left() + frame.width() * k / 3.0;
            let y = frame.top() + frame.height() * k / 3.0;
            painter.line_segment([pos2(x, frame.top()), pos2(x, frame.bottom())], thirds);
            painter.line_segment([pos2(frame.left(), y), pos2(frame.right(), y)], thirds);
        }
        painter.rect_stroke(frame, 0.0, Stroke::new(3.0, Color32::from_black_alpha(140)), egui::StrokeKind::Outside);
        let line = if response.has_focus() { ui.visuals().selection.stroke.color } else { Color32::WHITE };
        painter.rect_stroke(frame, 0.0, Stroke::new(1.5, line), egui::StrokeKind::Middle);
        for x in [frame.left(), frame.center().x, frame.right()] {
            for y in [frame.top(), frame.center().y, frame.bottom()] {
                if (x, y) != (frame.center().x, frame.center().y) {
                    let knob = Rect::from_center_size(pos2(x, y), Vec2::splat(9.0));
                    painter.rect_filled(knob, 1.0, Color32::WHITE);
                    painter.rect_stroke(knob, 1.0, Stroke::new(1.0, Color32::BLACK), egui::StrokeKind::Outside);
                }
            }
        }
        *crop != before_drag
    }

    /// The split handle: a focusable slider for screen readers, dragged with the mouse or moved
    /// with the arrow keys.
    fn handle(&mut self, ui: &mut egui::Ui, area: Rect, screen: Rect, x: f32) {
        let id = ui.make_persistent_id("tintype-split-handle");
        let rect = Rect::from_center_size(pos2(x, area.center().y), vec2(HANDLE_WIDTH, area.height()));
        let response = ui.interact(rect, id, Sense::click_and_drag());
        let split = self.split;
        response.widget_info(|| egui::WidgetInfo::slider(true, (split * 100.0).round() as f64, SPLIT_LABEL));
        if response.dragged()
            && let Some(p) = response.interact_pointer_pos()
        {
            self.split = ((p.x - screen.left()) / screen.width()).clamp(0.0, 1.0);
        }
        if response.clicked() {
            response.request_focus();
        }
        if response.has_focus() {
            ui.memory_mut(|m| {
                m.set_focus_lock_filter(id, egui::EventFilter { horizontal_arrows: true, ..Default::default() })
            });
            let (left, right, fine) = ui.input(|i| {
                (i.key_pressed(egui::Key::ArrowLeft), i.key_pressed(egui::Key::ArrowRight), i.modifiers.shift)
            });
            let step = if fine { SPLIT_STEP / 5.0 } else { SPLIT_STEP };
            let delta = step * (right as i32 - left as i32) as f32;
            self.split = (self.split + delta).clamp(0.0, 1.0);
        }
        if response.hovered() || response.dragged() {
            ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
        }
        let painter = ui.painter();
        let focused = response.has_focus();
        let colour = if focused { ui.visuals().selection.stroke.color } else { Color32::WHITE };
        painter.line_segment([pos2(x, area.top()), pos2(x, area.bottom())], Stroke::new(2.0, colour));
        let knob = pos2(x, area.center().y);
        painter.circle_filled(knob, 11.0, colour);
        for dir in [-1.0, 1.0] {
            let tip = knob + vec2(dir * 7.0, 0.0);
            let back = knob + vec2(dir * 2.0, 0.0);
            let arrow = vec![tip, back + vec2(0.0, -4.0), back + vec2(0.0, 4.0)];
            painter.add(egui::Shape::convex_polygon(arrow, Color32::BLACK, Stroke::NONE));
        }
    }

    /// The zoom in percent, for the toolbar.
    pub fn zoom_percent(&self) -> Option<f32> {
        self.zoom.map(|z| z * 100.0)
    }

    /// Zooms by `factor` from the current zoom, or from the fitted scale when fitting.
    pub fn zoom_by(&mut self, factor: f32) {
        self.zoom = Some((self.zoom.unwrap_or(self.fit) * factor).clamp(ZOOM_RANGE.0, ZOOM_RANGE.1));
    }

    /// The image point at the centre of the view while zoomed (for tests).
    pub fn centre(&self) -> Option<Pos2> {
        self.centre.filter(|_| self.zoom.is_some())
    }

    /// The after picture's texture, for tests and the status line.
    pub fn after_tiles(&self) -> usize {
        self.after.as_ref().map_or(0, TiledTexture::tile_count)
    }
}

/// A crop's pixels as a rectangle.
fn pixel_rect(p: crop::Pixels) -> Rect {
    Rect::from_min_size(pos2(p.x as f32, p.y as f32), vec2(p.width as f32, p.height as f32))
}

/// Keeps `slot` showing `image`, uploading it again only when it changed; says whether it did.
fn sync(slot: &mut Option<TiledTexture>, image: Option<&Arc<DynamicImage>>, ctx: &egui::Context, name: &str) -> bool {
    match image {
        None => slot.take().is_some(),
        Some(img) if slot.as_ref().is_some_and(|t| t.is_of(img)) => false,
        Some(img) => {
            *slot = Some(TiledTexture::new(ctx, name, img.clone()));
            true
        }
    }
}

/// The mean colour of the 5 × 5 pixels around `at` (those inside the picture): one pixel of a
/// scan is grain as much as colour.
fn colour_around(picture: &DynamicImage, at: [f32; 2]) -> [u8; 3] {
    let (w, h) = (picture.width() as i64, picture.height() as i64);
    let (x, y) = ((at[0].floor() as i64).clamp(0, w - 1), (at[1].floor() as i64).clamp(0, h - 1));
    let (mut sum, mut n) = ([0u32; 3], 0);
    for py in (y - 2).max(0)..=(y + 2).min(h - 1) {
        for px in (x - 2).max(0)..=(x + 2).min(w - 1) {
            let [r, g, b, _] = picture.get_pixel(px as u32, py as u32).0;
            sum = [sum[0] + r as u32, sum[1] + g as u32, sum[2] + b as u32];
            n += 1;
        }
    }
    sum.map(|v| ((v + n / 2) / n) as u8)
}

/// What the person did with the brush.
pub enum Touch {
    /// Painted a stroke.
    Stroke(brush::Stroke),
    /// Picked a colour from the photo (Alt+click or Ctrl+click): the mean of the 5 × 5 pixels
    /// under the pointer.
    Picked([u8; 3]),
}

/// How far from an edge of the crop frame, in screen points, a press takes hold of it.
const CROP_REACH: f32 = 10.0;
pub const CROP_LABEL: &str = "Crop frame: drag its edges or corners, or drag inside it to move it; \
    the arrow keys move it, and with Alt its right and bottom edges";
/// How far an arrow key moves the crop frame, as a share of the photo's side; with Shift.
const CROP_STEP: f32 = 0.01;
const CROP_FINE_STEP: f32 = 0.002;

/// A drag of the crop frame under way.
struct CropGrab {
    /// The edges it moves: left, top, right, bottom; all four move the frame.
    edges: [bool; 4],
    /// The crop and the pointer as the drag began.
    from: Crop,
    start: Pos2,
}

impl CropGrab {
    /// The crop after the pointer moved by `moved`, in shares of the photo's width and height:
    /// held inside the photo, no side below the smallest.
    fn dragged(&self, moved: Vec2) -> Crop {
        let mut c = self.from;
        if self.edges == [true; 4] {
            let (dx, dy) = (moved.x.clamp(-c.left, 1.0 - c.right), moved.y.clamp(-c.top, 1.0 - c.bottom));
            return Crop { left: c.left + dx, top: c.top + dy, right: c.right + dx, bottom: c.bottom + dy, ..c };
        }
        let [left, top, right, bottom] = self.edges;
        let min = Crop::MIN_SIDE;
        if left {
            c.left = (c.left + moved.x).clamp(0.0, c.right - min);
        }
        if right {
            c.right = (c.right + moved.x).clamp(c.left + min, 1.0);
        }
        if top {
            c.top = (c.top + moved.y).clamp(0.0, c.bottom - min);
        }
        if bottom {
            c.bottom = (c.bottom + moved.y).clamp(c.top + min, 1.0);
        }
        c
    }
}

/// The edges of `frame` (left, top, right, bottom) a press at `p` takes hold of: those within
/// reach, all four inside the frame away from them (the frame moves), none outside.
fn held_edges(frame: Rect, p: Pos2) -> Option<[bool; 4]> {
    let along_x = (frame.left() - CROP_REACH..=frame.right() + CROP_REACH).contains(&p.x);
    let along_y = (frame.top() - CROP_REACH..=frame.bottom() + CROP_REACH).contains(&p.y);
    let near = |edge: f32, at: f32| (edge - at).abs() <= CROP_REACH;
    let mut edges = [
        along_y && near(frame.left(), p.x),
        along_x && near(frame.top(), p.y),
        along_y && near(frame.right(), p.x),
        along_x && near(frame.bottom(), p.y),
    ];
    // A frame narrower than the reach: the nearer of two facing edges.
    if edges[0] && edges[2] {
        let left_nearer = (frame.left() - p.x).abs() <= (frame.right() - p.x).abs();
        (edges[0], edges[2]) = (left_nearer, !left_nearer);
    }
    if edges[1] && edges[3] {
        let top_nearer = (frame.top() - p.y).abs() <= (frame.bottom() - p.y).abs();
        (edges[1], edges[3]) = (top_nearer, !top_nearer);
    }
    if edges.iter().any(|&e| e) {
        Some(edges)
    } else if frame.contains(p) {
        Some([true; 4])
    } else {
        None
    }
}

/// A stroke handed out and not yet in the after picture.
struct Pending {
    /// In the picture's pixels.
    points: Vec<Pos2>,
    radius: f32,
    tool: Tool,
}

/// Whether the brush is picking a colour from the photo rather than painting: Alt+click, as in
/// Photoshop, or Ctrl+click (⌘ on a Mac), as in GIMP and Krita, for desktops that keep Alt+click
/// for moving windows. (The click's own modifiers are asked too: they are what a click
/// synthesised by a test carries.)
fn picks_colour(ctx: &egui::Context, response: &egui::Response) -> bool {
    let picking = |m: egui::Modifiers| m.alt || m.command;
    response.clicked_by(egui::PointerButton::Primary)
        && ctx.input(|i| {
            picking(i.modifiers)
                || i.events
                    .iter()
                    .any(|e| matches!(e, egui::Event::PointerButton { modifiers, .. } if picking(*modifiers)))
        })
}

/// A brush stroke as it is painted: a see-through band the brush's width, round at its ends, in
/// the colour it paints (pale for one that takes colour away, pale gold for one that gives the
/// model's back). Drawn as one band and two half discs that do not overlap, so the see-through
/// colour is even.
fn stroke_shape(painter: &egui::Painter, points: &[Pos2], radius: f32, tool: Tool) {
    let colour = match tool {
        Tool::Remove => Color32::from_white_alpha(110),
        Tool::Paint([r, g, b]) => Color32::from_rgba_unmultiplied(r, g, b, 150),
        Tool::Restore => Color32::from_rgba_unmultiplied(255, 214, 120, 110),
    };
    let (Some(&first), Some(&last)) = (points.first(), points.last()) else { return };
    // The directions the stroke leaves its ends by.
    let out_of_start = points.iter().find(|p| **p != first).map(|p| (first - *p).normalized());
    let out_of_end = points.iter().rev().find(|p| **p != last).map(|p| (last - *p).normalized());
    let (Some(out_of_start), Some(out_of_end)) = (out_of_start, out_of_end) else {
        painter.circle_filled(first, radius, colour);
        return;
    };
    painter.add(egui::Shape::line(points.to_vec(), Stroke::new(2.0 * radius, colour)));
    for (centre, out) in [(first, out_of_start), (last, out_of_end)] {
        let across = out.rot90();
        let half_disc = (0..=16)
            .map(|k| {
                let angle = std::f32::consts::PI * (k as f32 / 16.0 - 0.5);
                centre + radius * (angle.cos() * out + angle.sin() * across)
            })
            .collect();
        painter.add(egui::Shape::convex_polygon(half_disc, colour, Stroke::NONE));
    }
}

fn pane_of(area: Rect, pane_size: Vec2, p: Pos2) -> Rect {
    if pane_size.x < area.width() && p.x > area.center().x {
        Rect::from_min_size(pos2(area.right() - pane_size.x, area.top()), pane_size)
    } else {
        Rect::from_min_size(area.min, pane_size)
    }
}

fn caption(painter: &egui::Painter, pane: Rect, text: &str) {
    if pane.width() < 60.0 {
        return;
    }
    pill(painter, text, 14.0, |_| pane.left_top() + vec2(8.0, 8.0));
}

fn waiting(painter: &egui::Painter, pane: Rect, pending: &str) {
    pill(painter, pending, 16.0, |size| pane.center() - size / 2.0);
}

/// White text on a dark pill, so it reads over a bright photo as well as a dark one; `place`
/// gives the text's top left from its size.
fn pill(painter: &egui::Painter, text: &str, points: f32, place: impl FnOnce(Vec2) -> egui::Pos2) {
    let galley = painter.layout_no_wrap(text.into(), egui::FontId::proportional(points), Color32::WHITE);
    let pos = place(galley.size());
    painter.rect_filled(Rect::from_min_size(pos, galley.size()).expand(4.0), 4.0, Color32::from_black_alpha(160));
    painter.galley(pos, galley, Color32::WHITE);
}
