//! The desktop app driven through its accessibility tree (what a screen reader sees), rendered with
//! wgpu (lavapipe on machines without a GPU): adding photos the way a drop, a paste (of a file or
//! of a picture) or a second launch does, copying the result, colorizing with the built-in model,
//! the split handle, coalesced renders, each photo's own settings (with undo and turning), several
//! photos picked at once, the right-click menu (and its keys), Help, photos taken off the list and
//! put back, export (and stopping it), the keyboard, clicks and drags while the layout changes, the
//! brush that takes colour away, the list and settings kept between runs, and snapshots of the
//! main states.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::{Harness, SnapshotOptions};
use tintype::app::library::Status;
use tintype::app::prefs::{KeptList, ModelPick, ViewMode};
use tintype::app::{App, Options, Quit};
use tintype::engine::worker::Stage;
use tintype::pipeline::brush::Tool;

const SAMPLE: &str = "assets/samples/walt-whitman.jpg";
const SIZE: [f32; 2] = [1200.0, 780.0];

/// A file dropped on the window, as the windowing layer hands it over.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }
    fn options(&self) -> Options {
        Options {
            config_dir: Some(self.dir.path().join("config")),
            data_dir: Some(self.dir.path().join("data")),
            cache_dir: Some(self.dir.path().join("cache")),
            open: vec![],
        }
    }
    fn export_dir(&self) -> PathBuf {
        self.dir.path().join("exports")
    }
    fn harness(&self) -> Harness<'static, App> {
        self.harness_opening(vec![])
    }
    /// The window started with `open` named, as "Open with" starts it.
    fn harness_opening(&self, open: Vec<PathBuf>) -> Harness<'static, App> {
        let options = Options { open, ..self.options() };
        let export_dir = self.export_dir();
        Harness::builder().with_size(SIZE).with_step_dt(0.05).wgpu().build_eframe(move |cc| {
            let mut app = App::new(&cc.egui_ctx, options);
            app.prefs.export_dir = Some(export_dir);
            app
        })
    }
}

fn drop_files(harness: &mut Harness<'_, App>, paths: &[&str]) {
    for p in paths {
        let file: egui::DroppedFileHandle = Arc::new(Dropped(PathBuf::from(p)));
        harness.input_mut().dropped_files.push(file);
    }
    harness.step();
}

/// Steps the app (as the window would, in real time) until `done` holds.
fn step_until(harness: &mut Harness<'_, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    while !done(harness.state()) {
        assert!(start.elapsed() < Duration::from_secs(180), "timed out waiting for {what}");
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    harness.step();
}

/// A folder of `count` copies of the sample, `scan-00.jpg` on.
fn album(setup: &Setup, count: usize) -> PathBuf {
    let album = setup.dir.path().join("album");
    std::fs::create_dir(&album).unwrap();
    for i in 0..count {
        std::fs::copy(SAMPLE, album.join(format!("scan-{i:02}.jpg"))).unwrap();
    }
    album
}

/// The primary mouse button going down or up at `pos`, as one frame's event.
fn primary_button(pos: egui::Pos2, pressed: bool) -> egui::Event {
    egui::Event::PointerButton { pos, button: egui::PointerButton::Primary, pressed, modifiers: egui::Modifiers::NONE }
}

/// The screen point of a picture's pixel (x, y), with the picture (of `size`) fitted in the
/// viewer and centred, as it is before any zoom; and the scale, screen points per pixel.
fn fitted(harness: &Harness<'_, App>, size: (u32, u32)) -> (impl Fn(f32, f32) -> egui::Pos2 + use<>, f32) {
    let canvas = harness.get_by_label_contains("Photo viewer").rect();
    let (w, h) = (size.0 as f32, size.1 as f32);
    let scale = (canvas.width() / w).min(canvas.height() / h);
    (move |x: f32, y: f32| canvas.center() + (egui::vec2(x, y) - egui::vec2(w, h) / 2.0) * scale, scale)
}

/// The first photo's result, as 8 bits.
fn first_result(app: &App) -> image::RgbImage {
    app.photos[0].result.as_ref().expect("a result").1.to_rgb8()
}

/// A drag with the left button from `from` to `by` further on, in ten moves.
fn drag(harness: &mut Harness<'_, App>, from: egui::Pos2, by: egui::Vec2) {
    harness.event(egui::Event::PointerMoved(from));
    harness.event(primary_button(from, true));
    harness.step();
    for i in 1..=10 {
        harness.event(egui::Event::PointerMoved(from + by * i as f32 / 10.0));
        harness.step();
    }
    harness.event(primary_button(from + by, false));
    harness.step();
}

/// How far pixel (x, y) of a `w` × `h` picture is from the line across its middle third at
/// half its height (the stroke the brush tests paint).
fn from_middle_third(x: u32, y: u32, w: f32, h: f32) -> f32 {
    let (dx, dy) = ((x as f32 + 0.5 - w / 2.0).abs() - w / 6.0, (y as f32 + 0.5 - h / 2.0).abs());
    if dx > 0.0 { dx.hypot(dy) } else { dy }
}

/// The two sample photos added and colorized.
fn drop_both_samples_and_render(harness: &mut Harness<'_, App>) {
    drop_files(harness, &[SAMPLE, "assets/samples/migrant-mother.jpg"]);
    step_until(harness, "both renders", |app| app.photos.len() == 2 && all_done(app));
}

fn all_done(app: &App) -> bool {
    !app.photos.is_empty() && app.photos.iter().all(|p| matches!(p.status, Status::Done | Status::Failed(_)))
}

/// The photo list's row for the photo named `name`.
fn row<'h>(harness: &'h Harness<'_, App>, name: &'h str) -> egui_kittest::Node<'h> {
    let row = harness.query_all_by_label_contains(name).find(|n| n.accesskit_node().role() == Role::Button);
    row.expect("the photo's row")
}

/// A window listing `count` copies of the sample, with no model that can run: no render
/// changes the list while a test does.
fn still_album(setup: &Setup, count: usize) -> (Harness<'static, App>, PathBuf) {
    let album = album(setup, count);
    let mut harness = setup.harness();
    harness.state_mut().prefs.model = ModelPick::Installed("artistic".into());
    drop_files(&mut harness, &[album.to_str().unwrap()]);
    step_until(&mut harness, "the list", |app| app.photos.len() == count);
    (harness, album)
}

fn slider<'h>(harness: &'h Harness<'_, App>, label: &'h str) -> egui_kittest::Node<'h> {
    harness.get_by_role_and_label(Role::Slider, label)
}

fn split_value(harness: &Harness<'_, App>) -> f64 {
    harness.get_by_label("Before/after split").accesskit_node().numeric_value().expect("the split handle has a value")
}

/// Pixel snapshots compared with a tolerance: text and the photo may differ slightly
/// between GPU drivers and CPUs.
fn snapshot(harness: &mut Harness<'_, App>, name: &str) {
    // The export folder is a temporary one, named differently each run.
    let folder = harness.get_by_label_contains("To ").rect();
    harness.mask(folder);
    harness.snapshot_options(name, &SnapshotOptions::new().threshold(6.0).max_failed_pixels(2000));
}

#[test]
fn drop_colorize_compare_tune_and_export() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    harness.step();
    harness.get_by_label("Drop old photos or folders here, or press Add photos");
    snapshot(&mut harness, "empty");

    drop_files(&mut harness, &[SAMPLE]);
    step_until(&mut harness, "the photo to appear", |app| app.photos.len() == 1);
    // Until its first result the canvas says the photo is on its way (the render takes longer
    // than a step on a CPU; on a faster machine it may already be there).
    if harness.state().photos[0].original.is_none() {
        harness.get_by_label("Colorizing walt-whitman.jpg…");
    }
    step_until(&mut harness, "the first render", all_done);
    let app = harness.state();
    assert_eq!(app.photos[0].status, Status::Done);
    let (key, result) = app.photos[0].result.clone().expect("a result");
    assert_eq!(key.settings.render_factor, 35);
    assert_eq!((result.width(), result.height()), (768, 621));
    assert_eq!(app.renders_finished, 1);
    row(&harness, "walt-whitman.jpg");
    // The status line says how long the render took, and where.
    let status = harness.get_by_label_contains(" took ").accesskit_node().value().unwrap_or_default();
    let took = status.split(" took ").nth(1).and_then(|t| t.strip_suffix(" s on the CPU"));
    let seconds: f32 = took.and_then(|t| t.parse().ok()).unwrap_or_else(|| panic!("{status:?}"));
    assert!(status.starts_with("1 photo, 1 colorized · walt-whitman.jpg took ") && seconds > 0.0, "{status:?}");
    snapshot(&mut harness, "colorized");

    // The split handle: dragged with the mouse, then moved with the keyboard.
    assert_eq!(split_value(&harness), 50.0);
    let handle = harness.get_by_label("Before/after split").rect();
    let image = harness.get_by_label("Before/after split").rect(); // the handle spans the viewer's height
    let start = handle.center();
    harness.hover_at(start);
    harness.drag_at(start);
    harness.step();
    harness.hover_at(start + egui::vec2(-120.0, 0.0));
    harness.step();
    harness.drop_at(start + egui::vec2(-120.0, 0.0));
    harness.step();
    harness.step();
    let dragged = split_value(&harness);
    assert!(dragged < 40.0 && dragged > 5.0, "dragging 120 px left moves the split left: {dragged}");
    assert!(image.height() > 300.0);
    harness.get_by_label("Before/after split").focus();
    harness.step();
    harness.step(); // the handle keeps the arrow keys from the frame after it took focus
    harness.key_press(egui::Key::ArrowRight);
    harness.step();
    harness.key_press(egui::Key::ArrowRight);
    harness.step();
    let moved = split_value(&harness);
    assert!(
        (moved - (dragged + 10.0)).abs() < 1.01,
        "two right-arrow presses move the split by 10: {dragged} → {moved}"
    );

    // A slider swept through many render sizes gives one new render, at the last value.
    for rf in [33.0, 30.0, 28.0, 26.0, 24.0, 22.0, 20.0] {
        slider(&harness, "Render size").set_value_accesskit(rf);
        harness.step();
    }
    step_until(&mut harness, "the render at the new size", |app| {
        app.photos[0].result.as_ref().is_some_and(|(k, _)| k.settings.render_factor == 20) && all_done(app)
    });
    // Let any stray render show up before counting.
    for _ in 0..20 {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(harness.state().renders_finished, 2, "one render for the whole sweep");
    assert_eq!(slider(&harness, "Render size").accesskit_node().numeric_value(), Some(20.0));

    // Export: the file appears, complete, with the photo's size; the original is untouched.
    let original = std::fs::read(SAMPLE).unwrap();
    harness.get_by_label("Export").click();
    step_until(&mut harness, "the export", |app| !app.exported.is_empty());
    let written = harness.state().exported[0].clone();
    assert!(written.starts_with(setup.export_dir()), "{}", written.display());
    assert_eq!(written.file_name().unwrap(), "walt-whitman-colorized.png");
    let img = image::open(&written).unwrap();
    assert_eq!((img.width(), img.height()), (768, 621));
    assert_eq!(std::fs::read(SAMPLE).unwrap(), original);

    // Share: one picture holding both.
    harness.get_by_label("Share before/after").click();
    step_until(&mut harness, "the shared picture", |app| app.exported.len() == 2);
    let shared = image::open(&harness.state().exported[1]).unwrap();
    assert!(shared.width() > 2 * 768 && shared.height() > 621);
}

#[test]
fn side_by_side_and_render_size_sheet() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[SAMPLE]);
    step_until(&mut harness, "the first render", all_done);
    harness.get_by_label("Side by side").click();
    harness.step();
    harness.step();
    snapshot(&mut harness, "side-by-side");

    harness.get_by_label("Compare render sizes…").click();
    harness.step();
    step_until(&mut harness, "six renders", |app| {
        app.sheet.as_ref().is_some_and(|s| s.tiles.iter().all(|t| matches!(t.render, Some(Ok(_)))))
    });
    harness.step();
    snapshot(&mut harness, "render-size-sheet");
    // Escape closes it (put back as it was, so as not to render it again).
    let sheet = harness.state().sheet.clone();
    harness.key_press(egui::Key::Escape);
    harness.step();
    assert!(harness.state().sheet.is_none());
    harness.state_mut().sheet = sheet;
    harness.step();
    // Choosing one uses it.
    // The built-in model sees the portrait in its own shape: 288 × 224 px at render size 16.
    harness.get_by_role_and_label(Role::Button, "Render size 16 (288 × 224 px)").click();
    harness.step();
    assert!(harness.state().sheet.is_none());
    assert_eq!(harness.state().prefs.render_factor, 16);
    assert_eq!(harness.state().photos[0].settings.render_factor, 16);
}

#[test]
fn each_photo_keeps_its_own_adjustments_until_they_are_applied_to_all() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    drop_both_samples_and_render(&mut harness);
    assert_eq!(harness.state().renders_finished, 2);
    let strength = |app: &App, i: usize| app.photos[i].settings.chroma.saturation;
    let rendered_strength =
        |app: &App, i: usize| app.photos[i].result.as_ref().map(|(key, _)| key.settings.chroma.saturation);

    // Stronger colour for the photo on screen only: the other keeps its render and its word.
    slider(&harness, "Colour strength").set_value_accesskit(1.5);
    step_until(&mut harness, "the new render", |app| rendered_strength(app, 0) == Some(1.5));
    for _ in 0..20 {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(harness.state().renders_finished, 3, "the other photo was not rendered again");
    assert_eq!(rendered_strength(harness.state(), 1), Some(1.0));
    assert!(harness.query_by_label("migrant-mother.jpg\ndone").is_some());

    // The controls follow the selection.
    row(&harness, "migrant-mother.jpg").click();
    harness.step();
    harness.step();
    assert_eq!(slider(&harness, "Colour strength").accesskit_node().numeric_value(), Some(1.0));
    row(&harness, "walt-whitman.jpg").click();
    harness.step();
    harness.step();
    assert_eq!(slider(&harness, "Colour strength").accesskit_node().numeric_value(), Some(1.5));

    // A photo added now starts with the adjustments set last.
    let porch = setup.dir.path().join("porch.jpg");
    std::fs::copy(SAMPLE, &porch).unwrap();
    drop_files(&mut harness, &[porch.to_str().unwrap()]);
    step_until(&mut harness, "the third photo", |app| app.photos.len() == 3 && all_done(app));
    assert_eq!(strength(harness.state(), 2), 1.5);
    assert_eq!(rendered_strength(harness.state(), 2), Some(1.5));

    // Applied to all: the second photo is rendered again with them.
    harness.get_by_label("Apply to all photos").click();
    step_until(&mut harness, "the second photo's new render", |app| rendered_strength(app, 1) == Some(1.5));
    assert!(harness.query_by_label("Apply to all photos").is_some_and(|b| b.accesskit_node().is_disabled()));

    // Ctrl+Z takes "Apply to all" back (the second photo is its own again), then the drag to
    // 1.5 (which selects the photo it was made on); Ctrl+Shift+Z puts it back.
    let strengths = |app: &App| app.photos.iter().map(|p| p.settings.chroma.saturation).collect::<Vec<_>>();
    let ctrl = egui::Modifiers::COMMAND;
    harness.key_press_modifiers(ctrl, egui::Key::Z);
    harness.step();
    assert_eq!(strengths(harness.state()), [1.5, 1.0, 1.5]);
    step_until(&mut harness, "the second photo's render as before", |app| rendered_strength(app, 1) == Some(1.0));
    row(&harness, "porch.jpg").click();
    harness.step();
    harness.key_press_modifiers(ctrl, egui::Key::Z);
    harness.step();
    assert_eq!(strengths(harness.state()), [1.0, 1.0, 1.5]);
    assert_eq!(harness.state().selected, Some(harness.state().photos[0].id));
    assert_eq!(slider(&harness, "Colour strength").accesskit_node().numeric_value(), Some(1.0));
    harness.key_press_modifiers(ctrl | egui::Modifiers::SHIFT, egui::Key::Z);
    harness.step();
    assert_eq!(strengths(harness.state()), [1.5, 1.0, 1.5]);
}

#[test]
fn a_bad_file_fails_alone_with_a_message() {
    let setup = Setup::new();
    let bad = setup.dir.path().join("scan-042.jpg");
    std::fs::write(&bad, b"this is not a picture").unwrap();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[bad.to_str().unwrap(), SAMPLE]);
    step_until(&mut harness, "both photos", |app| app.photos.len() == 2 && all_done(app));
    let app = harness.state();
    let failed = app.photos.iter().find(|p| p.path == bad).unwrap();
    match &failed.status {
        Status::Failed(message) => {
            assert!(message.contains("scan-042.jpg") && message.contains("not a picture"), "{message}")
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(app.photos.iter().any(|p| p.status == Status::Done), "the good photo is colorized all the same");
    // The message is on screen, inline with the photo, and the canvas says why it is empty.
    assert!(harness.query_all_by_label_contains("not a picture").count() >= 1);
    assert_eq!(app.selected_photo().map(|p| p.path.clone()), Some(bad));
    assert!(harness.query_by_label("Nothing to show for scan-042.jpg").is_some());
    assert!(harness.query_by_label("2 photos, 1 colorized, 1 failed").is_some(), "the status line counts it");
    assert!(harness.query_by_label_contains("Drop old photos").is_none());
}

#[test]
fn export_all_saves_each_photo_once_colorized_then_says_what_went_where() {
    let setup = Setup::new();
    let bad = setup.dir.path().join("scan-042.jpg");
    std::fs::write(&bad, b"this is not a picture").unwrap();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[SAMPLE, "assets/samples/migrant-mother.jpg", bad.to_str().unwrap()]);
    step_until(&mut harness, "the list", |app| app.photos.len() == 3);
    // Pressed before the photos are colorized: each is saved once it is, and the bad file,
    // found out on the way, is named at the end.
    harness.get_by_label("Export all").click();
    step_until(&mut harness, "the batch to start", |app| app.export_batch.is_some());
    assert!(harness.query_by_label_contains(" of 3 saved…").is_some(), "the status line follows the batch");
    step_until(&mut harness, "the batch", |app| app.export_batch.is_none());
    let folder = setup.export_dir();
    let app = harness.state();
    assert_eq!(app.exported.len(), 2);
    assert!(app.exported.iter().all(|f| f.starts_with(&folder) && f.is_file()), "{:?}", app.exported);
    let notice = app.notice.as_ref().expect("a tally");
    assert!(
        notice.text.starts_with(&format!("Saved 2 of 3 photos to {}. Not saved: ", folder.display())),
        "{}",
        notice.text
    );
    assert!(notice.text.contains("scan-042.jpg") && notice.error, "{}", notice.text);
    assert_eq!(notice.folder.as_deref(), Some(folder.as_path()));
    assert!(harness.query_by_label("Open folder").is_some());

    // Pressed again with nothing changed: no copies.
    harness.get_by_label("Export all").click();
    harness.step();
    let app = harness.state();
    assert!(app.export_batch.is_none() && app.exported.len() == 2);
    let notice = app.notice.as_ref().unwrap();
    let expected = format!(
        "Nothing new to export: all 2 photos are already saved in {} as they are now; 1 other could not be colorized.",
        folder.display()
    );
    assert_eq!((notice.text.as_str(), notice.error), (expected.as_str(), false));

    // One photo changed: it alone is saved again, beside its earlier file; the photo known to
    // have failed is left out, and the line says so.
    slider(&harness, "Colour strength").set_value_accesskit(1.4);
    harness.step();
    harness.get_by_label("Export all").click();
    step_until(&mut harness, "the third batch to start", |app| app.export_batch.is_some());
    step_until(&mut harness, "the third batch", |app| app.export_batch.is_none());
    let app = harness.state();
    assert_eq!(app.exported.len(), 3, "earlier exports are kept, not replaced");
    assert!(app.exported.iter().all(|f| f.is_file()));
    let notice = app.notice.as_ref().unwrap();
    let expected = format!(
        "Saved 1 photo to {}; 1 photo already saved there as it is now; left out 1 photo that could not be colorized",
        folder.display()
    );
    assert_eq!((notice.text.as_str(), notice.error), (expected.as_str(), false));
    assert!(harness.query_by_label_contains("3 photos, 2 colorized, 1 failed").is_none(), "the tally stays up");

    // The unchanged photo's file deleted in the file manager: it is saved again.
    let app = harness.state();
    let unchanged = app.photos.iter().find(|p| Some(p.id) != app.selected && p.saved_as.is_some()).unwrap();
    std::fs::remove_file(&unchanged.saved_as.as_ref().unwrap().file).unwrap();
    harness.get_by_label("Export all").click();
    step_until(&mut harness, "the last batch", |app| app.export_batch.is_none() && app.exported.len() == 4);
    let notice = harness.state().notice.as_ref().unwrap().text.clone();
    assert!(notice.starts_with("Saved 1 photo to ") && notice.contains("1 photo already saved there"), "{notice}");
}

#[test]
fn export_all_in_the_next_run_saves_only_the_photos_added_since() {
    let setup = Setup::new();
    {
        let mut harness = setup.harness();
        drop_both_samples_and_render(&mut harness);
        harness.get_by_label("Export all").click();
        step_until(&mut harness, "the first batch", |app| app.exported.len() == 2 && app.export_batch.is_none());
        harness.state_mut().save_prefs();
    }
    let porch = setup.dir.path().join("porch.jpg");
    std::fs::copy(SAMPLE, &porch).unwrap();
    let mut harness = setup.harness();
    step_until(&mut harness, "the kept list", |app| app.photos.len() == 2);
    drop_files(&mut harness, &[porch.to_str().unwrap()]);
    step_until(&mut harness, "the new photo", |app| app.photos.len() == 3);
    harness.get_by_label("Export all").click();
    step_until(&mut harness, "the batch", |app| app.exported.len() == 1 && app.export_batch.is_none());
    let app = harness.state();
    assert!(
        app.exported[0].file_name().unwrap().to_str().unwrap().starts_with("porch-colorized"),
        "{:?}",
        app.exported
    );
    let notice = &app.notice.as_ref().unwrap().text;
    assert!(
        notice.starts_with("Saved 1 photo to ") && notice.ends_with("; 2 photos already saved there as they are now"),
        "{notice}"
    );
    assert_eq!(std::fs::read_dir(setup.export_dir()).unwrap().count(), 3);
}

#[test]
fn export_all_pressed_while_export_writes_a_photo_saves_it_once() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[SAMPLE, "assets/samples/migrant-mother.jpg"]);
    step_until(&mut harness, "the list", |app| app.photos.len() == 2);
    step_until(&mut harness, "the renders", all_done);
    // Both in one frame: the photo on screen is still being written when Export all comes.
    harness.get_by_label("Export").click();
    harness.get_by_label("Export all").click();
    harness.step();
    assert!(harness.state().export_batch.is_some());
    step_until(&mut harness, "the batch", |app| app.export_batch.is_none());
    harness.step();
    let written = std::fs::read_dir(setup.export_dir()).unwrap().count();
    assert_eq!((written, harness.state().exported.len()), (2, 2), "{:?}", harness.state().exported);
    let notice = &harness.state().notice.as_ref().unwrap().text;
    assert_eq!(notice, &format!("Saved 2 photos to {}", setup.export_dir().display()));
}

#[test]
fn export_all_says_about_how_long_it_has_left_once_two_photos_are_colorized() {
    let setup = Setup::new();
    let album = album(&setup, 5);
    let mut harness = setup.harness();
    drop_files(&mut harness, &[album.to_str().unwrap()]);
    step_until(&mut harness, "the list", |app| app.photos.len() == 5);
    harness.get_by_label("Export all").click();
    let (start, mut seen) = (Instant::now(), Vec::new());
    while harness.state().export_batch.is_some() || seen.is_empty() {
        assert!(start.elapsed() < Duration::from_secs(180), "timed out waiting for the batch");
        harness.step();
        if let Some(notice) = &harness.state().notice
            && seen.last() != Some(&notice.text)
        {
            seen.push(notice.text.clone());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Small photos on the built-in model: well under a minute each.
    let estimated = seen.iter().filter(|t| t.ends_with(" saved, under a minute left…")).count();
    assert!(estimated >= 1, "{seen:#?}");
    assert!(seen.last().unwrap().starts_with("Saved 5 photos to "), "{seen:#?}");
}

#[test]
fn export_all_stops_when_asked_and_says_how_far_it_got_and_the_title_follows() {
    let setup = Setup::new();
    let album = album(&setup, 4);
    let mut harness = setup.harness();
    harness.step();
    assert_eq!(harness.state().title, "Tintype");
    drop_files(&mut harness, &[album.to_str().unwrap()]);
    step_until(&mut harness, "the list", |app| app.photos.len() == 4);
    // The window's title names the photo on screen, and an Export all's progress.
    assert_eq!(harness.state().title, "scan-00.jpg — Tintype");
    harness.get_by_label("Export all").click();
    harness.step();
    harness.step();
    let title = harness.state().title.clone();
    assert!(title.starts_with("Exporting ") && title.ends_with(" of 4 · scan-00.jpg — Tintype"), "{title}");
    harness.get_by_label("Stop exporting").click();
    step_until(&mut harness, "the batch to end", |app| app.export_batch.is_none());
    assert_eq!(harness.state().title, "scan-00.jpg — Tintype");
    // At most the photos being written when it was stopped are saved, and the rest never are.
    let notice = harness.state().notice.as_ref().unwrap().text.clone();
    let saved = harness.state().exported.len();
    assert!(saved < 4, "{saved} saved");
    let expected = match saved {
        0 => "Export all stopped before any of 4 photos was saved".to_string(),
        n => format!(
            "Export all stopped: saved {n} of 4 photos to {}; {} not saved",
            setup.export_dir().display(),
            4 - n
        ),
    };
    assert_eq!(notice, expected);
    step_until(&mut harness, "the renders", all_done);
    harness.step();
    assert_eq!(harness.state().exported.len(), saved);
    let written = std::fs::read_dir(setup.export_dir()).map_or(0, |d| d.count());
    assert_eq!(written, saved);
    // Export all is offered again.
    harness.get_by_label("Export all");
}

#[test]
fn export_pressed_early_says_it_waits_and_a_failed_photo_says_why_not() {
    let setup = Setup::new();
    let bad = setup.dir.path().join("scan-042.jpg");
    std::fs::write(&bad, b"this is not a picture").unwrap();
    let mut harness = setup.harness();
    // The export folder's name opens it; before the first export there is nothing to open.
    harness.get_by_label_contains("To ").click();
    harness.step();
    let expected = format!("Nothing has been exported to {} yet.", setup.export_dir().display());
    assert_eq!(harness.state().notice.as_ref().map(|n| n.text.clone()), Some(expected));
    drop_files(&mut harness, &[SAMPLE, bad.to_str().unwrap()]);
    step_until(&mut harness, "the list", |app| app.photos.len() == 2);
    let ids: Vec<u64> = harness.state().photos.iter().map(|p| p.id).collect();
    harness.state_mut().export(ids[0]);
    harness.step();
    assert!(harness.query_by_label("walt-whitman.jpg will be saved once it is colorized.").is_some());
    step_until(&mut harness, "the export", |app| !app.exported.is_empty());
    let notice = harness.state().notice.as_ref().unwrap();
    assert!(notice.text.starts_with("Saved ") && notice.folder == Some(setup.export_dir()), "{}", notice.text);

    step_until(&mut harness, "the failure", all_done);
    harness.state_mut().export(ids[1]);
    let notice = harness.state().notice.as_ref().unwrap();
    assert!(
        notice.error && notice.text.starts_with("Not saved: ") && notice.text.contains("scan-042.jpg"),
        "{}",
        notice.text
    );
}

#[test]
fn files_dragged_over_the_window_say_what_a_drop_does() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    // As the windowing layer reports them, frame after frame while the drag lasts.
    let hover = |harness: &mut Harness<'_, App>, paths: &[&str]| {
        for _ in 0..2 {
            harness.input_mut().hovered_files.clear();
            for p in paths {
                let file = egui::HoveredFile { path: Some(p.into()), ..Default::default() };
                harness.input_mut().hovered_files.push(file);
            }
            harness.step();
        }
    };
    hover(&mut harness, &[SAMPLE, "assets/samples/migrant-mother.jpg"]);
    assert!(harness.query_by_label("Drop to add these photos").is_some());
    hover(&mut harness, &["ColorizeArtistic_gen.pth"]);
    assert!(harness.query_by_label("Drop to import this model").is_some());
    hover(&mut harness, &[]);
    assert!(harness.query_by_label_contains("Drop to").is_none(), "gone once nothing is dragged");
}

#[test]
fn a_dropped_folder_brings_the_photos_in_its_subfolders() {
    let setup = Setup::new();
    let album = setup.dir.path().join("album");
    std::fs::create_dir_all(album.join("1920s")).unwrap();
    std::fs::copy(SAMPLE, album.join("porch.jpg")).unwrap();
    std::fs::copy(SAMPLE, album.join("1920s/wedding.jpg")).unwrap();
    std::fs::write(album.join("notes.txt"), b"not a photo, and not taken for one").unwrap();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[album.to_str().unwrap()]);
    step_until(&mut harness, "both photos", |app| app.photos.len() == 2);
    let mut paths: Vec<_> = harness.state().photos.iter().map(|p| p.path.clone()).collect();
    paths.sort();
    assert_eq!(paths, [album.join("1920s/wedding.jpg"), album.join("porch.jpg")]);
}

#[test]
fn a_copied_file_is_pasted_as_its_path_or_its_uri() {
    let setup = Setup::new();
    let spaced = setup.dir.path().join("Grandma 1950.jpg");
    let plain = setup.dir.path().join("porch.jpg");
    std::fs::copy(SAMPLE, &spaced).unwrap();
    std::fs::copy(SAMPLE, &plain).unwrap();
    // What GNOME's file manager puts on the clipboard: the action, then each file as a URI.
    let uri = url::Url::from_file_path(&spaced).unwrap().to_string();
    assert!(uri.contains("Grandma%201950"), "{uri}");
    let mut harness = setup.harness();
    harness.input_mut().events.push(egui::Event::Paste(format!("copy\n{uri}\n{}", plain.display())));
    harness.step();
    step_until(&mut harness, "both photos", |app| app.photos.len() == 2);
    let paths: Vec<_> = harness.state().photos.iter().map(|p| p.path.clone()).collect();
    assert_eq!(paths, [spaced, plain]);
}

#[test]
fn ctrl_c_copies_the_colorized_photo_and_a_pasted_picture_joins_the_list() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    let copied = |harness: &Harness<'_, App>| {
        harness.output().platform_output.commands.iter().find_map(|c| match c {
            egui::OutputCommand::CopyImage(image) => Some(image.clone()),
            _ => None,
        })
    };
    drop_files(&mut harness, &[SAMPLE]);
    step_until(&mut harness, "the photo listed", |app| app.selected.is_some());
    // Before the result is in, nothing half-made goes on the clipboard (the render takes longer
    // than a step on a CPU; on a faster machine it may already be there).
    harness.event(egui::Event::Copy);
    harness.step();
    if copied(&harness).is_none() {
        let notice = harness.state().notice.as_ref().map(|n| n.text.clone()).unwrap_or_default();
        assert_eq!(notice, "Wait for walt-whitman.jpg to be colorized, then copy it.");
    } else {
        assert!(all_done(harness.state()));
    }
    step_until(&mut harness, "the render", all_done);
    harness.event(egui::Event::Copy);
    harness.step();
    let image = copied(&harness).expect("the colorized photo on the clipboard");
    let result = harness.state().photos[0].result.as_ref().unwrap().1.to_rgba8();
    assert_eq!(image.size, [result.width() as usize, result.height() as usize]);
    let pixels: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    assert!(pixels == *result.as_raw(), "the clipboard holds the result as it is");
    assert!(harness.state().notice.as_ref().unwrap().text.starts_with("Copied walt-whitman.jpg, colorized"));

    // A picture copied elsewhere (a browser, a chat) is pasted as a photo of its own, kept as a
    // file; a pixel that is partly see-through is saved over white.
    let mut picture = egui::ColorImage::filled([40, 30], egui::Color32::from_gray(90));
    picture.pixels[0] = egui::Color32::from_rgba_unmultiplied(0, 0, 0, 128);
    for _ in 0..2 {
        harness.event(egui::Event::PasteImage(Arc::new(picture.clone())));
        harness.step();
    }
    step_until(&mut harness, "both pasted pictures", |app| app.photos.len() == 3);
    let pasted = setup.dir.path().join("data").join("pasted");
    let paths: Vec<_> = harness.state().photos.iter().skip(1).map(|p| p.path.clone()).collect();
    assert_eq!(paths, [pasted.join("pasted-1.png"), pasted.join("pasted-2.png")]);
    assert_eq!(harness.state().selected, Some(harness.state().photos[2].id), "the last pasted is on screen");
    let saved = image::open(&paths[0]).unwrap().to_rgb8();
    assert_eq!(saved.dimensions(), (40, 30));
    assert_eq!(saved.get_pixel(1, 0).0, [90, 90, 90]);
    assert_eq!(saved.get_pixel(0, 0).0, [127, 127, 127]);
    step_until(&mut harness, "the pasted pictures colorized", all_done);

    // A photo that failed says why it cannot be copied.
    let broken = setup.dir.path().join("broken.jpg");
    std::fs::write(&broken, "not a picture").unwrap();
    drop_files(&mut harness, &[broken.to_str().unwrap()]);
    step_until(&mut harness, "the broken file failed", |app| {
        app.photos.iter().any(|p| p.path == broken && matches!(p.status, Status::Failed(_)))
    });
    let id = harness.state().photos.iter().find(|p| p.path == broken).unwrap().id;
    harness.state_mut().copy_result(id);
    let notice = harness.state().notice.as_ref().unwrap();
    let says_why = notice.error && notice.text.starts_with("Not copied: ") && notice.text.contains("broken.jpg");
    assert!(says_why, "{}", notice.text);
}

#[test]
fn photos_opened_again_from_the_file_manager_join_the_open_window() {
    let setup = Setup::new();
    let porch = setup.dir.path().join("porch.jpg");
    std::fs::copy(SAMPLE, &porch).unwrap();
    let mut harness = setup.harness();
    // What Explorer or a file manager starts for each photo opened with Tintype.
    let mut opened = std::process::Command::new(env!("CARGO_BIN_EXE_tintype"))
        .arg(&porch)
        .env("TINTYPE_CONFIG_DIR", setup.dir.path().join("config"))
        .spawn()
        .unwrap();
    step_until(&mut harness, "the handed-over photo", |app| !app.photos.is_empty());
    assert_eq!(harness.state().photos[0].path, porch);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = opened.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the second process did not end once handed over");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
}

#[test]
fn the_delete_key_takes_the_selected_photo_off_the_list() {
    let setup = Setup::new();
    let porch = setup.dir.path().join("porch.jpg");
    std::fs::copy(SAMPLE, &porch).unwrap();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[SAMPLE, porch.to_str().unwrap()]);
    step_until(&mut harness, "both photos", |app| app.photos.len() == 2);
    // Kept absolute, as the list is kept for the next run.
    assert_eq!(harness.state().selected_photo().unwrap().path, std::path::absolute(SAMPLE).unwrap());
    harness.key_press(egui::Key::Delete);
    harness.step();
    let paths: Vec<_> = harness.state().photos.iter().map(|p| p.path.clone()).collect();
    assert_eq!(paths, std::slice::from_ref(&porch));
    assert_eq!(harness.state().selected_photo().unwrap().path, porch);
    assert!(porch.exists() && Path::new(SAMPLE).exists(), "only the list changes");
}

#[test]
fn page_down_and_the_arrows_step_through_the_photos() {
    let setup = Setup::new();
    let porch = setup.dir.path().join("porch.jpg");
    std::fs::copy(SAMPLE, &porch).unwrap();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[SAMPLE, "assets/samples/migrant-mother.jpg", porch.to_str().unwrap()]);
    step_until(&mut harness, "the list", |app| app.photos.len() == 3);
    let selected = |harness: &Harness<'_, App>| harness.state().selected_photo().unwrap().name.clone();
    let press = |harness: &mut Harness<'_, App>, key| {
        harness.key_press(key);
        harness.step();
        selected(harness)
    };
    assert_eq!(selected(&harness), "walt-whitman.jpg");
    assert_eq!(press(&mut harness, egui::Key::PageDown), "migrant-mother.jpg");
    assert_eq!(press(&mut harness, egui::Key::ArrowDown), "porch.jpg");
    assert_eq!(press(&mut harness, egui::Key::ArrowDown), "porch.jpg", "the list's end stops it");
    assert_eq!(press(&mut harness, egui::Key::PageUp), "migrant-mother.jpg");
    // While a control has the keyboard, the arrows are its own.
    slider(&harness, "Colour strength").focus();
    harness.step();
    assert_eq!(press(&mut harness, egui::Key::ArrowUp), "migrant-mother.jpg");
    assert_eq!(press(&mut harness, egui::Key::PageUp), "walt-whitman.jpg", "Page Up still steps");
}

#[test]
fn ctrl_and_shift_click_pick_several_photos_to_turn_export_and_remove() {
    let setup = Setup::new();
    let names = ["a.jpg", "b.jpg", "c.jpg", "d.jpg"];
    for name in names {
        std::fs::copy(SAMPLE, setup.dir.path().join(name)).unwrap();
    }
    let mut harness = setup.harness();
    drop_files(&mut harness, &[setup.dir.path().to_str().unwrap()]);
    step_until(&mut harness, "the list", |app| app.photos.len() == 4);
    let click = |harness: &mut Harness<'_, App>, name: &str, modifiers: egui::Modifiers| {
        row(harness, name).click_modifiers(modifiers);
        harness.step();
        harness.step();
    };
    let picked = |app: &App| {
        let picked = app.picked();
        app.photos.iter().filter(|p| picked.contains(&p.id)).map(|p| p.name.clone()).collect::<Vec<_>>()
    };
    let turns = |app: &App| app.photos.iter().map(|p| p.settings.quarter_turns).collect::<Vec<_>>();
    let ctrl = egui::Modifiers::COMMAND;

    click(&mut harness, "a.jpg", egui::Modifiers::NONE);
    click(&mut harness, "c.jpg", ctrl);
    assert_eq!(picked(harness.state()), ["a.jpg", "c.jpg"]);
    assert_eq!(harness.state().selected_photo().unwrap().name, "c.jpg", "the last clicked is on screen");
    harness.get_by_label_contains("2 picked");
    // Turned together, and taken back together.
    harness.key_press_modifiers(ctrl, egui::Key::R);
    harness.step();
    assert_eq!(turns(harness.state()), [1, 0, 1, 0]);
    harness.key_press_modifiers(ctrl, egui::Key::Z);
    harness.step();
    assert_eq!(turns(harness.state()), [0, 0, 0, 0]);
    // Ctrl+click again takes one out; Shift+click picks a run from the photo last clicked
    // without Shift.
    click(&mut harness, "c.jpg", ctrl);
    assert_eq!(picked(harness.state()), ["a.jpg"]);
    click(&mut harness, "a.jpg", egui::Modifiers::NONE);
    click(&mut harness, "b.jpg", egui::Modifiers::SHIFT);
    assert_eq!(picked(harness.state()), ["a.jpg", "b.jpg"]);
    // A second Shift+click runs from the same photo as the first.
    click(&mut harness, "c.jpg", egui::Modifiers::SHIFT);
    assert_eq!(picked(harness.state()), ["a.jpg", "b.jpg", "c.jpg"]);
    // Exported together: each is colorized and written.
    harness.key_press_modifiers(ctrl, egui::Key::E);
    step_until(&mut harness, "three exports", |app| app.exported.len() == 3);
    let mut written: Vec<String> =
        harness.state().exported.iter().map(|p| p.file_name().unwrap().to_string_lossy().into()).collect();
    written.sort();
    assert_eq!(written, ["a-colorized.png", "b-colorized.png", "c-colorized.png"]);
    // Removed together: the photo after them goes on screen, alone.
    harness.key_press(egui::Key::Delete);
    harness.step();
    let app = harness.state();
    assert_eq!(app.photos.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["d.jpg"]);
    assert_eq!(picked(app), ["d.jpg"]);
    // A plain click picks one photo again; Ctrl+A picks them all.
    std::fs::copy(SAMPLE, setup.dir.path().join("e.jpg")).unwrap();
    drop_files(&mut harness, &[setup.dir.path().join("e.jpg").to_str().unwrap()]);
    step_until(&mut harness, "the new photo", |app| app.photos.len() == 2);
    click(&mut harness, "d.jpg", egui::Modifiers::NONE);
    assert_eq!(picked(harness.state()), ["d.jpg"]);
    harness.key_press_modifiers(ctrl, egui::Key::A);
    harness.step();
    assert_eq!(picked(harness.state()), ["d.jpg", "e.jpg"]);
}

#[test]
fn photos_taken_off_the_list_come_back_with_undo_in_their_places_and_settings() {
    let setup = Setup::new();
    let album = album(&setup, 4);
    let mut harness = setup.harness();
    drop_files(&mut harness, &[album.to_str().unwrap()]);
    step_until(&mut harness, "the list", |app| {
        app.photos.len() == 4 && app.photos.iter().all(|p| p.thumbnail.is_some())
    });
    let names = |app: &App| app.photos.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    let picked = |app: &App| {
        let picked = app.picked();
        app.photos.iter().filter(|p| picked.contains(&p.id)).map(|p| p.name.clone()).collect::<Vec<_>>()
    };
    let notice = |app: &App| app.notice.as_ref().map(|n| n.text.clone()).unwrap_or_default();
    let (ctrl, shift) = (egui::Modifiers::COMMAND, egui::Modifiers::COMMAND | egui::Modifiers::SHIFT);

    // scan-01 turned, then it and scan-02 taken off.
    row(&harness, "scan-01.jpg").click();
    harness.step();
    harness.key_press_modifiers(ctrl, egui::Key::R);
    harness.step();
    row(&harness, "scan-02.jpg").click_modifiers(ctrl);
    harness.step();
    harness.step();
    assert_eq!(picked(harness.state()), ["scan-01.jpg", "scan-02.jpg"]);
    harness.key_press(egui::Key::Delete);
    harness.step();
    assert_eq!(names(harness.state()), ["scan-00.jpg", "scan-03.jpg"]);
    assert_eq!(notice(harness.state()), "Took 2 photos off the list (the files are untouched); Ctrl+Z puts them back.");

    // Undo puts them back where they were, picked, with their own settings and thumbnails.
    harness.key_press_modifiers(ctrl, egui::Key::Z);
    harness.step();
    assert_eq!(names(harness.state()), ["scan-00.jpg", "scan-01.jpg", "scan-02.jpg", "scan-03.jpg"]);
    assert_eq!(picked(harness.state()), ["scan-01.jpg", "scan-02.jpg"]);
    assert_eq!(harness.state().photos[1].settings.quarter_turns, 1);
    assert_eq!(notice(harness.state()), "Put 2 photos back on the list.");
    step_until(&mut harness, "the thumbnails", |app| app.photos.iter().all(|p| p.thumbnail.is_some()));

    // Redo takes them off again; undo once more, then the turn before it, walk back in order.
    harness.key_press_modifiers(shift, egui::Key::Z);
    harness.step();
    assert_eq!(names(harness.state()), ["scan-00.jpg", "scan-03.jpg"]);
    harness.key_press_modifiers(ctrl, egui::Key::Z);
    harness.step();
    harness.key_press_modifiers(ctrl, egui::Key::Z);
    harness.step();
    assert_eq!(names(harness.state()).len(), 4);
    assert_eq!(harness.state().photos[1].settings.quarter_turns, 0, "the turn taken back too");

    // Clear list is one step as well.
    harness.state_mut().clear_list(100.0);
    harness.step();
    assert!(harness.state().photos.is_empty());
    harness.key_press_modifiers(ctrl, egui::Key::Z);
    harness.step();
    assert_eq!(names(harness.state()), ["scan-00.jpg", "scan-01.jpg", "scan-02.jpg", "scan-03.jpg"]);

    // A photo added again after it was taken off is not put back a second time.
    row(&harness, "scan-00.jpg").click();
    harness.step();
    harness.key_press(egui::Key::Delete);
    harness.step();
    assert_eq!(notice(harness.state()), "Took 1 photo off the list (the file is untouched); Ctrl+Z puts it back.");
    drop_files(&mut harness, &[album.join("scan-00.jpg").to_str().unwrap()]);
    step_until(&mut harness, "the photo added again", |app| app.photos.len() == 4);
    harness.key_press_modifiers(ctrl, egui::Key::Z);
    harness.step();
    assert_eq!(names(harness.state()), ["scan-01.jpg", "scan-02.jpg", "scan-03.jpg", "scan-00.jpg"]);
    assert_eq!(notice(harness.state()), "The photo is on the list again already.");
}

#[test]
fn a_right_click_on_a_photo_offers_what_the_toolbar_does_for_it_or_for_the_picked() {
    let setup = Setup::new();
    let (mut harness, _) = still_album(&setup, 4);
    let right_click = |harness: &mut Harness<'_, App>, name: &str| {
        let at = row(harness, name).rect().center();
        harness.event(egui::Event::PointerMoved(at));
        for pressed in [true, false] {
            let (button, modifiers) = (egui::PointerButton::Secondary, egui::Modifiers::NONE);
            harness.event(egui::Event::PointerButton { pos: at, button, pressed, modifiers });
        }
        harness.step();
        harness.step();
    };
    let names = |app: &App| app.photos.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    let picked = |app: &App| {
        let picked = app.picked();
        app.photos.iter().filter(|p| picked.contains(&p.id)).map(|p| p.name.clone()).collect::<Vec<_>>()
    };

    // On a photo not picked: it alone is picked, and the menu acts on it.
    right_click(&mut harness, "scan-02.jpg");
    assert_eq!(picked(harness.state()), ["scan-02.jpg"]);
    harness.get_by_label("Open its folder");
    // The menu's, not the toolbar's above.
    let item = harness.query_all_by_label("Rotate right").find(|n| n.rect().min.y > 40.0);
    item.expect("the menu's Rotate right").click();
    harness.step();
    harness.step();
    let turns: Vec<u8> = harness.state().photos.iter().map(|p| p.settings.quarter_turns).collect();
    assert_eq!(turns, [0, 0, 1, 0]);

    // On one of several picked: the menu acts on them all.
    let first = row(&harness, "scan-00.jpg").rect().center();
    harness.event(egui::Event::PointerMoved(first));
    harness.event(primary_button(first, true));
    harness.event(primary_button(first, false));
    harness.step();
    row(&harness, "scan-01.jpg").click_modifiers(egui::Modifiers::COMMAND);
    harness.step();
    harness.step();
    right_click(&mut harness, "scan-01.jpg");
    assert_eq!(picked(harness.state()), ["scan-00.jpg", "scan-01.jpg"]);
    assert!(harness.query_by_label("Open its folder").is_none(), "one folder per photo");
    harness.get_by_label("Remove 2 photos from the list").click();
    harness.step();
    harness.step();
    assert_eq!(names(harness.state()), ["scan-02.jpg", "scan-03.jpg"]);

    // From the keyboard: Shift+F10 on the focused row opens its menu under it, Export focused;
    // Tab and Enter choose.
    row(&harness, "scan-03.jpg").focus();
    harness.event(egui::Event::PointerMoved(egui::pos2(600.0, 400.0)));
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::F10);
    harness.step();
    harness.step();
    assert_eq!(picked(harness.state()), ["scan-02.jpg"], "the keyboard's menu does not pick by itself");
    harness.get_by_label("Open its folder");
    let focused = harness.query_by(|n| n.is_focused()).expect("a focused item");
    assert_eq!(focused.accesskit_node().label().unwrap_or_default(), "Export");
    let (first, row_rect) = (focused.rect(), row(&harness, "scan-03.jpg").rect());
    let under = (first.min.y - row_rect.max.y).abs() < 12.0 && row_rect.x_range().contains(first.min.x);
    assert!(under, "the menu is under the row, not at the pointer: {first:?}, row {row_rect:?}");
    for _ in 0..2 {
        harness.key_press(egui::Key::Tab);
        harness.step();
    }
    harness.key_press(egui::Key::Enter);
    harness.step();
    harness.step();
    let turns: Vec<u8> = harness.state().photos.iter().map(|p| p.settings.quarter_turns).collect();
    assert_eq!(turns, [1, 3], "scan-03.jpg turned left");
    assert!(harness.query_by_label("Open its folder").is_none(), "the menu closed");

    // With nothing focused (the photo was clicked, which does not focus it), the menu is the
    // photo on screen's.
    let first_id = harness.state().photos[0].id;
    harness.state_mut().pick(first_id, egui::Modifiers::NONE);
    harness.ctx.memory_mut(|m| m.surrender_focus(m.focused().unwrap_or(egui::Id::NULL)));
    harness.step();
    assert!(harness.query_by(|n| n.is_focused()).is_none());
    harness.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::F10);
    harness.step();
    harness.step();
    let first = harness.query_by(|n| n.is_focused()).expect("the menu's first item").rect();
    let row_rect = row(&harness, "scan-02.jpg").rect();
    assert!((first.min.y - row_rect.max.y).abs() < 12.0, "under scan-02.jpg: {first:?}, row {row_rect:?}");
}

#[test]
fn a_click_made_as_a_render_ends_goes_to_the_row_under_the_pointer() {
    let setup = Setup::new();
    let (mut harness, _) = still_album(&setup, 30);
    // The mouse button goes down on a row while the top photo's progress bar shows, and comes
    // up after its render has ended and the bar has gone: first with the top row in sight, then
    // with it scrolled out of sight.
    let press_and_release_on = |harness: &mut Harness<'_, App>, name: &str| {
        let was = std::mem::replace(&mut harness.state_mut().photos[0].status, Status::Working(Stage::Colorizing));
        harness.step();
        let pointer = row(harness, name).rect().center();
        harness.event(egui::Event::PointerMoved(pointer));
        harness.event(primary_button(pointer, true));
        harness.step();
        harness.state_mut().photos[0].status = was;
        harness.event(primary_button(pointer, false));
        harness.step();
        harness.step();
        assert_eq!(harness.state().selected_photo().unwrap().name, name);
    };
    press_and_release_on(&mut harness, "scan-01.jpg");
    press_and_release_on(&mut harness, "scan-02.jpg");
    for _ in 0..25 {
        harness.key_press(egui::Key::PageDown);
        harness.step();
    }
    harness.step();
    assert!(harness.query_by_label_contains("scan-00.jpg").is_none(), "the top row is out of sight");
    press_and_release_on(&mut harness, "scan-26.jpg");
}

#[test]
fn a_long_list_lays_out_only_the_rows_in_sight_and_follows_the_keyboard() {
    let setup = Setup::new();
    let album = album(&setup, 60);
    let mut harness = setup.harness();
    drop_files(&mut harness, &[album.to_str().unwrap()]);
    step_until(&mut harness, "the list", |app| app.photos.len() == 60);
    harness.step();
    let rows = |harness: &Harness<'_, App>| {
        harness.query_all_by_label_contains("scan-").filter(|n| n.accesskit_node().role() == Role::Button).count()
    };
    // 60 rows of 56 px do not fit the window: the rows out of sight are not built.
    assert!((8..20).contains(&rows(&harness)), "{} rows built", rows(&harness));
    // Stepped far down, the photo on screen is scrolled into sight, and rows are built there.
    for _ in 0..45 {
        harness.key_press(egui::Key::PageDown);
        harness.step();
    }
    harness.step();
    assert_eq!(harness.state().selected_photo().unwrap().name, "scan-45.jpg");
    let rect = row(&harness, "scan-45.jpg").rect();
    assert!(rect.min.y >= 0.0 && rect.max.y <= SIZE[1], "row at {rect:?}");
    assert!(harness.query_by_label_contains("scan-00.jpg").is_none());

    // Scrolled back to the top with the wheel, the photo on screen is out of sight; Shift+F10
    // brings its row back and opens its menu under it.
    harness.event(egui::Event::PointerMoved(egui::pos2(100.0, 300.0)));
    harness.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, 5000.0),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Unknown,
        modifiers: egui::Modifiers::NONE,
    });
    for _ in 0..20 {
        harness.step();
    }
    let built = |harness: &Harness<'_, App>, name: &str| {
        harness.query_all_by_label_contains(name).any(|n| n.accesskit_node().role() == Role::Button)
    };
    assert!(!built(&harness, "scan-45.jpg") && built(&harness, "scan-00.jpg"), "scrolled back to the top");
    harness.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::F10);
    for _ in 0..4 {
        harness.step();
    }
    let first = harness.query_by(|n| n.is_focused()).expect("the menu's first item").rect();
    let rect = row(&harness, "scan-45.jpg").rect();
    assert!(rect.min.y >= 0.0 && rect.max.y <= SIZE[1], "row at {rect:?}");
    // At the foot of the list there is no room under the row: the menu opens over it.
    let under = (first.min.y - rect.max.y).abs() < 12.0;
    let over = first.max.y < rect.min.y && rect.min.y - first.min.y < 300.0;
    assert!((under || over) && rect.x_range().contains(first.min.x), "by scan-45.jpg: {first:?}, row {rect:?}");
}

#[test]
fn a_failed_photo_added_again_is_tried_again() {
    let setup = Setup::new();
    let scan = setup.dir.path().join("scan.jpg");
    std::fs::write(&scan, b"half a copy").unwrap();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[scan.to_str().unwrap()]);
    step_until(&mut harness, "the failure", all_done);
    assert!(matches!(harness.state().photos[0].status, Status::Failed(_)));
    // Copied again, in full, and dropped again.
    std::fs::copy(SAMPLE, &scan).unwrap();
    drop_files(&mut harness, &[scan.to_str().unwrap()]);
    step_until(&mut harness, "the render", |app| app.photos[0].status == Status::Done);
    assert_eq!(harness.state().photos.len(), 1, "the same photo, not a second entry");
}

#[test]
fn a_long_list_keeps_only_so_much_in_memory() {
    let setup = Setup::new();
    let porch = setup.dir.path().join("porch.jpg");
    std::fs::copy(SAMPLE, &porch).unwrap();
    let mut harness = setup.harness();
    // Room for nothing but what is on screen or being exported.
    harness.state_mut().pixel_budget = 1;
    drop_files(&mut harness, &[SAMPLE, "assets/samples/migrant-mother.jpg", porch.to_str().unwrap()]);
    step_until(&mut harness, "the list", |app| app.photos.len() == 3);
    step_until(&mut harness, "the renders", |app| app.photos.iter().all(|p| p.status == Status::Done));
    let held =
        |app: &App| app.photos.iter().filter(|p| p.pixel_bytes() > 0).map(|p| p.name.clone()).collect::<Vec<_>>();
    assert_eq!(held(harness.state()), ["walt-whitman.jpg"], "only the photo on screen keeps its pixels");
    assert_eq!(harness.query_all_by_label_contains("\ndone").count(), 3, "each is listed as done");
    assert_eq!(harness.state().renders_finished, 3);

    // New settings for every photo: only the photo on screen is rendered again; the others,
    // let go, wait until they are shown or exported.
    slider(&harness, "Colour strength").set_value_accesskit(1.2);
    harness.step();
    harness.step();
    harness.get_by_label("Apply to all photos").click();
    harness.step();
    assert!(harness.state().photos.iter().all(|p| p.settings.chroma.saturation == 1.2));
    step_until(&mut harness, "the new render", |app| {
        app.photos[0].result.as_ref().is_some_and(|(k, _)| k.settings.chroma.saturation == 1.2)
    });
    for _ in 0..20 {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(harness.state().renders_finished, 4);
    assert!(harness.query_by_label("walt-whitman.jpg\ndone").is_some());
    assert!(harness.query_by_label("migrant-mother.jpg\ndone (older settings)").is_some());

    // Shown again: rendered again, and the one shown before lets go.
    let porch_id = harness.state().photos[2].id;
    harness.state_mut().selected = Some(porch_id);
    step_until(&mut harness, "the render", |app| app.photos[2].result.is_some());
    assert_eq!(harness.state().renders_finished, 5);
    assert_eq!(held(harness.state()), ["porch.jpg"]);

    // Exported: each is rendered again in turn, and every file is whole.
    harness.state_mut().export_all();
    step_until(&mut harness, "the batch", |app| app.export_batch.is_none());
    let app = harness.state();
    assert_eq!(app.exported.len(), 3);
    let mut sizes: Vec<_> = app.exported.iter().map(|f| image::image_dimensions(f).unwrap()).collect();
    sizes.sort();
    assert_eq!(sizes, [(768, 621), (768, 621), (1396, 1080)]);
    assert_eq!(held(app), ["porch.jpg"]);
}

#[test]
fn a_first_try_needs_no_photo_of_ones_own() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    harness.get_by_label("Or try the sample photos").click();
    step_until(&mut harness, "the samples", |app| app.photos.len() == 2);
    let names: Vec<_> = harness.state().photos.iter().map(|p| p.name.clone()).collect();
    assert_eq!(names, ["migrant-mother.jpg", "walt-whitman.jpg"]);
    step_until(&mut harness, "the first render", |app| app.renders_finished > 0);
    // With photos in the list, the offer goes.
    assert!(harness.query_by_label("Or try the sample photos").is_none());
}

#[test]
fn a_folder_above_the_export_folder_does_not_bring_back_the_exports() {
    let setup = Setup::new();
    let album = setup.dir.path().join("album");
    std::fs::create_dir_all(&album).unwrap();
    std::fs::create_dir_all(setup.export_dir()).unwrap();
    std::fs::copy(SAMPLE, album.join("porch.jpg")).unwrap();
    std::fs::copy(SAMPLE, setup.export_dir().join("porch-colorized.jpg")).unwrap();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[setup.dir.path().to_str().unwrap()]);
    step_until(&mut harness, "the photo", |app| !app.photos.is_empty());
    for _ in 0..20 {
        harness.step();
    }
    let paths: Vec<_> = harness.state().photos.iter().map(|p| p.path.clone()).collect();
    assert_eq!(paths, [album.join("porch.jpg")]);
    // The export folder dropped on purpose is taken as it is.
    drop_files(&mut harness, &[setup.export_dir().to_str().unwrap()]);
    step_until(&mut harness, "the export", |app| app.photos.len() == 2);
}

#[test]
fn the_whole_flow_works_from_the_keyboard() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[SAMPLE]);
    step_until(&mut harness, "the first render", all_done);

    // Tab walks every control; each one has a name a screen reader reads.
    let mut seen = Vec::new();
    for _ in 0..60 {
        harness.key_press(egui::Key::Tab);
        harness.step();
        if let Some(node) = harness.query_by(|n| n.is_focused()) {
            let label = node.accesskit_node().label().unwrap_or_default();
            assert!(!label.is_empty(), "a focusable control without a name: {node:?}");
            if !seen.contains(&label) {
                seen.push(label);
            }
        }
    }
    for wanted in [
        "Add photos…",
        "Rotate left",
        "Rotate right",
        "Before/after split",
        "Render size",
        "Fading repair",
        "Colour strength",
        "Warmth",
        "Tint",
        "Export",
        "Export all",
    ] {
        assert!(seen.iter().any(|s| s == wanted), "Tab never reached {wanted:?}; reached {seen:?}");
    }

    // Keyboard: change the colour strength, then press Export with Enter.
    let strength = slider(&harness, "Colour strength");
    strength.focus();
    harness.step();
    harness.step();
    harness.key_press(egui::Key::ArrowRight);
    harness.step();
    let value: f32 = harness.state().prefs.saturation;
    assert!(value > 1.0, "the arrow key raised the colour strength: {value}");
    step_until(&mut harness, "the new render", |app| {
        app.photos[0].result.as_ref().is_some_and(|(k, _)| k.settings.chroma.saturation == value)
    });
    harness.get_by_label("Export").focus();
    harness.step();
    harness.key_press(egui::Key::Enter);
    step_until(&mut harness, "the export", |app| !app.exported.is_empty());
    let exported = &harness.state().exported[0];
    assert!(exported.is_file());
    // Its record says how it was made.
    let description = tintype::io::provenance::read_description(exported).unwrap_or_default();
    assert!(description.contains(&format!("render factor 35, colour strength {value:.2})")), "{description:?}");
}

#[test]
fn f1_opens_help_with_the_keys_the_folders_and_the_credits_and_f11_the_full_screen() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    harness.key_press(egui::Key::F1);
    harness.step();
    harness.get_by_label("Copy the colorized photo on screen");
    harness.get_by_label("Ctrl+C");
    harness.get_by_label_contains("Jason Antic");
    harness.get_by_label_contains("non-commercial research use only");
    // Each folder is named where it is, and a click on one not made yet says so.
    let pasted = setup.dir.path().join("data").join("pasted");
    harness.get_by_label(pasted.display().to_string().as_str()).click();
    harness.step();
    let notice = harness.state().notice.as_ref().map(|n| n.text.clone()).unwrap_or_default();
    assert_eq!(notice, format!("{} holds nothing yet.", pasted.display()));
    harness.get_by_label(&setup.export_dir().display().to_string());
    harness.get_by_label(&setup.dir.path().join("config").display().to_string());
    // The folders are temporary ones, named differently each run.
    let temporary = setup.dir.path().display().to_string();
    let folders: Vec<egui::Rect> = harness.query_all_by_label_contains(&temporary).map(|n| n.rect()).collect();
    assert_eq!(
        folders.len(),
        6,
        "settings, models, pasted pictures, thumbnails, exports, and the controls' export folder"
    );
    for rect in folders {
        harness.mask(rect);
    }
    snapshot(&mut harness, "help");
    let help_shown =
        |harness: &Harness<'_, App>| harness.query_by_label("Copy the colorized photo on screen").is_some();
    harness.key_press(egui::Key::F1);
    harness.step();
    assert!(!help_shown(&harness), "F1 closes it again");
    harness.key_press(egui::Key::F1);
    harness.step();
    harness.key_press(egui::Key::Escape);
    harness.step();
    assert!(!help_shown(&harness), "Escape closes it");
    // F11 asks for the full screen.
    // (Only the press, so that the frame it asks in is the last one.)
    let (key, modifiers) = (egui::Key::F11, egui::Modifiers::NONE);
    harness.event(egui::Event::Key { key, physical_key: None, pressed: true, repeat: false, modifiers });
    harness.step();
    let root = &harness.output().viewport_output[&egui::ViewportId::ROOT];
    assert!(root.commands.contains(&egui::ViewportCommand::Fullscreen(true)), "{:?}", root.commands);
    // In the full screen, Escape leaves it.
    harness.input_mut().viewports.entry(egui::ViewportId::ROOT).or_default().fullscreen = Some(true);
    let key = egui::Key::Escape;
    harness.event(egui::Event::Key { key, physical_key: None, pressed: true, repeat: false, modifiers });
    harness.step();
    let root = &harness.output().viewport_output[&egui::ViewportId::ROOT];
    assert!(root.commands.contains(&egui::ViewportCommand::Fullscreen(false)), "{:?}", root.commands);
}

#[test]
fn tint_turns_the_result_towards_magenta() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[SAMPLE]);
    step_until(&mut harness, "the first render", all_done);
    // Magenta is red and blue over green: (R + B) / 2 − G, averaged over the picture.
    let magenta = |app: &App| {
        let image = app.photos[0].result.as_ref().expect("a result").1.to_rgb8();
        let sum: f64 = image.pixels().map(|p| (p[0] as f64 + p[2] as f64) / 2.0 - p[1] as f64).sum();
        sum / (image.width() * image.height()) as f64
    };
    let before = magenta(harness.state());
    slider(&harness, "Tint").set_value_accesskit(1.0);
    step_until(&mut harness, "the tinted render", |app| {
        app.photos[0].result.as_ref().is_some_and(|(k, _)| k.settings.chroma.tint == 1.0)
    });
    let after = magenta(harness.state());
    assert!(after > before + 5.0, "tint 1 moved the mean magenta from {before:.1} to {after:.1}");
}

#[test]
fn settings_are_kept_between_runs() {
    let setup = Setup::new();
    {
        let mut harness = setup.harness();
        slider(&harness, "Fading repair").set_value_accesskit(0.5);
        harness.step();
        slider(&harness, "Render size").set_value_accesskit(24.0);
        harness.step();
        slider(&harness, "Tint").set_value_accesskit(-0.25);
        // Saved once the sliders settle, on a thread of its own.
        let file = setup.dir.path().join("config/settings.toml");
        step_until(&mut harness, "the settings file", |_| {
            std::fs::read_to_string(&file).is_ok_and(|t| t.contains("render_factor = 24") && t.contains("tint = -0.25"))
        });
    }
    let harness = setup.harness();
    assert_eq!(harness.state().prefs.render_factor, 24);
    assert_eq!(harness.state().prefs.defade, 0.5);
    assert_eq!(harness.state().prefs.tint, -0.25);
}

#[test]
fn the_photo_list_is_kept_between_runs() {
    let setup = Setup::new();
    let gone = setup.dir.path().join("lent-album-page.jpg");
    std::fs::copy(SAMPLE, &gone).unwrap();
    {
        let mut harness = setup.harness();
        drop_both_samples_and_render(&mut harness);
        drop_files(&mut harness, &[gone.to_str().unwrap()]);
        step_until(&mut harness, "the third photo", |app| app.photos.len() == 3);
        // The second photo tuned and turned, and left on screen.
        row(&harness, "migrant-mother.jpg").click();
        harness.step();
        slider(&harness, "Colour strength").set_value_accesskit(1.4);
        harness.get_by_label("Rotate right").click();
        harness.step();
        // Kept on quit (and every half minute).
        harness.state_mut().save_prefs();
    }
    std::fs::remove_file(&gone).unwrap();

    let mut harness = setup.harness();
    // The photo moved away is taken off once the loader has looked for it.
    step_until(&mut harness, "the missing photo to leave", |app| app.photos.len() == 2);
    let app = harness.state();
    let names: Vec<&str> = app.photos.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["walt-whitman.jpg", "migrant-mother.jpg"]);
    assert!(app.photos.iter().all(|p| p.path.is_absolute()));
    assert_eq!(app.selected, Some(app.photos[1].id));
    let tuned = app.photos[1].settings.clone();
    assert_eq!((tuned.chroma.saturation, tuned.quarter_turns), (1.4, 1));
    assert_eq!(app.photos[0].settings.chroma.saturation, 1.0);
    // It is named, with what to do.
    let notice = app.notice.as_ref().expect("a word about the missing photo");
    assert!(notice.text.contains("lent-album-page.jpg") && notice.text.contains("add it again"), "{}", notice.text);

    // Only the photo on screen is rendered; the other waits until it is shown.
    step_until(&mut harness, "the photo on screen", |app| app.photos[1].status == Status::Done);
    for _ in 0..20 {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    let app = harness.state();
    assert_eq!(app.renders_finished, 1);
    assert_eq!(app.photos[0].status, Status::Idle);
    harness.get_by_label("walt-whitman.jpg\ncolorized when shown");
    let (key, result) = app.photos[1].result.clone().unwrap();
    assert_eq!(key.settings, tuned);
    assert!(result.height() > result.width(), "turned on its side: {}x{}", result.width(), result.height());
    row(&harness, "walt-whitman.jpg").click();
    step_until(&mut harness, "the other photo, once shown", all_done);
    assert!(harness.state().photos[0].thumbnail.is_some());

    // Cleared (through the menu, not at one click), the list stays empty next time.
    harness.get_by_label("Clear list").click();
    harness.step();
    harness.step();
    assert_eq!(harness.state().photos.len(), 2);
    harness.get_by_label("Take all 2 photos off the list").click();
    harness.step();
    assert!(harness.state().photos.is_empty() && harness.state().selected.is_none());
    harness.state_mut().save_prefs();
    drop(harness);
    assert!(setup.harness().state().photos.is_empty());
}

#[test]
fn the_photo_on_screen_is_kept_as_soon_as_it_is_picked() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    drop_files(&mut harness, &["assets/samples/walt-whitman.jpg", "assets/samples/migrant-mother.jpg"]);
    step_until(&mut harness, "both photos listed", |app| app.photos.len() == 2);
    row(&harness, "migrant-mother.jpg").click();
    harness.step();
    // No quit and no half-minute save: a run that ends in a crash still comes back to it.
    let config = setup.options().config_dir.unwrap();
    step_until(&mut harness, "the photo on screen in the kept list", |_| {
        KeptList::load(&config).0.selected.is_some_and(|p| p.ends_with("migrant-mother.jpg"))
    });
}

#[test]
fn a_photo_opened_with_tintype_joins_the_kept_list_on_screen() {
    let setup = Setup::new();
    {
        let mut harness = setup.harness();
        drop_both_samples_and_render(&mut harness);
        harness.state_mut().save_prefs();
    }
    // Opened again by name (one already on the list, one new): no twin, and it is on screen.
    let porch = setup.dir.path().join("porch.jpg");
    std::fs::copy(SAMPLE, &porch).unwrap();
    for (open, count) in [("assets/samples/migrant-mother.jpg", 2), (porch.to_str().unwrap(), 3)] {
        let mut harness = setup.harness_opening(vec![PathBuf::from(open)]);
        step_until(&mut harness, "the photo opened", |app| {
            app.photos.len() == count && app.selected_photo().is_some_and(|p| p.path.ends_with(open))
        });
        harness.state_mut().save_prefs();
    }
}

#[test]
fn closing_while_a_photo_renders_is_prompt_and_clean() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    drop_files(&mut harness, &["assets/samples/migrant-mother.jpg"]);
    step_until(&mut harness, "work to start", |app| {
        app.photos.first().is_some_and(|p| matches!(p.status, Status::Working(_)))
    });
    let start = Instant::now();
    drop(harness);
    assert!(start.elapsed() < Duration::from_secs(30), "closing waited {:?}", start.elapsed());
}

/// The window's close button, as the windowing layer reports it.
fn request_close(harness: &mut Harness<'_, App>) {
    let root = harness.input_mut().viewports.entry(egui::ViewportId::ROOT).or_default();
    root.events.push(egui::ViewportEvent::Close);
    harness.step();
}

#[test]
fn closing_with_photos_still_to_save_asks_first() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    request_close(&mut harness);
    assert_eq!(harness.state().quit, Quit::No, "nothing to save: the window just closes");

    drop_files(&mut harness, &[SAMPLE, "assets/samples/migrant-mother.jpg"]);
    step_until(&mut harness, "the list", |app| app.photos.len() == 2);
    harness.state_mut().export_all();
    request_close(&mut harness);
    assert_eq!(harness.state().quit, Quit::Asking);
    harness.run_steps(2);
    assert!(harness.query_by_label_contains("still to be saved to").is_some());
    harness.get_by_label("Quit when saved").click();
    step_until(&mut harness, "the exports", |app| app.exported.len() == 2);
    // The window closes itself once the last file is written, not before.
    assert_eq!(harness.state().quit, Quit::Now);
    assert_eq!(harness.state().exports_unfinished(), 0);
}

#[test]
fn a_missing_model_says_how_to_get_it() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[SAMPLE, "assets/samples/migrant-mother.jpg"]);
    step_until(&mut harness, "the list", |app| app.photos.len() == 2);
    // The first photo colorized with the built-in model, the second still waiting.
    step_until(&mut harness, "the first render", |app| app.photos[0].status == Status::Done);
    harness.get_by_role_and_label(Role::ComboBox, "Model").click();
    harness.run_steps(3);
    harness.get_by_label("DeOldify Artistic (not installed)").click();
    step_until(&mut harness, "the message", |app| app.model_problem().is_some());
    let message = harness.state().model_problem().unwrap();
    assert!(message.contains("not installed") && message.contains("Download"), "{message}");
    assert!(harness.query_by_label(&message).is_some(), "said above the canvas");
    harness.get_by_label("Download DeOldify Artistic");
    harness.get_by_label("Import a file…");
    // No photo is held to blame for the missing model.
    assert!(harness.state().photos.iter().all(|p| !matches!(p.status, Status::Failed(_))));
    // Back to the built-in model: the message goes and every photo is colorized.
    harness.get_by_role_and_label(Role::ComboBox, "Model").click();
    harness.run_steps(3);
    harness.get_by_role_and_label(Role::Button, "Built-in (fast)").click();
    step_until(&mut harness, "the renders", |app| app.photos.iter().all(|p| p.status == Status::Done));
    assert_eq!(harness.state().model_problem(), None);
    assert!(harness.query_by_label(&message).is_none());
}

#[test]
fn a_model_file_that_will_not_load_is_blamed_not_the_photos() {
    let setup = Setup::new();
    let broken = setup.dir.path().join("my-model.safetensors");
    std::fs::write(&broken, b"half a download").unwrap();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[SAMPLE, "assets/samples/migrant-mother.jpg"]);
    step_until(&mut harness, "the list", |app| app.photos.len() == 2);
    step_until(&mut harness, "the first render", |app| app.photos[0].status == Status::Done);
    let app = harness.state_mut();
    app.prefs.model = ModelPick::File(broken);
    app.settings_changed(0.0);
    step_until(&mut harness, "the message", |app| app.model_problem().is_some());
    let message = harness.state().model_problem().unwrap();
    assert!(message.contains("my-model.safetensors"), "{message}");
    assert!(harness.query_by_label(&message).is_some(), "said above the canvas");
    // The worker is not asked again and again: the photos keep what they had.
    harness.run_steps(20);
    let statuses: Vec<_> = harness.state().photos.iter().map(|p| p.status.clone()).collect();
    assert_eq!(statuses, [Status::Done, Status::Idle]);
    // Another model: the message goes and the rest is colorized.
    harness.get_by_role_and_label(Role::ComboBox, "Model").click();
    harness.run_steps(3);
    harness.get_by_role_and_label(Role::Button, "Built-in (fast)").click();
    step_until(&mut harness, "the renders", |app| app.photos.iter().all(|p| p.status == Status::Done));
    assert_eq!(harness.state().model_problem(), None);
}

#[test]
fn a_file_of_several_pictures_says_only_the_first_is_colorized() {
    let setup = Setup::new();
    let mut file = std::io::Cursor::new(Vec::new());
    let mut tiff = tiff::encoder::TiffEncoder::new(&mut file).unwrap();
    let page = image::open(SAMPLE).unwrap().to_rgb8();
    for _ in 0..3 {
        tiff.write_image::<tiff::encoder::colortype::RGB8>(page.width(), page.height(), page.as_raw()).unwrap();
    }
    let album = setup.dir.path().join("album.tif");
    std::fs::write(&album, file.into_inner()).unwrap();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[album.to_str().unwrap()]);
    step_until(&mut harness, "the render", all_done);
    assert_eq!(harness.state().photos[0].other_pictures, 2);
    assert!(harness.query_by_label_contains("The first of 3 pictures in this file").is_some());
}

#[test]
fn models_at_hand_are_compared_on_the_photo_and_one_is_picked() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[SAMPLE]);
    step_until(&mut harness, "the first render", all_done);
    assert!(harness.query_by_label("Compare models…").is_none(), "nothing to compare with the built-in model alone");
    // A weight file in use (one that will not load): now there are two.
    let broken = setup.dir.path().join("my-model.safetensors");
    std::fs::write(&broken, b"half a download").unwrap();
    let app = harness.state_mut();
    app.prefs.model = ModelPick::File(broken);
    app.settings_changed(0.0);
    step_until(&mut harness, "the message", |app| app.model_problem().is_some());
    harness.get_by_label("Compare models…").click();
    step_until(&mut harness, "both tiles", |app| {
        app.sheet.as_ref().is_some_and(|s| s.tiles.iter().all(|t| t.render.is_some()))
    });
    let sheet = harness.state().sheet.clone().unwrap();
    let labels: Vec<&str> = sheet.tiles.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels, ["Built-in (fast)", "my-model.safetensors"]);
    assert!(matches!(sheet.tiles[0].render, Some(Ok(_))) && sheet.tiles[0].took.is_some());
    assert!(matches!(&sheet.tiles[1].render, Some(Err(why)) if why.contains("my-model.safetensors")));
    assert!(harness.query_by_label_contains("Built-in (fast) · ").is_some(), "the time it took is shown");
    // A sheet opened again numbers its renders anew: one made for the sheet before never lands
    // in it.
    harness.key_press(egui::Key::Escape);
    harness.step();
    assert!(harness.state().sheet.is_none());
    harness.get_by_label("Compare models…").click();
    harness.step();
    let again = harness.state().sheet.as_ref().unwrap().first_job;
    assert!(again >= sheet.first_job + sheet.tiles.len() as u64, "{again} after {}", sheet.first_job);
    step_until(&mut harness, "both tiles again", |app| {
        app.sheet.as_ref().is_some_and(|s| s.tiles.iter().all(|t| t.render.is_some()))
    });
    // Picking the built-in one uses it for the photos; the message goes.
    harness.get_by_role_and_label(Role::Button, "Built-in (fast)").click();
    harness.step();
    assert!(harness.state().sheet.is_none());
    assert_eq!(harness.state().prefs.model, ModelPick::BuiltIn);
    step_until(&mut harness, "the render", all_done);
    assert_eq!(harness.state().model_problem(), None);
}

#[test]
fn a_photo_is_shown_as_soon_as_it_is_read() {
    // A model that will not load stops every photo after it is read, before it is colorized.
    let setup = Setup::new();
    let broken = setup.dir.path().join("my-model.safetensors");
    std::fs::write(&broken, b"half a download").unwrap();
    let mut harness = setup.harness();
    harness.state_mut().prefs.model = ModelPick::File(broken);
    drop_files(&mut harness, &[SAMPLE]);
    step_until(&mut harness, "the model's failure", |app| app.model_problem().is_some());
    let photo = &harness.state().photos[0];
    assert!(photo.original.is_some() && photo.result.is_none());
    assert!(harness.query_by_label_contains("waits for a model").is_none(), "the photo is on the canvas, not a hint");
}

#[test]
fn a_photo_waiting_for_a_model_is_shown() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    harness.state_mut().prefs.model = ModelPick::Installed("artistic".into());
    drop_files(&mut harness, &[SAMPLE, "assets/samples/migrant-mother.jpg"]);
    step_until(&mut harness, "the list", |app| app.photos.len() == 2);
    step_until(&mut harness, "the photo on screen read", |app| app.photos[0].original.is_some());
    step_until(&mut harness, "the read to end", |app| app.photos[0].status == Status::Idle);
    let app = harness.state();
    assert!(app.model_problem().is_some_and(|m| m.contains("not installed")));
    assert!(app.photos[0].result.is_none(), "nothing colorized without a model");
    assert!(app.photos[1].original.is_none(), "only the photo on screen is read");
    assert!(harness.query_by_label_contains("waits for a model").is_none(), "the photo is on the canvas, not a hint");
    // Another photo picked is read in its turn, and nothing is read again and again.
    harness.state_mut().selected = Some(harness.state().photos[1].id);
    step_until(&mut harness, "the second photo read", |app| app.photos[1].original.is_some());
    step_until(&mut harness, "the read to end", |app| app.photos[1].status == Status::Idle);
    harness.run_steps(10);
    assert!(harness.state().photos.iter().all(|p| p.status == Status::Idle));
}

#[test]
fn a_dropped_weight_file_is_imported_or_refused_with_its_name() {
    let setup = Setup::new();
    let bad = setup.dir.path().join("ColorizeArtistic_gen.pth");
    std::fs::write(&bad, b"<html>404 Not Found</html>").unwrap();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[bad.to_str().unwrap()]);
    step_until(&mut harness, "the import to end", |app| app.notice.as_ref().is_some_and(|n| n.error));
    let notice = &harness.state().notice.as_ref().unwrap().text;
    assert!(notice.contains("ColorizeArtistic_gen.pth"), "{notice}");
    assert!(harness.state().photos.is_empty(), "a weight file is not added as a photo");
    // Nothing half-imported is left in the models folder.
    let models = setup.dir.path().join("data/models");
    let left: Vec<_> = std::fs::read_dir(&models).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(left.iter().all(|p| p.is_dir()), "left in the models folder: {left:?}");
}

#[test]
fn a_picture_wider_than_a_texture_is_shown_as_tiles() {
    let setup = Setup::new();
    let wide = setup.dir.path().join("panorama.png");
    image::GrayImage::from_fn(9000, 200, |x, y| image::Luma([((x / 40 + y) % 256) as u8])).save(&wide).unwrap();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[wide.to_str().unwrap()]);
    step_until(&mut harness, "the render", all_done);
    assert_eq!(harness.state().photos[0].status, Status::Done);
    // 9000 px across is more than one texture may hold (the GPU's limit, at most 8192).
    let side = harness.ctx.input(|i| i.max_texture_side).clamp(256, 8192);
    assert!(side < 9000);
    assert_eq!(harness.state().viewer.after_tiles(), 9000usize.div_ceil(side));
    // Zoom in starts from the fitted scale (a few percent for 9000 px), not from 100 %.
    harness.get_by_label("Zoom in").click();
    harness.step();
    let zoom = harness.state().viewer.zoom_percent().expect("zoomed in");
    assert!(zoom < 20.0, "one step in from fit gave {zoom} %");
}

#[test]
fn a_double_click_shows_the_photo_at_100_percent_under_the_pointer_and_fits_it_again() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[SAMPLE]);
    step_until(&mut harness, "the render", all_done);
    let canvas = harness.get_by_role(Role::Image).rect();
    let offset = egui::vec2(120.0, -80.0);
    let pointer = canvas.center() + offset;
    let double_click = |harness: &mut Harness<'_, App>| {
        harness.event(egui::Event::PointerMoved(pointer));
        for pressed in [true, false, true, false] {
            harness.event(primary_button(pointer, pressed));
        }
        harness.step();
        harness.step();
    };
    double_click(&mut harness);
    assert_eq!(harness.state().viewer.zoom_percent(), Some(100.0));
    // The point of the photo under the pointer stays there: fitted, it was `offset / fit` from
    // the photo's centre (768 × 621 px); at 100 % it is `offset` from the view's centre.
    let fit = (canvas.width() / 768.0).min(canvas.height() / 621.0);
    let under_pointer = egui::pos2(384.0, 310.5) + offset / fit;
    let centre = harness.state().viewer.centre().expect("zoomed in");
    assert!((centre + offset - under_pointer).length() < 1.0, "{centre:?} + {offset:?} against {under_pointer:?}");
    // A moment later (not a third click of the first two).
    for _ in 0..10 {
        harness.step();
    }
    double_click(&mut harness);
    assert_eq!(harness.state().viewer.zoom_percent(), None, "fitted again");
}

#[test]
fn a_pan_goes_on_when_a_message_appears_above_the_picture() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[SAMPLE]);
    step_until(&mut harness, "the render", all_done);
    harness.state_mut().prefs.view = ViewMode::SideBySide;
    harness.get_by_label("Zoom in").click();
    harness.step();
    harness.get_by_label("Zoom in").click();
    harness.step();
    harness.step();
    let centre = |harness: &Harness<'_, App>| harness.state().viewer.centre().expect("zoomed in");
    let start = centre(&harness);
    let mut pointer = egui::pos2(SIZE[0] / 2.0, SIZE[1] / 2.0);
    harness.event(egui::Event::PointerMoved(pointer));
    harness.event(primary_button(pointer, true));
    harness.step();
    let mut drag_by = |harness: &mut Harness<'_, App>, dx: f32| {
        for _ in 0..4 {
            pointer.x += dx / 4.0;
            harness.event(egui::Event::PointerMoved(pointer));
            harness.step();
        }
    };
    drag_by(&mut harness, -40.0);
    let half_way = centre(&harness);
    assert!(half_way.x > start.x, "the drag pans: {start:?} -> {half_way:?}");
    // The photo fails (a message comes above the picture) while the drag goes on.
    harness.state_mut().photos[0].status = Status::Failed("Out of memory".into());
    drag_by(&mut harness, -40.0);
    harness.event(primary_button(pointer, false));
    harness.step();
    let end = centre(&harness);
    let (first, second) = (half_way.x - start.x, end.x - half_way.x);
    assert!((second - first).abs() < 0.1 * first, "the pan went {first} then {second}");
}

#[test]
fn a_scan_on_its_side_is_turned_upright_and_its_turn_stays_its_own() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    drop_both_samples_and_render(&mut harness);
    let result_size = |app: &App| app.photos[0].shown_result().map(|r| (r.width(), r.height()));
    assert_eq!(result_size(harness.state()), Some((768, 621)));

    harness.get_by_label("Rotate right").click();
    step_until(&mut harness, "the turned render", |app| result_size(app) == Some((621, 768)));
    let photo = &harness.state().photos[0];
    assert_eq!(photo.shown_original().map(|o| (o.width(), o.height())), Some((621, 768)));
    // The turn is not an adjustment to give the other photos.
    assert!(harness.query_by_label("Apply to all photos").is_some_and(|b| b.accesskit_node().is_disabled()));
    assert_eq!(harness.state().prefs.photo_settings().quarter_turns, 0, "photos added next start upright");

    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    step_until(&mut harness, "the render turned back", |app| result_size(app) == Some((768, 621)));
    assert_eq!(harness.state().photos[1].settings.quarter_turns, 0);
}

#[test]
fn the_photo_on_screen_goes_before_a_photo_rendering_behind_it() {
    let setup = Setup::new();
    // A large scan, so that its render is still under way when the change comes.
    let big = setup.dir.path().join("big.png");
    image::open("assets/samples/migrant-mother.jpg")
        .unwrap()
        .resize_exact(6000, 4600, image::imageops::Triangle)
        .save(&big)
        .unwrap();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[SAMPLE]);
    step_until(&mut harness, "the first render", all_done);
    drop_files(&mut harness, &[big.to_str().unwrap()]);
    step_until(&mut harness, "the large scan's render", |app| {
        app.photos.len() == 2 && matches!(app.photos[1].status, Status::Working(Stage::Colorizing))
    });
    slider(&harness, "Colour strength").set_value_accesskit(1.5);
    let strength = |app: &App| app.photos[0].result.as_ref().map(|(key, _)| key.settings.chroma.saturation);
    step_until(&mut harness, "the new render", |app| strength(app) == Some(1.5));
    assert_ne!(harness.state().photos[1].status, Status::Done, "the large scan gave way");
    step_until(&mut harness, "the large scan, after", |app| app.photos[1].status == Status::Done);

    // So does it to a photo selected while it renders.
    let porch = setup.dir.path().join("porch.jpg");
    std::fs::copy(SAMPLE, &porch).unwrap();
    let big_copy = setup.dir.path().join("big-copy.png");
    std::fs::copy(&big, &big_copy).unwrap();
    drop_files(&mut harness, &[big_copy.to_str().unwrap()]);
    step_until(&mut harness, "the second large scan's render", |app| {
        app.photos.len() == 3 && matches!(app.photos[2].status, Status::Working(Stage::Colorizing))
    });
    drop_files(&mut harness, &[porch.to_str().unwrap()]);
    step_until(&mut harness, "the fourth photo", |app| app.photos.len() == 4);
    row(&harness, "porch.jpg").click();
    step_until(&mut harness, "the selected photo's render", |app| app.photos[3].status == Status::Done);
    assert_ne!(harness.state().photos[2].status, Status::Done, "the second large scan gave way");
    step_until(&mut harness, "the second large scan, after", all_done);
}

/// Measures, not asserts (BENCHMARKS.md, "A long list"): one frame's time with 2,000 photos
/// listed, and how long a kept list of 200 large scans takes to show its thumbnails at the
/// first start and at the next. `cargo test --release --test app -- --ignored --nocapture
/// long_list`.
#[test]
#[ignore = "a measurement for BENCHMARKS.md, minutes long"]
fn long_list_timings() {
    fn kept_list(config: &Path, photos: &[PathBuf]) {
        let mut text = String::new();
        for p in photos {
            text += &format!(
                "[[photos]]\npath = {:?}\nrender_factor = 35\ndefade = 0.0\nsaturation = 1.0\nwarmth = 0.0\ntint = 0.0\nquarter_turns = 0\n",
                p.to_str().unwrap()
            );
        }
        std::fs::create_dir_all(config).unwrap();
        std::fs::write(config.join("photos.toml"), text).unwrap();
    }
    fn copies(dir: &Path, of: &Path, count: usize) -> Vec<PathBuf> {
        std::fs::create_dir_all(dir).unwrap();
        let copies: Vec<PathBuf> = (0..count).map(|i| dir.join(format!("scan-{i:04}.jpg"))).collect();
        for c in &copies {
            std::fs::hard_link(of, c).or_else(|_| std::fs::copy(of, c).map(|_| ())).unwrap();
        }
        copies
    }
    // From the window's start: the loader begins as the app is made.
    let thumbnails_shown = |setup: &Setup, count: usize| {
        let start = Instant::now();
        let mut harness = setup.harness();
        step_until(&mut harness, "the thumbnails", |app| {
            app.photos.iter().filter(|p| p.thumbnail.is_some()).count() == count
        });
        (start.elapsed(), harness)
    };

    let setup = Setup::new();
    kept_list(&setup.dir.path().join("config"), &copies(&setup.dir.path().join("many"), Path::new(SAMPLE), 2000));
    let (_, mut harness) = thumbnails_shown(&setup, 2000);
    let mut frames: Vec<f64> = (0..31)
        .map(|_| {
            let start = Instant::now();
            harness.step();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    frames.sort_by(f64::total_cmp);
    println!("2000 photos listed: one frame {:.1} ms (median of 31), at most {:.1} ms", frames[15], frames[30]);
    drop(harness);

    let large = Path::new("../shared/data/old-photos/deoldify__RoyalUniversityMedStudent1900Ireland.jpg");
    let setup = Setup::new();
    kept_list(&setup.dir.path().join("config"), &copies(&setup.dir.path().join("large"), large, 200));
    let (first, _) = thumbnails_shown(&setup, 200);
    let (next, _) = thumbnails_shown(&setup, 200);
    println!("200 kept scans of 2436 x 3370 px: thumbnails in {first:.2?} at the first start, {next:.2?} at the next");
}

/// The brush paints a stroke across the picture: once the result comes, the colour under the
/// stroke is grey and the rest is as it was. Ctrl+Z takes the stroke back and Ctrl+Shift+Z puts
/// it back; the stroke stays on the photo it was painted on, with the list; B and Escape pick the
/// brush up and put it down, and while it is up a drag paints rather than pans.
#[test]
fn the_brush_takes_the_colour_away_where_it_paints() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[SAMPLE]);
    step_until(&mut harness, "the render", all_done);
    let plain = first_result(harness.state());
    harness.get_by_label("Remove colour with a brush").click();
    harness.step();
    assert_eq!(harness.state().viewer.brush, Some(24.0), "picked up at its remembered size");

    // The picture is fitted in the viewer and centred: a drag across the middle third of its
    // width, at half its height.
    let (on_screen, scale) = fitted(&harness, plain.dimensions());
    let (w, h) = (plain.width() as f32, plain.height() as f32);
    drag(&mut harness, on_screen(w / 3.0, h / 2.0), egui::vec2(w / 3.0 * scale, 0.0));
    assert_eq!(harness.state().viewer.centre(), None, "painting does not pan or zoom");
    let strokes = |app: &App| app.photos[0].result.as_ref().map_or(0, |(k, _)| k.settings.brush.len());
    step_until(&mut harness, "the brushed render", |app| strokes(app) == 1);
    let brushed = first_result(harness.state());
    let stroke = harness.state().photos[0].settings.brush[0].clone();
    let radius = stroke.radius * w.min(h);
    assert!((radius * scale - 24.0).abs() < 0.5, "the stroke is as wide as the brush on screen: {radius} px");
    let (mut grey, mut coloured_before, mut far) = (0, 0, 0);
    for (x, y, px) in brushed.enumerate_pixels() {
        let distance = from_middle_third(x, y, w, h);
        let colour = |p: &image::Rgb<u8>| p[0].abs_diff(p[1]).max(p[1].abs_diff(p[2]));
        if distance < 0.5 * radius {
            grey += (colour(px) <= 2) as usize;
            coloured_before += (colour(plain.get_pixel(x, y)) > 4) as usize;
        } else if distance > 1.1 * radius {
            assert_eq!(px, plain.get_pixel(x, y), "untouched away from the stroke at ({x}, {y})");
            far += 1;
        }
    }
    let core = (w / 3.0 * radius) as usize; // about the core's area
    assert!(grey > core * 9 / 10, "grey under the stroke: {grey} pixels of about {core}");
    assert!(coloured_before > core / 4, "the model had coloured it: {coloured_before} pixels");
    assert!(far > (w * h) as usize / 2);

    // Taken back and put back.
    let ctrl = egui::Modifiers::COMMAND;
    harness.key_press_modifiers(ctrl, egui::Key::Z);
    step_until(&mut harness, "the render without the stroke", |app| {
        app.photos[0].result.as_ref().is_some_and(|(k, _)| k.settings.brush.is_empty())
    });
    assert_eq!(first_result(harness.state()), plain, "undo gives the colour back exactly");
    harness.key_press_modifiers(ctrl | egui::Modifiers::SHIFT, egui::Key::Z);
    step_until(&mut harness, "the stroke again", |app| strokes(app) == 1);
    assert_eq!(first_result(harness.state()), brushed);

    // The export is the brushed picture, and its record says so.
    harness.key_press_modifiers(ctrl, egui::Key::E);
    step_until(&mut harness, "the export", |app| !app.exported.is_empty());
    let exported = harness.state().exported[0].clone();
    assert_eq!(image::open(&exported).unwrap().to_rgb8(), brushed);
    let description = tintype::io::provenance::read_description(&exported).unwrap_or_default();
    assert!(description.contains("colour removed by 1 brush stroke"), "{description:?}");

    // Escape puts the brush down; B picks it up and puts it down; ] and [ size it.
    harness.key_press(egui::Key::Escape);
    harness.step();
    assert_eq!(harness.state().viewer.brush, None);
    harness.key_press(egui::Key::B);
    harness.step();
    assert!(harness.state().viewer.brush.is_some());
    harness.key_press(egui::Key::CloseBracket);
    harness.step();
    assert_eq!(harness.state().viewer.brush, Some(30.0), "] makes it larger");
    harness.key_press(egui::Key::OpenBracket);
    harness.step();
    assert_eq!(harness.state().viewer.brush, Some(24.0), "[ smaller");
    harness.key_press(egui::Key::B);
    harness.step();
    assert_eq!(harness.state().viewer.brush, None);
    // A size from a hand-edited settings file is held to the slider's range.
    harness.state_mut().prefs.brush_size = 1000.0;
    harness.key_press(egui::Key::B);
    harness.step();
    assert_eq!(harness.state().viewer.brush, Some(150.0));
    harness.key_press(egui::Key::B);
    harness.step();

    // Side by side, a click on the after picture's centre is a dab at the photo's centre.
    harness.state_mut().prefs.view = ViewMode::SideBySide;
    harness.key_press(egui::Key::B);
    harness.step();
    let canvas = harness.get_by_label_contains("Photo viewer").rect();
    let after_pane = egui::Rect::from_min_max(egui::pos2(canvas.center().x + 4.0, canvas.top()), canvas.max);
    harness.event(egui::Event::PointerMoved(after_pane.center()));
    harness.event(primary_button(after_pane.center(), true));
    harness.step();
    harness.event(primary_button(after_pane.center(), false));
    harness.step();
    let brush = &harness.state().photos[0].settings.brush;
    assert_eq!(brush.len(), 2, "{brush:?}");
    let [[x, y]] = brush[1].points[..] else { panic!("a dab is one point: {:?}", brush[1]) };
    assert!((x - 0.5).abs() < 0.01 && (y - 0.5).abs() < 0.01, "the dab is at ({x}, {y})");
    // A stroke dragged from the after picture over into the before one stays in the after
    // picture's pane: it runs on leftwards, off the picture's edge, rather than jumping.
    let mut pointer = after_pane.center();
    harness.event(primary_button(pointer, true));
    harness.step();
    for _ in 0..10 {
        pointer.x -= 30.0;
        harness.event(egui::Event::PointerMoved(pointer));
        harness.step();
    }
    harness.event(primary_button(pointer, false));
    harness.step();
    let brush = &harness.state().photos[0].settings.brush;
    let xs: Vec<f32> = brush[2].points.iter().map(|p| p[0]).collect();
    assert!(xs.windows(2).all(|w| w[1] <= w[0]) && xs[xs.len() - 1] == 0.0, "{xs:?}");
    for _ in 0..2 {
        harness.key_press_modifiers(ctrl, egui::Key::Z);
        harness.step();
    }

    // Turned, the stroke stays on the part of the photo it was painted on.
    harness.get_by_label("Rotate right").click();
    harness.step();
    let turned = vec![stroke.turned(1)];
    assert_eq!(harness.state().photos[0].settings.brush, turned);

    harness.state_mut().save_prefs();
    drop(harness);
    let harness = setup.harness();
    assert_eq!(harness.state().photos[0].settings.brush, turned, "kept with the list");
}

#[test]
fn the_brush_paints_a_colour_and_picks_one_from_the_photo() {
    let setup = Setup::new();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[SAMPLE]);
    step_until(&mut harness, "the render", all_done);
    let plain = first_result(harness.state());
    harness.get_by_label("Paint a colour with a brush").click();
    harness.step();
    let skin = harness.state().prefs.paint_colour;
    assert_eq!((harness.state().viewer.brush, harness.state().viewer.tool), (Some(24.0), Tool::Paint(skin)));

    // Alt+click, or Ctrl+click, picks the colour under the pointer from the after picture: the
    // mean of the 5 × 5 pixels there (one pixel of a scan is grain as much as colour).
    let (on_screen, scale) = fitted(&harness, plain.dimensions());
    let (w, h) = (plain.width() as f32, plain.height() as f32);
    for (x, y, modifiers) in [(0.7, 0.3, egui::Modifiers::ALT), (0.3, 0.8, egui::Modifiers::COMMAND)] {
        let (x, y) = (w * x, h * y);
        let at = on_screen(x, y);
        let button =
            |pressed| egui::Event::PointerButton { pos: at, button: egui::PointerButton::Primary, pressed, modifiers };
        harness.event(egui::Event::PointerMoved(at));
        harness.event(button(true));
        harness.step();
        harness.event(button(false));
        harness.step();
        let mut sum = [0u32; 3];
        for (dx, dy) in (0..25).map(|i| (i % 5, i / 5)) {
            let px = plain.get_pixel(x as u32 + dx - 2, y as u32 + dy - 2);
            sum = [0, 1, 2].map(|c| sum[c] + px[c] as u32);
        }
        let picked = sum.map(|v| ((v + 12) / 25) as u8);
        assert_eq!(harness.state().viewer.tool, Tool::Paint(picked), "the colour under the pointer, {modifiers:?}");
        assert_eq!(harness.state().prefs.paint_colour, picked, "and remembered");
    }
    assert!(harness.state().photos[0].settings.brush.is_empty(), "picking a colour paints nothing");

    // A blue (as the colour picker sets it) painted across the middle: blue under the stroke,
    // in the photo's own shades; exactly as before away from it.
    let blue = [40, 90, 220];
    harness.state_mut().prefs.paint_colour = blue;
    harness.state_mut().take_brush(Tool::Paint(blue));
    drag(&mut harness, on_screen(w / 3.0, h / 2.0), egui::vec2(w / 3.0 * scale, 0.0));
    let strokes = |app: &App| app.photos[0].result.as_ref().map_or(0, |(k, _)| k.settings.brush.len());
    step_until(&mut harness, "the painted render", |app| strokes(app) == 1);
    let painted = first_result(harness.state());
    let stroke = harness.state().photos[0].settings.brush[0].clone();
    assert_eq!(stroke.tool, Tool::Paint(blue));
    let radius = stroke.radius * w.min(h);
    let luma = |p: &image::Rgb<u8>| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32;
    let (mut core, mut bluish, mut far) = (0, 0, 0);
    let mut lumas = Vec::new();
    for (x, y, px) in painted.enumerate_pixels() {
        let distance = from_middle_third(x, y, w, h);
        if distance < 0.5 * radius {
            core += 1;
            // In the mid-tones the blue fits in RGB unclipped, and the photo's shade is kept
            // exactly (to the rounding); a bright or dark pixel takes as much of it as fits.
            let grey = luma(plain.get_pixel(x, y));
            if (55.0..=120.0).contains(&grey) {
                bluish += (px[2] as f32 > px[0] as f32 + 100.0) as usize;
                assert!((luma(px) - grey).abs() < 3.0, "the photo's shade kept at ({x}, {y})");
                lumas.push(grey);
            } else {
                bluish += (px[2] > px[0]) as usize;
            }
        } else if distance > 1.1 * radius {
            assert_eq!(px, plain.get_pixel(x, y), "untouched away from the stroke at ({x}, {y})");
            far += 1;
        }
    }
    assert!(bluish > core * 9 / 10, "blue under the stroke: {bluish} of {core} pixels");
    assert!(lumas.len() > core / 20, "mid-tones under the stroke: {} of {core}", lumas.len());
    assert!(far > (w * h) as usize / 2);

    // Its record names it; a stroke that takes colour away, painted over it, greys it again.
    let ctrl = egui::Modifiers::COMMAND;
    harness.key_press_modifiers(ctrl, egui::Key::E);
    step_until(&mut harness, "the export", |app| !app.exported.is_empty());
    let exported = harness.state().exported[0].clone();
    assert_eq!(image::open(&exported).unwrap().to_rgb8(), painted);
    let description = tintype::io::provenance::read_description(&exported).unwrap_or_default();
    assert!(description.contains("colour painted by 1 brush stroke"), "{description:?}");
    harness.get_by_label("Remove colour with a brush").click();
    harness.step();
    assert_eq!(harness.state().viewer.tool, Tool::Remove, "the other button switches the brush's tool");
    // (Off the split handle, which sits at the middle.)
    let dab = |harness: &mut Harness<'_, App>| {
        let at = on_screen(w * 0.42, h / 2.0);
        harness.event(egui::Event::PointerMoved(at));
        harness.event(primary_button(at, true));
        harness.step();
        harness.event(primary_button(at, false));
        harness.step();
    };
    dab(&mut harness);
    step_until(&mut harness, "the greyed render", |app| strokes(app) == 2);
    let (x, y) = ((w * 0.42) as u32, h as u32 / 2);
    let [r, g, b] = first_result(harness.state()).get_pixel(x, y).0;
    assert!(r.abs_diff(g) <= 2 && g.abs_diff(b) <= 2, "grey over the blue: {:?}", [r, g, b]);
    // Restoring there gives back the model's own colour, over both strokes.
    harness.get_by_label("Restore the colour with a brush").click();
    harness.step();
    assert_eq!(harness.state().viewer.tool, Tool::Restore);
    dab(&mut harness);
    step_until(&mut harness, "the restored render", |app| strokes(app) == 3);
    let restored = first_result(harness.state());
    assert_eq!(restored.get_pixel(x, y), plain.get_pixel(x, y), "the model's colour at the dab");
    // Along the blue stroke, beyond the dab's reach, the blue stays.
    let along = x + (2.0 * radius) as u32;
    assert_eq!(restored.get_pixel(along, y), painted.get_pixel(along, y));
    assert_ne!(restored.get_pixel(along, y), plain.get_pixel(along, y));

    // Taken back, step by step, to the plain picture.
    for n in [2, 1, 0] {
        harness.key_press_modifiers(ctrl, egui::Key::Z);
        step_until(&mut harness, "a stroke taken back", |app| strokes(app) == n);
    }
    assert_eq!(first_result(harness.state()), plain, "undo gives the model's colour back exactly");

    // B picks the brush up the way it was last used; the painting button puts it down.
    harness.key_press(egui::Key::Escape);
    harness.step();
    harness.get_by_label("Paint a colour with a brush").click();
    harness.step();
    harness.key_press(egui::Key::B);
    harness.step();
    assert_eq!(harness.state().viewer.brush, None);
    harness.key_press(egui::Key::B);
    harness.step();
    assert_eq!(harness.state().viewer.tool, Tool::Paint(blue), "painting blue again");
    harness.get_by_label("Paint a colour with a brush").click();
    harness.step();
    assert_eq!(harness.state().viewer.brush, None);
    harness.state_mut().save_prefs();
    drop(harness);
    let harness = setup.harness();
    assert_eq!(
        (harness.state().prefs.paint_colour, harness.state().prefs.brush_tool),
        (blue, Tool::Paint(blue)),
        "remembered"
    );
}

#[test]
fn a_damaged_photo_list_keeps_what_it_can_and_says_what_it_left_out() {
    let setup = Setup::new();
    let config = setup.dir.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    let sample = std::fs::canonicalize(SAMPLE).unwrap();
    let photo = |path: &Path, extra: &str| {
        format!(
            "[[photos]]\npath = {:?}\nrender_factor = 28\ndefade = 0.0\nsaturation = 1.0\nwarmth = 0.0\ntint = 0.0\nquarter_turns = 0\n{extra}",
            path.to_str().unwrap()
        )
    };
    // The second photo's render size is not a number, and so is its stroke's radius: it comes
    // back with the default render size and no stroke. The third lost its path: it is left out.
    let other = std::fs::canonicalize("assets/samples/migrant-mother.jpg").unwrap();
    let stroke = "[[photos.brush]]\npoints = [[0.5, 0.5]]\nradius = \"wide\"\n";
    let list = photo(&sample, "")
        + &photo(&other, stroke).replace("render_factor = 28", "render_factor = \"big\"")
        + &photo(&other, "").replace(&format!("path = {:?}\n", other.to_str().unwrap()), "");
    std::fs::write(config.join("photos.toml"), &list).unwrap();
    let mut harness = setup.harness();
    harness.step();
    let app = harness.state();
    let kept: Vec<_> = app.photos.iter().map(|p| (p.path.as_path(), p.settings.render_factor)).collect();
    assert_eq!(kept, [(sample.as_path(), 28), (other.as_path(), 35)]);
    assert!(app.photos[1].settings.brush.is_empty());
    let notice = app.notice.as_ref().expect("a notice");
    let aside = config.join("photos.toml.damaged");
    assert!(notice.error && notice.folder.as_deref() == Some(config.as_path()), "{}", notice.text);
    let kept = format!("the file as it was is kept as {}", aside.display());
    let left_out = "photo 2's render_factor, photo 2's brush stroke 1, photo 3 left out";
    assert!(notice.text.contains(left_out) && notice.text.contains(&kept), "{}", notice.text);
    harness.get_by_label_contains(left_out);
    assert_eq!(std::fs::read_to_string(&aside).unwrap(), list, "the file as it was");

    // The next save writes the list anew, with what could be read.
    harness.state_mut().save_prefs();
    drop(harness);
    let harness = setup.harness();
    assert_eq!(harness.state().photos.len(), 2);
    assert!(harness.state().notice.is_none());
}

#[test]
fn an_export_keeps_the_scans_resolution_turned_with_the_photo() {
    let setup = Setup::new();
    // The sample, said to be scanned at 300 dpi across and 150 down, so that a turn shows.
    let sample = image::open(SAMPLE).unwrap().to_rgb8();
    let mut jpeg = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95);
    let unit = image::codecs::jpeg::PixelDensityUnit::Inches;
    enc.set_pixel_density(image::codecs::jpeg::PixelDensity { density: (300, 150), unit });
    enc.encode_image(&sample).unwrap();
    let scan = setup.dir.path().join("scan.jpg");
    std::fs::write(&scan, jpeg).unwrap();
    let mut harness = setup.harness();
    drop_files(&mut harness, &[scan.to_str().unwrap()]);
    step_until(&mut harness, "the first render", |app| app.photos.first().is_some_and(|p| p.result.is_some()));
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::R);
    step_until(&mut harness, "the turned render", |app| {
        app.photos[0].result.as_ref().is_some_and(|(k, _)| k.settings.quarter_turns == 1)
    });
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::E);
    step_until(&mut harness, "the export", |app| !app.exported.is_empty());
    let exported = tintype::io::decode::decode(&harness.state().exported[0]).unwrap();
    let density = exported.carried.density.expect("a resolution");
    // PNG holds whole pixels per metre: within a fiftieth of a dot per inch.
    let near = |v: f32, want: f32| (v - want).abs() < 0.02;
    assert!(near(density.x, 150.0) && near(density.y, 300.0), "{density:?}");
    assert_eq!(exported.pixels.width(), sample.height(), "turned");
}

/// A scan with the scanner's lid around the print: Crop… shows the whole scan with a frame,
/// Find the print sets the frame on the print, a drag moves an edge, Enter crops (the model then
/// sees only the print, and the export is the print alone), Ctrl+Z takes the crop back. A stroke
/// painted on the cropped photo is kept on the whole scan where it was painted, the crop turns
/// with the photo, and the crop is kept with the list.
#[test]
fn a_scan_is_cropped_to_its_print_and_the_brush_paints_on_the_crop() {
    let setup = Setup::new();
    let print = image::open(SAMPLE).unwrap().to_rgb8();
    let (pw, ph) = print.dimensions();
    let (x0, y0) = (90, 60);
    let mut scan = image::RgbImage::from_pixel(pw + 250, ph + 160, image::Rgb([238, 237, 232]));
    image::imageops::overlay(&mut scan, &print, x0.into(), y0.into());
    let scan_path = setup.dir.path().join("scan.png");
    scan.save(&scan_path).unwrap();
    let whole = scan.dimensions();

    let mut harness = setup.harness();
    drop_files(&mut harness, &[scan_path.to_str().unwrap()]);
    step_until(&mut harness, "the render", all_done);
    assert_eq!(first_result(harness.state()).dimensions(), whole);

    harness.get_by_label("Crop…").click();
    harness.step();
    assert!(harness.state().cropping.is_some());
    harness.get_by_label_contains("Crop frame");
    harness.get_by_label("Find the print").click();
    harness.step();
    harness.step();
    let found = harness.state().cropping.as_ref().unwrap().crop;
    let p = found.pixels(whole);
    for (got, want) in [(p.x, x0), (p.y, y0), (p.x + p.width, x0 + pw), (p.y + p.height, y0 + ph)] {
        assert!(got.abs_diff(want) <= 4, "the frame on the print: {p:?}");
    }
    harness.get_by_label_contains(&format!("{} × {} px kept", p.width, p.height));
    snapshot(&mut harness, "crop");

    // The frame's left edge dragged 30 points to the right.
    let screen = crop_canvas(&harness, whole);
    let at = |fx: f32, fy: f32| screen.lerp_inside(egui::vec2(fx, fy));
    drag(&mut harness, at(found.left, (found.top + found.bottom) / 2.0), egui::vec2(30.0, 0.0));
    let dragged = harness.state().cropping.as_ref().unwrap().crop;
    assert!((dragged.left - found.left - 30.0 / screen.width()).abs() < 0.002, "{dragged:?} from {found:?}");
    assert_eq!((dragged.top, dragged.right, dragged.bottom), (found.top, found.right, found.bottom));
    // From the keyboard: the frame focused, → moves it, Alt+← draws its right edge in, and
    // Shift takes a fifth of the step.
    harness.get_by_label_contains("Crop frame").focus();
    harness.step();
    harness.key_press(egui::Key::ArrowRight);
    harness.step();
    let moved = harness.state().cropping.as_ref().unwrap().crop;
    let near = |a: f32, b: f32| (a - b).abs() < 1e-5;
    assert!(near(moved.left, dragged.left + 0.01) && near(moved.right, dragged.right + 0.01), "{moved:?}");
    assert_eq!((moved.top, moved.bottom), (dragged.top, dragged.bottom));
    harness.key_press_modifiers(egui::Modifiers::ALT, egui::Key::ArrowLeft);
    harness.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::ArrowUp);
    harness.step();
    let narrowed = harness.state().cropping.as_ref().unwrap().crop;
    assert!(near(narrowed.left, moved.left) && near(narrowed.right, moved.right - 0.01), "{narrowed:?}");
    assert!(near(narrowed.top, moved.top - 0.002) && near(narrowed.bottom, moved.bottom - 0.002), "{narrowed:?}");
    // Escape leaves the photo as it was; C opens the frame again, where it was set before.
    harness.key_press(egui::Key::Escape);
    harness.step();
    assert!(harness.state().cropping.is_none() && harness.state().photos[0].settings.crop.is_none());
    harness.key_press(egui::Key::C);
    harness.step();
    harness.get_by_label("Find the print").click();
    harness.step();
    harness.key_press(egui::Key::Enter);
    harness.step();
    assert!(harness.state().cropping.is_none());
    assert_eq!(harness.state().photos[0].settings.crop, Some(found));
    let cropped_render = |app: &App| app.photos[0].result.as_ref().is_some_and(|(k, _)| k.settings.crop.is_some());
    step_until(&mut harness, "the cropped render", cropped_render);
    let cropped = first_result(harness.state());
    assert_eq!(cropped.dimensions(), (p.width, p.height));
    // The model saw the print alone: the result is the engine's for the crop.
    assert_eq!(cropped, engine_result(harness.state(), &scan));

    // Undone and done again.
    let ctrl = egui::Modifiers::COMMAND;
    harness.key_press_modifiers(ctrl, egui::Key::Z);
    step_until(&mut harness, "the whole scan again", |app| {
        app.photos[0].result.as_ref().is_some_and(|(k, r)| k.settings.crop.is_none() && r.width() == whole.0)
    });
    harness.key_press_modifiers(ctrl | egui::Modifiers::SHIFT, egui::Key::Z);
    step_until(&mut harness, "the crop again", cropped_render);

    // A stroke across the middle third of the cropped picture, kept on the whole scan.
    harness.get_by_label("Remove colour with a brush").click();
    harness.step();
    let (on_screen, scale) = fitted(&harness, cropped.dimensions());
    let (w, h) = (cropped.width() as f32, cropped.height() as f32);
    drag(&mut harness, on_screen(w / 3.0, h / 2.0), egui::vec2(w / 3.0 * scale, 0.0));
    let stroke = harness.state().photos[0].settings.brush[0].clone();
    let first = stroke.points[0];
    let want = [(p.x as f32 + w / 3.0) / whole.0 as f32, (p.y as f32 + h / 2.0) / whole.1 as f32];
    assert!((first[0] - want[0]).abs() < 0.01 && (first[1] - want[1]).abs() < 0.01, "{first:?} against {want:?}");
    step_until(&mut harness, "the brushed render", |app| {
        app.photos[0].result.as_ref().is_some_and(|(k, _)| k.settings.brush.len() == 1)
    });
    let brushed = first_result(harness.state());
    let centre = brushed.get_pixel(p.width / 2, p.height / 2);
    assert!(centre[0].abs_diff(centre[1]) <= 2 && centre[1].abs_diff(centre[2]) <= 2, "grey at the centre: {centre:?}");
    harness.key_press(egui::Key::Escape);
    harness.step();

    // Exported: the print alone, and its record says it was cropped.
    harness.key_press_modifiers(ctrl, egui::Key::E);
    step_until(&mut harness, "the export", |app| !app.exported.is_empty());
    let exported = harness.state().exported[0].clone();
    assert_eq!(image::open(&exported).unwrap().to_rgb8(), brushed);
    let description = tintype::io::provenance::read_description(&exported).unwrap_or_default();
    assert!(description.contains("cropped to"), "{description:?}");
    // Shared (a JPEG), the before picture beside it is the same part of the scan, as it was.
    harness.get_by_label("Share before/after").click();
    step_until(&mut harness, "the shared picture", |app| app.exported.len() == 2);
    let shared = image::open(&harness.state().exported[1]).unwrap().to_rgb8();
    let gap = (p.width / 50).max(4);
    assert_eq!(shared.dimensions(), (2 * p.width + 3 * gap, p.height + 2 * gap));
    let before = image::imageops::crop_imm(&shared, gap, gap, p.width, p.height).to_image();
    let print_part = image::imageops::crop_imm(&scan, p.x, p.y, p.width, p.height).to_image();
    let difference: u64 = before.as_raw().iter().zip(print_part.as_raw()).map(|(a, b)| a.abs_diff(*b) as u64).sum();
    let mean = difference as f64 / before.as_raw().len() as f64;
    assert!(mean < 2.0, "the shared before picture is the print's, to within JPEG's loss: {mean:.2} levels apart");

    // Turned, the crop turns with the photo.
    harness.key_press_modifiers(ctrl, egui::Key::R);
    step_until(&mut harness, "the turned render", |app| {
        app.photos[0].result.as_ref().is_some_and(|(k, _)| k.settings.quarter_turns == 1)
    });
    assert_eq!(first_result(harness.state()).dimensions(), (p.height, p.width));
    let turned = harness.state().photos[0].settings.clone();
    harness.state_mut().save_prefs();
    drop(harness);
    let kept = setup.harness().state().photos[0].settings.clone();
    assert_eq!((kept.crop, kept.brush, kept.quarter_turns), (turned.crop, turned.brush, 1));
}

/// A scan of three prints laid on the glass: Find the print frames the first and outlines the
/// others, and Add each print as a photo lists each print as a photo of its own (one step to
/// undo and redo), each colorized from its own part; Export all saves three pictures, and the
/// list comes back next time with the three prints.
/// Where the crop view shows a photo of `whole` pixels: fitted inside the canvas less the
/// margin kept for grabbing the frame's edges.
fn crop_canvas(harness: &Harness<'_, App>, whole: (u32, u32)) -> egui::Rect {
    let inner = harness.get_by_label_contains("Crop frame").rect().shrink(20.0);
    let size = egui::vec2(whole.0 as f32, whole.1 as f32);
    let fit = (inner.width() / size.x).min(inner.height() / size.y);
    egui::Rect::from_center_size(inner.center(), size * fit)
}

/// What the engine makes of `scan` with the first photo's settings, as the CLI and the worker
/// would: the window's result must be this.
fn engine_result(app: &App, scan: &image::RgbImage) -> image::RgbImage {
    let model = tintype::store::builtin_compact().unwrap();
    let colorizer = tintype::engine::Colorizer::load(&model, None, &candle_core::Device::Cpu).unwrap();
    let photo = image::DynamicImage::ImageRgb8(scan.clone());
    colorizer.colorize(&photo, &app.photos[0].settings).unwrap().to_rgb8()
}

/// The window with `scan` dropped on it and colorized, its crop frame open (C) and set by Find
/// the print.
fn print_found(setup: &Setup, scan: &std::path::Path) -> Harness<'static, App> {
    let mut harness = setup.harness();
    drop_files(&mut harness, &[scan.to_str().unwrap()]);
    step_until(&mut harness, "the render", all_done);
    harness.key_press(egui::Key::C);
    harness.step();
    harness.get_by_label("Find the print").click();
    harness.step();
    harness.step();
    harness
}

/// A print laid askew on a scanner: found and straightened by Find the print, set by hand with
/// the Straighten slider (the frame drawing in off the corners the turn leaves empty), colorized
/// upright, and named in the export's record.
#[test]
fn a_print_askew_on_the_glass_is_straightened() {
    let setup = Setup::new();
    let print = image::open(SAMPLE).unwrap().to_rgb8();
    let (pw, ph) = (print.width() as f32, print.height() as f32);
    // The print turned 3° clockwise about the middle of a scan of a white lid.
    let (w, h) = (print.width() + 240, print.height() + 200);
    let (sin, cos) = 3f32.to_radians().sin_cos();
    let scan = image::RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - w as f32 / 2.0, y as f32 + 0.5 - h as f32 / 2.0);
        let (px, py) = (cos * dx + sin * dy + pw / 2.0, -sin * dx + cos * dy + ph / 2.0);
        if (0.0..pw).contains(&px) && (0.0..ph).contains(&py) {
            *print.get_pixel(px as u32, py as u32)
        } else {
            image::Rgb([238, 237, 232])
        }
    });
    let scan_path = setup.dir.path().join("askew.png");
    scan.save(&scan_path).unwrap();

    let mut harness = print_found(&setup, &scan_path);
    let found = harness.state().cropping.as_ref().unwrap().crop;
    assert!((found.angle + 3.0).abs() <= 0.25, "{found:?}");
    let shown = slider(&harness, "Straighten").accesskit_node().numeric_value().unwrap();
    assert!((shown - f64::from(found.angle)).abs() < 0.01, "the slider shows {shown}");
    // The frame holds the print and nearly all of it: as large as the print, less its edge.
    let p = found.pixels((w, h));
    assert!(p.width as f32 > 0.95 * pw && p.width as f32 <= pw, "{p:?}");
    assert!(p.height as f32 > 0.95 * ph && p.height as f32 <= ph, "{p:?}");
    snapshot(&mut harness, "straighten");

    // By hand: the whole photo turned 5° leaves the canvas's corners empty, and the frame
    // draws in off them.
    harness.get_by_label("Whole photo").click();
    harness.step();
    slider(&harness, "Straighten").set_value_accesskit(5.0);
    harness.step();
    let by_hand = harness.state().cropping.as_ref().unwrap().crop;
    assert_eq!(by_hand.angle, 5.0);
    assert!(by_hand.lies_inside((w, h)) && by_hand.left > 0.0 && by_hand.right < 1.0, "{by_hand:?}");
    // Its left edge, dragged in and then far out, stops where the turned photo ends (where the
    // frame drawn in had it), short of the canvas's edge.
    let screen = crop_canvas(&harness, (w, h));
    let edge = screen.lerp_inside(egui::vec2(by_hand.left, (by_hand.top + by_hand.bottom) / 2.0));
    drag(&mut harness, edge, egui::vec2(100.0, 0.0));
    let dragged_in = harness.state().cropping.as_ref().unwrap().crop;
    assert!(dragged_in.left > by_hand.left + 0.05, "{dragged_in:?}");
    drag(&mut harness, edge + egui::vec2(100.0, 0.0), egui::vec2(-400.0, 0.0));
    let dragged = harness.state().cropping.as_ref().unwrap().crop;
    assert!(dragged.lies_inside((w, h)) && (dragged.left - by_hand.left).abs() < 0.005, "{dragged:?} {by_hand:?}");
    // Found again, and given to the photo.
    harness.get_by_label("Find the print").click();
    harness.step();
    harness.key_press(egui::Key::Enter);
    harness.step();
    assert_eq!(harness.state().photos[0].settings.crop, Some(found));
    step_until(&mut harness, "the straightened render", |app| {
        app.photos[0].result.as_ref().is_some_and(|(k, _)| k.settings.crop.is_some())
    });
    let straightened = first_result(harness.state());
    assert_eq!(straightened.dimensions(), (p.width, p.height));
    assert_eq!(straightened, engine_result(harness.state(), &scan));
    // Upright: the print's own top rows, not the lid, along the top of the result (the lid is
    // near white; the print's backdrop there is mid grey).
    let top_row_lid = (0..p.width).filter(|&x| straightened.get_pixel(x, 0).0.iter().all(|&v| v > 225)).count();
    assert!(top_row_lid < p.width as usize / 50, "{top_row_lid} pixels of lid along the top");
    // Before and after: the before picture is the same straightened part, and nothing beyond it.
    snapshot(&mut harness, "straightened");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::E);
    step_until(&mut harness, "the export", |app| !app.exported.is_empty());
    let description = tintype::io::provenance::read_description(&harness.state().exported[0]).unwrap_or_default();
    assert!(description.contains("straightened 3.0° anticlockwise, cropped to"), "{description:?}");
}

#[test]
fn a_scan_of_several_prints_becomes_a_photo_for_each() {
    let setup = Setup::new();
    let whitman = image::open(SAMPLE).unwrap().to_rgb8();
    let mother = image::open("assets/samples/migrant-mother.jpg").unwrap().to_rgb8();
    let small = |p: &image::RgbImage| image::imageops::resize(p, 360, 280, image::imageops::Triangle);
    let mut scan = image::RgbImage::from_pixel(900, 700, image::Rgb([241, 240, 235]));
    let places = [(30, 30), (480, 40), (250, 390)];
    for ((x, y), print) in places.iter().zip([small(&whitman), small(&mother), small(&whitman)]) {
        image::imageops::overlay(&mut scan, &print, *x, *y);
    }
    let album = setup.dir.path().join("album.png");
    scan.save(&album).unwrap();

    let mut harness = print_found(&setup, &album);
    let prints = harness.state().cropping.clone().unwrap().prints;
    assert_eq!(prints.len(), 3, "{prints:?}");
    harness.get_by_label_contains("3 prints on this scan");
    harness.get_by_label("Add each print as a photo").click();
    harness.step();
    let listed = |app: &App| app.photos.iter().map(|p| (p.name.clone(), p.settings.crop)).collect::<Vec<_>>();
    let names = ["album.png (print 1)", "album.png (print 2)", "album.png (print 3)"];
    let split: Vec<_> = names.iter().map(|n| n.to_string()).zip(prints.iter().map(|&c| Some(c))).collect();
    assert_eq!(listed(harness.state()), split);

    // One step back and forth.
    let ctrl = egui::Modifiers::COMMAND;
    harness.key_press_modifiers(ctrl, egui::Key::Z);
    harness.step();
    assert_eq!(listed(harness.state()), [("album.png".to_string(), None)]);
    harness.key_press_modifiers(ctrl | egui::Modifiers::SHIFT, egui::Key::Z);
    harness.step();
    assert_eq!(listed(harness.state()), split);

    step_until(&mut harness, "each print's render", |app| {
        all_done(app) && app.photos.iter().all(|p| p.result.as_ref().is_some_and(|(k, _)| k.settings.crop.is_some()))
    });
    for (p, (x, y)) in harness.state().photos.iter().zip(places) {
        let (_, result) = p.result.as_ref().unwrap();
        let (w, h) = (result.width(), result.height());
        assert!(
            w <= 360 && h <= 280 && w + 6 >= 360 && h + 6 >= 280,
            "{}: {w}x{h} for its print at ({x}, {y})",
            p.name
        );
    }
    harness.get_by_label("Export all").click();
    step_until(&mut harness, "the batch", |app| app.export_batch.is_none() && app.exported.len() == 3);
    let mut exported: Vec<String> =
        harness.state().exported.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    exported.sort();
    assert_eq!(exported, ["album-print1-colorized.png", "album-print2-colorized.png", "album-print3-colorized.png"]);

    harness.state_mut().save_prefs();
    drop(harness);
    let harness = setup.harness();
    assert_eq!(listed(harness.state()), split, "the three prints are kept with the list");
}
