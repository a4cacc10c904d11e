//! The desktop app: a photo list, the before/after viewer and the controls. The window only
//! submits work and shows what comes back: the model runs on the worker thread, folders and
//! thumbnails on the loader's, exports on the exporter's, downloads on their own.

mod controls;
mod cropping;
pub mod export;
mod help;
pub mod history;
pub mod inbox;
pub mod library;
pub mod prefs;
pub mod thumbnails;
pub mod viewer;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;

use image::DynamicImage;

use crate::engine::Settings;
use crate::engine::device::DeviceChoice;
use crate::engine::worker::{Event, Job, ModelChoice, Stage, Worker};
use crate::io::decode::Carried;
use crate::io::encode::Format;
use crate::pipeline::brush::Tool;
use crate::store::Store;
use history::Change;
use library::{Loaded, Loader, Photo, Status};
use prefs::{KeptList, KeptPhoto, ModelPick, Prefs};
use viewer::Viewer;

/// Settings stay still this long (seconds) before a render starts, so a moving slider gives
/// one render, not dozens.
const SETTLE_SECONDS: f64 = 0.3;
/// The most the list keeps of photos' pixels (originals and results) beyond what is on screen
/// or waiting to be exported: a folder of hundreds of scans must fit a laptop's memory.
pub const PIXEL_BUDGET: usize = 1 << 30;
/// Render factors of the render-size sheet.
pub const SHEET_FACTORS: [u32; 6] = [10, 16, 22, 28, 35, 45];
/// Worker ids at and above this are the sheets' renders, not photos: `SHEET_ID_BASE +
/// sheet number × SHEET_STRIDE + tile`, so that a render for a sheet closed since never lands
/// in another.
const SHEET_ID_BASE: u64 = 1 << 40;
/// The most tiles a sheet has (a model sheet has one per model at hand: a handful).
const SHEET_STRIDE: u64 = 16;

/// Where the app keeps its files; tests point these at temporary folders.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The settings folder; `None` keeps nothing between runs.
    pub config_dir: Option<PathBuf>,
    /// The per-user data folder of the model store (`None`: the usual one).
    pub data_dir: Option<PathBuf>,
    /// Where thumbnails are cached; `None` caches none.
    pub cache_dir: Option<PathBuf>,
    /// Photos or folders to open at start.
    pub open: Vec<PathBuf>,
}

/// What made this render: the model and the settings.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderKey {
    pub model: ModelChoice,
    pub settings: Settings,
}

/// The models on this machine: the manifest, which of its models are installed, the built-in file.
#[derive(Default)]
pub(crate) struct ModelFiles {
    pub manifest: Vec<crate::store::ModelEntry>,
    pub installed: std::collections::HashMap<String, PathBuf>,
    pub builtin: Option<PathBuf>,
}

impl ModelFiles {
    fn read(store: Option<&Store>) -> Self {
        let manifest = crate::store::manifest();
        let installed = manifest.iter().filter_map(|e| Some((e.name.clone(), store?.resolve(&e.name)?))).collect();
        Self { manifest, installed, builtin: crate::store::builtin_compact() }
    }
}

/// A line in the status bar.
pub struct Notice {
    pub text: String,
    pub error: bool,
    /// A folder the line offers to open: where exports went.
    pub folder: Option<PathBuf>,
}

impl Notice {
    pub fn info(text: impl Into<String>) -> Self {
        Self { text: text.into(), error: false, folder: None }
    }

    pub fn error(text: impl Into<String>) -> Self {
        Self { text: text.into(), error: true, folder: None }
    }
}

/// Closing the window while photos are still to be saved asks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quit {
    No,
    /// Asked: wait, or quit now.
    Asking,
    /// Close once the last export is written.
    WhenSaved,
    /// Close, exports or not.
    Now,
}

/// One photo rendered several ways side by side, to pick the one to use: at six render sizes,
/// or with each model at hand.
#[derive(Clone)]
pub struct Sheet {
    /// The worker id of its first tile's render; the others follow.
    pub first_job: u64,
    pub tiles: Vec<SheetTile>,
}

#[derive(Clone)]
pub struct SheetTile {
    /// "Render size 16 (288 × 224 px)", "DeOldify Artistic".
    pub label: String,
    /// What clicking it uses.
    pub choice: SheetChoice,
    /// The render, or why there is none; None while it is made.
    pub render: Option<Result<egui::TextureHandle, String>>,
    /// How long the render took, loading a model aside.
    pub took: Option<std::time::Duration>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SheetChoice {
    RenderFactor(u32),
    Model(ModelPick),
}

pub struct App {
    pub prefs: Prefs,
    options: Options,
    store: Option<Store>,
    /// What the model list shows, read once and again after a download or import ends, so
    /// the window does not parse the manifest or look at the disk every frame.
    models: ModelFiles,
    pub photos: Vec<Photo>,
    /// The photo on screen.
    pub selected: Option<u64>,
    /// Photos picked besides the one on screen (Ctrl+click, Shift+click): Remove, the turns and
    /// Export act on all of them.
    also_picked: HashSet<u64>,
    /// Where Shift+click picks a run from: the photo last clicked without Shift.
    pick_anchor: Option<u64>,
    /// The selection moved by the keyboard: the list scrolls to it.
    reveal_selected: bool,
    /// The photo whose right-click menu was opened from the keyboard: shown under its row.
    row_menu_by_keys: Option<u64>,
    /// A pasted picture, put on screen once it is listed.
    show_when_listed: Option<PathBuf>,
    /// The Help window (F1) is open.
    pub help_open: bool,
    /// A crop being set on a photo (the canvas shows the whole photo and the frame).
    pub cropping: Option<cropping::CropEdit>,
    /// See `PIXEL_BUDGET`; tests lower it.
    pub pixel_budget: usize,
    /// Counts frames, for `Photo::last_used`.
    clock: u64,
    /// Exports handed to the exporter and not yet written, in the order they were handed over:
    /// each holds its photo's pixels.
    exports_in_flight: Vec<export::InFlight>,
    /// What was said when the window was closed with exports on their way.
    pub quit: Quit,
    next_id: u64,
    worker: Worker,
    loader: Loader,
    exporter: export::Exporter,
    pub viewer: Viewer,
    /// When the controls last changed (egui time), until the settled render is submitted.
    changed_at: Option<f64>,
    /// The last render key asked of the worker, per photo.
    requested: std::collections::HashMap<u64, RenderKey>,
    /// Changes to the render size, turn and adjustments, for undo and redo.
    history: history::History,
    /// Photos to export as soon as their result matches the settings.
    pending_export: HashSet<u64>,
    /// What each photo's export carries of its file (profile, resolution, XMP), as read.
    carried: std::collections::HashMap<u64, Carried>,
    pub notice: Option<Notice>,
    /// A model the worker could not load, and why; not tried again until another is chosen,
    /// the same file is picked again, or the model files change.
    broken_model: Option<(ModelChoice, String)>,
    /// Whether the model file last asked about sees photos in their own shape (read from its
    /// header once, for the render size's caption).
    input_shape: Option<(PathBuf, bool)>,
    /// Renders the worker finished (photos, not sheet tiles); tests count them.
    pub renders_finished: u64,
    pub exported: Vec<PathBuf>,
    /// The "Export all" under way, if any.
    pub export_batch: Option<export::Batch>,
    /// For naming shortcuts as egui can show them in the status line.
    ctx: egui::Context,
    /// The window's title as last set: the photo on screen, and an Export all's progress, so
    /// both show in the taskbar while the window is behind others.
    pub title: String,
    pub sheet: Option<Sheet>,
    /// Sheets opened so far, which numbers their renders.
    sheets_opened: u64,
    downloads: controls::Downloads,
    dialog: Option<Receiver<Vec<PathBuf>>>,
    dialog_purpose: DialogPurpose,
    /// Writes the settings and the photo list (None where there is no config folder).
    saver: Option<prefs::Saver>,
    /// The photo on screen when the list was last saved.
    saved_selection: Option<u64>,
    /// Photos other Tintype processes hand to this window (None when another window has it).
    inbox: Option<inbox::Inbox>,
    /// Photos kept from the last run found to be no longer where they were.
    gone: Vec<PathBuf>,
    /// The sample photos the package ships, offered while the list is empty.
    samples: Vec<PathBuf>,
}

#[derive(Clone, Copy, PartialEq)]
enum DialogPurpose {
    Photos,
    Folder,
    ModelFile,
    Import,
    ExportFolder,
}

/// `settings`' render size and adjustments, with the way up `p` lies, its brush strokes and its
/// crop kept: they are its own, never given to other photos.
fn adjusted_like(p: &Photo, settings: &Settings) -> Settings {
    Settings {
        quarter_turns: p.settings.quarter_turns,
        brush: p.settings.brush.clone(),
        crop: p.settings.crop,
        ..settings.clone()
    }
}

/// Opens the window; returns when it is closed.
pub fn run(open: Vec<PathBuf>) -> anyhow::Result<()> {
    let config_dir = Prefs::default_dir();
    // (A retry with OpenGL is this same window's second try: its photos stay with it.)
    let retry = std::env::var_os(OPENGL_RETRY).is_some();
    if !open.is_empty() && !retry && config_dir.as_deref().is_some_and(|dir| inbox::hand_over(dir, &open)) {
        return Ok(()); // the window already open took them
    }
    let inbox = config_dir.as_deref().and_then(inbox::Inbox::claim);
    let icon = eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icon/png/tintype-256.png")).ok();
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Tintype")
        .with_app_id("tintype")
        .with_inner_size([1200.0, 780.0])
        .with_min_inner_size([640.0, 420.0])
        .with_drag_and_drop(true);
    if let Some(icon) = icon {
        viewport = viewport.with_icon(icon);
    }
    let native = eframe::NativeOptions { viewport, persist_window: true, ..Default::default() };
    let options = Options { config_dir, data_dir: None, cache_dir: thumbnails::default_dir(), open };
    let opened = Arc::new(AtomicBool::new(false));
    let app_created = opened.clone();
    let result = eframe::run_native(
        "Tintype",
        native,
        Box::new(move |cc| {
            app_created.store(true, Ordering::Relaxed);
            Ok(Box::new(App::with_inbox(&cc.egui_ctx, options, inbox)))
        }),
    );
    match result {
        Ok(()) => Ok(()),
        // Only a graphics failure before the window showed anything: a lost device hours in, or
        // no display at all, is reported as it is.
        Err(e @ eframe::Error::Wgpu(_)) if !opened.load(Ordering::Relaxed) && !retry => {
            eprintln!("The window could not open ({e}); trying again with OpenGL.");
            reopen_with_opengl()
        }
        Err(e @ (eframe::Error::WinitEventLoop(_) | eframe::Error::Winit(_))) => Err(anyhow::anyhow!(
            "the window could not open: {e}\nWithout a desktop (over SSH, on a server) use the command line: tintype colorize PHOTO…"
        )),
        Err(e) => Err(anyhow::anyhow!("the window could not open: {e}")),
    }
}

/// Set in the environment of the process that [`reopen_with_opengl`] starts.
const OPENGL_RETRY: &str = "TINTYPE_OPENGL_RETRY";

/// Starts Tintype again on wgpu's OpenGL backend and waits for it. Some graphics drivers offer
/// Vulkan or DirectX 12 and then fail to make a device or a surface with it (old Windows
/// laptops; Wine), where OpenGL works. A second try in this process is not possible: winit
/// allows one event loop per process.
fn reopen_with_opengl() -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let status = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("WGPU_BACKEND", "gl")
        .env(OPENGL_RETRY, "1")
        .status()?;
    if status.success() { Ok(()) } else { anyhow::bail!("the window could not open with OpenGL either") }
}

impl App {
    /// A window that claims the inbox of its config folder as it opens.
    pub fn new(ctx: &egui::Context, options: Options) -> Self {
        let inbox = options.config_dir.as_deref().and_then(inbox::Inbox::claim);
        Self::with_inbox(ctx, options, inbox)
    }

    /// A window given the inbox its process claimed before the window opened.
    pub fn with_inbox(ctx: &egui::Context, options: Options, inbox: Option<inbox::Inbox>) -> Self {
        if let Some(inbox) = &inbox {
            inbox.wake(ctx);
        }
        let (prefs, prefs_note) = options.config_dir.as_deref().map(Prefs::load).unwrap_or_default();
        let repaint = |ctx: &egui::Context| {
            let ctx = ctx.clone();
            move || ctx.request_repaint()
        };
        let store = Store::open(options.data_dir.clone(), None).ok();
        let mut app = Self {
            prefs,
            models: ModelFiles::read(store.as_ref()),
            store,
            photos: Vec::new(),
            selected: None,
            also_picked: HashSet::new(),
            pick_anchor: None,
            reveal_selected: false,
            row_menu_by_keys: None,
            show_when_listed: None,
            help_open: false,
            cropping: None,
            pixel_budget: PIXEL_BUDGET,
            clock: 0,
            exports_in_flight: Vec::new(),
            quit: Quit::No,
            next_id: 1,
            worker: Worker::spawn(repaint(ctx)),
            loader: Loader::spawn(repaint(ctx), options.cache_dir.clone()),
            exporter: export::Exporter::spawn(repaint(ctx)),
            viewer: Viewer::default(),
            changed_at: None,
            requested: Default::default(),
            history: Default::default(),
            pending_export: HashSet::new(),
            carried: Default::default(),
            notice: None,
            broken_model: None,
            input_shape: None,
            renders_finished: 0,
            exported: Vec::new(),
            title: "Tintype".into(),
            ctx: ctx.clone(),
            export_batch: None,
            sheet: None,
            sheets_opened: 0,
            downloads: Default::default(),
            dialog: None,
            dialog_purpose: DialogPurpose::Photos,
            saver: options.config_dir.clone().map(prefs::Saver::spawn),
            saved_selection: None,
            inbox,
            gone: Vec::new(),
            samples: crate::store::sample_photos(),
            options: options.clone(),
        };
        // Photos named at start (a file opened with Tintype) join the list and go on screen.
        let list_note = app.restore_list(options.open.is_empty());
        if !options.open.is_empty() {
            app.add_paths(options.open);
        }
        // A settings file or list damaged (by hand, or by a disk): what was left out is said,
        // with the folder that holds the file as it was.
        let notes: Vec<String> = prefs_note.into_iter().chain(list_note).collect();
        if !notes.is_empty() {
            app.notice = Some(Notice { folder: options.config_dir.clone(), ..Notice::error(notes.join(" ")) });
        }
        app
    }

    /// Brings back the photo list the window was last closed with, each photo with its own
    /// settings. The loader then looks for them, off the window's thread: photos no longer
    /// where they were are taken off again, and the status line names them. Returns a note for
    /// the person when the list could not be read whole.
    fn restore_list(&mut self, select: bool) -> Option<String> {
        let dir = self.options.config_dir.as_ref()?;
        let (kept, note) = KeptList::load(dir);
        for k in &kept.photos {
            // The same file may be listed once for each print on it, each with its own crop.
            let settings = k.settings();
            if self.photos.iter().any(|p| p.path == k.path && p.settings.crop == settings.crop) {
                continue;
            }
            let mut photo = Photo::new(self.next_id, k.path.clone(), settings);
            photo.waits_until_shown = true;
            photo.saved_as = k.saved_as.clone();
            self.photos.push(photo);
            self.next_id += 1;
        }
        if select {
            let on_screen = kept.selected.and_then(|path| self.photos.iter().find(|p| p.path == path));
            self.selected = on_screen.or(self.photos.first()).map(|p| p.id);
        }
        self.loader.look_for_kept(self.photos.iter().map(|p| p.path.clone()).collect());
        library::number_prints(&mut self.photos);
        note
    }

    /// A photo kept from the last run is no longer where it was: it leaves the list, and the
    /// status line names every such photo so far.
    fn kept_photo_gone(&mut self, path: PathBuf) {
        let ids: Vec<u64> = self.photos.iter().filter(|p| p.path == path).map(|p| p.id).collect();
        self.take_off(&ids);
        self.gone.push(path);
        let names: Vec<String> = self.gone.iter().map(|p| p.display().to_string()).collect();
        let why = "moved, renamed or on a drive not connected";
        let text = match names.as_slice() {
            [one] => format!(
                "{one}, on the list last time, is no longer there ({why}) and was left off: add it again from where it is now."
            ),
            _ => format!(
                "{} photos on the list last time are no longer there ({why}) and were left off: {}. Add them again from where they are now.",
                names.len(),
                names.join(", ")
            ),
        };
        self.notice = Some(Notice::error(text));
    }

    /// The photo list as it is to be kept for the next run.
    fn kept_list(&self) -> KeptList {
        KeptList {
            selected: self.selected_photo().map(|p| p.path.clone()),
            photos: self
                .photos
                .iter()
                .map(|p| KeptPhoto { saved_as: p.saved_as.clone(), ..KeptPhoto::new(&p.path, &p.settings) })
                .collect(),
        }
    }

    /// Adds photos and folders: the same path a drop, the dialog and the command line take.
    /// Weight files (.pth, .safetensors) are imported as models instead.
    pub fn add_paths(&mut self, paths: Vec<PathBuf>) {
        // Absolute, so that the list kept for the next run does not hang on today's folder.
        let paths = paths.into_iter().map(|p| std::path::absolute(&p).unwrap_or(p));
        let (models, photos): (Vec<_>, Vec<_>) = paths.partition(|p| is_weight_file(p));
        for m in models {
            self.import_model(m);
        }
        for p in &photos {
            if p.is_dir() {
                self.prefs.remember_folder(p);
            }
        }
        if !photos.is_empty() {
            self.loader.add(photos, self.export_folder());
        }
    }

    /// The settings the controls show: the selected photo's, or, with none selected, those
    /// the photos added next start with.
    pub fn shown_settings(&self) -> Settings {
        self.selected_photo().map_or_else(|| self.prefs.photo_settings(), |p| p.settings.clone())
    }

    /// The controls set `settings`: for the photo on screen, and for the photos added next.
    pub fn set_shown_settings(&mut self, settings: Settings, now: f64) {
        let photos = self.selected_photo().map(|p| vec![(p.id, p.settings.clone())]).unwrap_or_default();
        let before = history::Step { photos, new_photos: self.prefs.photo_settings() };
        self.history.record(Change::Settings(before), self.selected, now);
        self.prefs.remember_photo_settings(&settings);
        if let Some(p) = self.selected.and_then(|id| self.photo_mut(id)) {
            p.settings = settings;
        }
        self.settings_changed(now);
    }

    /// Gives every photo the render size and adjustments of the one on screen.
    pub fn apply_to_all(&mut self, now: f64) {
        let settings = self.shown_settings();
        let photos = self.photos.iter().map(|p| (p.id, p.settings.clone())).collect();
        self.history.record(
            Change::Settings(history::Step { photos, new_photos: self.prefs.photo_settings() }),
            None,
            now,
        );
        for p in &mut self.photos {
            p.settings = adjusted_like(p, &settings);
        }
        self.settings_changed(now);
    }

    /// Whether "Apply to all photos" would change anything.
    pub fn others_differ(&self) -> bool {
        let settings = self.shown_settings();
        self.photos.len() > 1 && self.photos.iter().any(|p| p.settings != adjusted_like(p, &settings))
    }

    /// Adds a brush stroke, painted on the photo on screen as it is shown (cropped, when it is),
    /// as one step to undo of its own.
    pub fn add_stroke(&mut self, stroke: crate::pipeline::brush::Stroke, now: f64) {
        let Some(p) = self.selected_photo() else { return };
        // Kept on the whole photo, so that a crop changed later leaves it where it was painted.
        let stroke = match (p.settings.crop, p.shown_original()) {
            (None, _) => stroke,
            (Some(crop), Some(whole)) => crop.stroke_to_whole(&stroke, (whole.width(), whole.height())),
            (Some(_), None) => return,
        };
        let before =
            history::Step { photos: vec![(p.id, p.settings.clone())], new_photos: self.prefs.photo_settings() };
        // No photo given: strokes painted in quick succession are still taken back one by one.
        self.history.record(Change::Settings(before), None, now);
        if let Some(p) = self.selected.and_then(|id| self.photo_mut(id)) {
            p.settings.brush.push(stroke);
        }
        self.settings_changed(now);
    }

    /// Picks the brush up (at its remembered size, with the tool it last had) while a photo is
    /// on screen, or puts it down.
    pub fn toggle_brush(&mut self) {
        match self.viewer.brush {
            Some(_) => self.viewer.brush = None,
            None => self.take_brush(self.prefs.brush_tool),
        }
    }

    /// The button of one of the brush's tools: takes the brush up with it, or puts the brush
    /// down when it already has it.
    pub fn brush_button(&mut self, tool: Tool) {
        if self.viewer.brush.is_some() && self.viewer.tool.same_kind(tool) {
            self.viewer.brush = None;
        } else {
            self.take_brush(tool);
        }
    }

    /// Takes the brush up, while a photo is on screen, with `tool` (a painting one with the
    /// picked colour); a brush already up keeps its size.
    pub fn take_brush(&mut self, tool: Tool) {
        // The brush paints on the photo as cropped, which is not on screen while cropping.
        self.cropping = None;
        // The settings file may have been edited by hand.
        let size = self.viewer.brush.unwrap_or(controls::brush_size_in_range(self.prefs.brush_size));
        self.viewer.brush = self.selected.map(|_| size);
        self.viewer.tool = match tool {
            Tool::Paint(_) => Tool::Paint(self.prefs.paint_colour),
            other => other,
        };
        self.prefs.brush_tool = self.viewer.tool;
    }

    /// Turns the picked photos a quarter turn clockwise (or back), as one step to undo.
    pub fn turn_picked(&mut self, clockwise: bool, now: f64) {
        let picked = self.picked();
        if picked.is_empty() {
            return;
        }
        let photos = self.photos.iter().filter(|p| self.is_picked(p.id)).map(|p| (p.id, p.settings.clone())).collect();
        let before = history::Step { photos, new_photos: self.prefs.photo_settings() };
        // Quick turns of one photo are one step, as a slider's drag is.
        let one = if let [id] = picked[..] { Some(id) } else { None };
        self.history.record(Change::Settings(before), one, now);
        for id in picked {
            if let Some(p) = self.photo_mut(id) {
                let more = if clockwise { 1 } else { 3 };
                p.settings.quarter_turns = (p.settings.quarter_turns + more) % 4;
                // The strokes and the crop stay on the parts of the photo they were set on.
                p.settings.brush = p.settings.brush.iter().map(|s| s.turned(more)).collect();
                p.settings.crop = p.settings.crop.map(|c| c.turned(more));
            }
        }
        // A frame being set is on the photo as it lay.
        self.cropping = None;
        self.settings_changed(now);
    }

    /// The picked photos, in the list's order: the one on screen and those picked besides it.
    pub fn picked(&self) -> Vec<u64> {
        self.photos.iter().map(|p| p.id).filter(|&id| self.is_picked(id)).collect()
    }

    pub fn is_picked(&self, id: u64) -> bool {
        self.selected == Some(id) || self.also_picked.contains(&id)
    }

    /// A click on a photo in the list: it goes on screen, alone (a plain click), added to or
    /// taken from the photos picked (Ctrl, ⌘ on a Mac), or with every photo between it and the
    /// photo last clicked without Shift (Shift).
    pub fn pick(&mut self, id: u64, modifiers: egui::Modifiers) {
        let position = |app: &Self, id| app.photos.iter().position(|p| p.id == id);
        let anchor = self.pick_anchor.filter(|&a| position(self, a).is_some()).or(self.selected);
        let run = anchor.and_then(|a| position(self, a)).zip(position(self, id)).filter(|_| modifiers.shift);
        if let Some((from, to)) = run {
            let range = from.min(to)..=from.max(to);
            self.also_picked = self.photos[range].iter().map(|p| p.id).filter(|&p| p != id).collect();
            self.pick_anchor = anchor;
            self.selected = Some(id);
            return;
        }
        self.pick_anchor = Some(id);
        if !modifiers.command {
            self.also_picked.clear();
            self.selected = Some(id);
        } else if self.selected == Some(id) {
            // Taken out: another picked photo goes on screen (the last one stays).
            if let Some(next) = self.picked().into_iter().find(|&p| p != id) {
                self.also_picked.remove(&next);
                self.selected = Some(next);
            }
        } else if !self.also_picked.remove(&id) {
            self.also_picked.extend(self.selected);
            self.selected = Some(id);
        }
    }

    /// Takes back the last change to the render size, turn or adjustments, or the last photos
    /// taken off the list (with `redo`, puts back the last one taken back). A change to one
    /// photo selects it, so that it is seen; photos put back are picked.
    pub fn undo(&mut self, redo: bool, now: f64) {
        // Out of `self` while it walks, as restoring a step changes the rest of the window.
        let mut history = std::mem::take(&mut self.history);
        history.walk(redo, |change| self.take_back(change, now));
        self.history = history;
        library::number_prints(&mut self.photos);
    }

    /// Restores the state `change` kept, and returns the state it replaced.
    fn take_back(&mut self, change: Change, now: f64) -> Change {
        match change {
            Change::Settings(step) => Change::Settings(self.restore_settings(step, now)),
            Change::Removed(photos) => Change::PutBack(self.put_back(photos)),
            Change::PutBack(ids) => {
                let taken = self.take_off(&ids);
                self.notice = Some(Notice::info(taken_off_text(taken.len())));
                Change::Removed(taken)
            }
            // Last made, first taken back; and the other way round when put back.
            Change::Several(changes) => {
                Change::Several(changes.into_iter().rev().map(|c| self.take_back(c, now)).collect())
            }
        }
    }

    /// Gives the photos in `step` their settings there, and returns what they had.
    fn restore_settings(&mut self, step: history::Step, now: f64) -> history::Step {
        let replaced = history::Step {
            photos: step
                .photos
                .iter()
                .filter_map(|(id, _)| self.photos.iter().find(|p| p.id == *id).map(|p| (p.id, p.settings.clone())))
                .collect(),
            new_photos: self.prefs.photo_settings(),
        };
        for (id, settings) in &step.photos {
            if let Some(p) = self.photo_mut(*id) {
                p.settings = settings.clone();
            }
        }
        self.prefs.remember_photo_settings(&step.new_photos);
        if let [(id, _)] = step.photos[..]
            && self.photos.iter().any(|p| p.id == id)
        {
            self.selected = Some(id);
            self.also_picked.clear();
            self.reveal_selected = true;
        }
        self.settings_changed(now);
        replaced
    }

    /// What a render of `p` with `model` is made with.
    fn key_for(p: &Photo, model: &ModelChoice) -> RenderKey {
        RenderKey { model: model.clone(), settings: p.settings.clone() }
    }

    fn device(&self) -> DeviceChoice {
        DeviceChoice::from_name(&self.prefs.device).unwrap_or(DeviceChoice::Auto)
    }

    /// The chosen model's file, or what to do to get it.
    pub fn model_choice(&self) -> Result<ModelChoice, String> {
        self.choice_for(&self.prefs.model)
    }

    /// What the worker needs to run `pick`, or why it cannot.
    fn choice_for(&self, pick: &ModelPick) -> Result<ModelChoice, String> {
        let device = self.device();
        match pick {
            ModelPick::BuiltIn => self
                .models
                .builtin
                .clone()
                .map(|path| ModelChoice { path, variant: None, device })
                .ok_or_else(|| "The built-in model file is missing; reinstall Tintype.".to_string()),
            ModelPick::Installed(name) => {
                let title = self.models.manifest.iter().find(|e| &e.name == name).map_or(name.as_str(), |e| &e.title);
                let path = self.models.installed.get(name).cloned().ok_or_else(|| {
                    format!("{title} is not installed: press Download under Model, or Import a weight file you have.")
                })?;
                Ok(ModelChoice { path, variant: crate::model::Variant::from_name(name), device })
            }
            // A file that has gone is reported by the worker when it tries to load it.
            ModelPick::File(path) => Ok(ModelChoice { path: path.clone(), variant: None, device }),
        }
    }

    /// The chosen model, unless it cannot run: not installed, or it would not load last time.
    fn runnable_model(&self) -> Result<ModelChoice, String> {
        let choice = self.model_choice()?;
        match &self.broken_model {
            Some((broken, why)) if *broken == choice => Err(why.clone()),
            _ => Ok(choice),
        }
    }

    /// Why the chosen model cannot run (not installed, a file that would not load), while it
    /// cannot: said above the viewer.
    pub fn model_problem(&self) -> Option<String> {
        self.runnable_model().err()
    }

    /// Whether the chosen model sees each photo in its own shape rather than stretched to the
    /// render square (the built-in model does; see `Compact::input_size`).
    fn model_sees_photo_shape(&mut self) -> bool {
        let Ok(choice) = self.model_choice() else { return false };
        if self.input_shape.as_ref().is_none_or(|(path, _)| *path != choice.path) {
            let photo_shape = crate::model::compact::Compact::file_sees_photo_shape(&choice.path);
            self.input_shape = Some((choice.path, photo_shape));
        }
        self.input_shape.as_ref().is_some_and(|(_, photo_shape)| *photo_shape)
    }

    fn photo_mut(&mut self, id: u64) -> Option<&mut Photo> {
        self.photos.iter_mut().find(|p| p.id == id)
    }

    pub fn selected_photo(&self) -> Option<&Photo> {
        self.selected.and_then(|id| self.photos.iter().find(|p| p.id == id))
    }

    /// The controls changed: render again, and remember them, once they settle.
    pub fn settings_changed(&mut self, now: f64) {
        self.changed_at = Some(now);
    }

    /// Saves the settings and the photo list now (on quit, every half minute; tests).
    pub fn save_prefs(&mut self) {
        self.saved_selection = self.selected;
        if let Some(saver) = &self.saver
            && let Err(e) = saver.save_now(self.snapshot())
        {
            self.notice = Some(Notice::error(format!("Settings could not be saved: {e}")));
        }
    }

    /// Saves the settings and the photo list without waiting on the disk.
    fn save_prefs_soon(&mut self) {
        self.saved_selection = self.selected;
        if let Some(saver) = &self.saver {
            saver.save_soon(self.snapshot());
        }
    }

    fn snapshot(&self) -> prefs::Snapshot {
        prefs::Snapshot { prefs: self.prefs.clone(), list: self.kept_list() }
    }

    fn poll(&mut self, ctx: &egui::Context) {
        let mut added = false;
        for loaded in self.loader.poll() {
            match loaded {
                Loaded::Found(path) => {
                    if let Some(p) = self.photos.iter_mut().find(|p| p.path == path) {
                        // A failed photo added again may have been mended (copied again in
                        // full, saved in another format): it is tried once more.
                        if matches!(p.status, Status::Failed(_)) {
                            p.status = Status::Idle;
                            self.requested.remove(&p.id);
                        }
                        self.selected.get_or_insert(p.id);
                        continue;
                    }
                    let id = self.next_id;
                    self.next_id += 1;
                    let shown_at_once = self.show_when_listed.as_ref() == Some(&path);
                    self.photos.push(Photo::new(id, path, self.prefs.photo_settings()));
                    self.selected.get_or_insert(id);
                    if shown_at_once {
                        self.show_when_listed = None;
                        self.pick(id, egui::Modifiers::NONE);
                        self.reveal_selected = true;
                    }
                    added = true;
                }
                Loaded::Thumbnail(path, image) => {
                    // Each print of a scan shows its part of the one thumbnail.
                    let mut texture = None;
                    for p in self.photos.iter_mut().filter(|p| p.path == path) {
                        let t = texture.get_or_insert_with(|| {
                            ctx.load_texture(format!("thumb-{}", p.id), image.clone(), Default::default())
                        });
                        p.thumbnail = Some(t.clone());
                    }
                }
                Loaded::Problem(text) => self.notice = Some(Notice::error(text)),
                Loaded::Gone(path) => self.kept_photo_gone(path),
            }
        }
        for event in self.worker.events() {
            self.on_event(ctx, event);
        }
        // Photos added and photos saved are kept with the list.
        let mut list_changed = added;
        for outcome in self.exporter.poll() {
            let photo = outcome.photo;
            // The exporter writes in the order it was handed requests.
            if let Some(at) = self.exports_in_flight.iter().position(|e| e.is_for(photo, outcome.shared)) {
                self.exports_in_flight.remove(at);
            }
            if !outcome.shared && self.export_batch.as_ref().is_some_and(|b| b.waits_for(photo)) {
                let settled = outcome.written.as_ref().map(|_| ()).map_err(Clone::clone);
                self.update_batch(photo, |b| b.settle(photo, settled));
            } else {
                self.notice = Some(match &outcome.written {
                    Ok(saved) => Notice {
                        folder: saved.file.parent().map(Path::to_owned),
                        ..Notice::info(format!("Saved {}", saved.file.display()))
                    },
                    Err(text) => Notice::error(text.clone()),
                });
            }
            if let Ok(saved) = outcome.written {
                self.exported.push(saved.file.clone());
                if let Some(p) = self.photo_mut(photo).filter(|_| !outcome.shared) {
                    p.saved_as = Some(saved);
                    list_changed = true;
                }
            }
        }
        if list_changed {
            self.save_prefs_soon();
        }
        if let Some(arrived) = self.inbox.as_ref().map(inbox::Inbox::poll).filter(|a| !a.is_empty()) {
            self.add_paths(arrived);
            ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
        }
        self.poll_dialog();
        self.poll_downloads();
        // The photo on screen is kept with the list: the next run comes back to it even if this
        // one ends without saying goodbye.
        if self.selected != self.saved_selection {
            self.save_prefs_soon();
        }
        if let Some(e) = self.saver.as_ref().and_then(prefs::Saver::error) {
            self.notice = Some(Notice::error(format!("Settings could not be saved: {e}")));
        }
    }

    fn on_event(&mut self, ctx: &egui::Context, event: Event) {
        match event {
            Event::Started { photo } | Event::Progress { photo, stage: Stage::Reading } if photo < SHEET_ID_BASE => {
                if let Some(p) = self.photo_mut(photo) {
                    p.status = Status::Working(Stage::Reading);
                }
            }
            Event::Decoded { photo, original, quarter_turns, other_pictures } if photo < SHEET_ID_BASE => {
                if let Some(p) = self.photo_mut(photo) {
                    (p.original, p.original_turns, p.other_pictures) = (Some(original), quarter_turns, other_pictures);
                }
            }
            Event::Progress { photo, stage } if photo < SHEET_ID_BASE => {
                if let Some(p) = self.photo_mut(photo) {
                    p.status = Status::Working(stage);
                }
            }
            Event::Finished { photo, model, settings, original, carried, result, took, device }
                if photo < SHEET_ID_BASE =>
            {
                self.renders_finished += 1;
                self.carried.insert(photo, carried);
                let now = self.clock;
                if let Some(p) = self.photo_mut(photo) {
                    (p.original, p.original_turns) = (Some(original), settings.quarter_turns);
                    p.result = Some((RenderKey { model, settings }, result));
                    p.took = Some((took, device));
                    p.released = None;
                    p.status = Status::Done;
                    p.last_used = now;
                }
                if self.pending_export.contains(&photo) {
                    self.try_export(photo);
                }
                self.release_pixels();
            }
            Event::Failed { photo, message, by_model: true } if photo < SHEET_ID_BASE => {
                // The photo keeps what it had; the model is not asked again until it changes.
                let message = with_advice(&message);
                if let Some(key) = self.requested.remove(&photo) {
                    self.broken_model = Some((key.model, message.clone()));
                }
                if let Some(p) = self.photo_mut(photo) {
                    p.status = if p.result.is_some() { Status::Done } else { Status::Idle };
                }
                let unsaved = std::mem::take(&mut self.pending_export);
                if !unsaved.is_empty() {
                    self.notice = Some(Notice::error(format!("Not saved: {message}")));
                }
                for id in unsaved {
                    self.update_batch(id, |b| b.settle(id, Err(message.clone())));
                }
            }
            Event::Failed { photo, message, .. } if photo < SHEET_ID_BASE => {
                let awaited = self.pending_export.remove(&photo);
                let message = with_advice(&message);
                if awaited && !self.export_batch.as_ref().is_some_and(|b| b.waits_for(photo)) {
                    self.notice = Some(Notice::error(format!("Not saved: {message}")));
                }
                self.update_batch(photo, |b| b.settle(photo, Err(message.clone())));
                if let Some(p) = self.photo_mut(photo) {
                    p.status = Status::Failed(message);
                }
            }
            Event::Read { photo } if photo < SHEET_ID_BASE => {
                // Unless a render was asked for since, the photo is as it was before it was read.
                let rendering = self.requested.contains_key(&photo);
                if let Some(p) = self.photo_mut(photo).filter(|_| !rendering) {
                    let made = p.result.is_some() || p.released.is_some();
                    p.status = if made { Status::Done } else { Status::Idle };
                }
            }
            Event::Cancelled { photo } if photo < SHEET_ID_BASE => {
                self.requested.remove(&photo);
                if let Some(p) = self.photo_mut(photo) {
                    p.status = Status::Idle;
                }
            }
            Event::FellBackToCpu { render_factor, .. } => {
                self.notice = Some(Notice::info(format!(
                    "The graphics card ran out of memory at render size {render_factor}; continuing on the CPU (slower). A smaller render size may fit on the card."
                )));
            }
            Event::Finished { photo, result, took, .. } => self.sheet_result(ctx, photo, Ok((result, took))),
            Event::Failed { photo, message, .. } => self.sheet_result(ctx, photo, Err(with_advice(&message))),
            _ => {}
        }
    }

    fn sheet_result(
        &mut self,
        ctx: &egui::Context,
        id: u64,
        result: Result<(Arc<DynamicImage>, std::time::Duration), String>,
    ) {
        let Some(sheet) = &mut self.sheet else { return };
        let Some(tile) = id.checked_sub(sheet.first_job).and_then(|i| sheet.tiles.get_mut(i as usize)) else {
            return; // for a sheet closed since
        };
        let index = id - sheet.first_job;
        tile.took = result.as_ref().ok().map(|(_, took)| *took);
        tile.render = Some(result.map(|(img, _)| {
            let small = img.thumbnail(320, 320);
            ctx.load_texture(format!("sheet-{index}"), library::to_color_image(&small), Default::default())
        }));
    }

    /// Submits what needs rendering: the selected photo first, then (one at a time, so the
    /// selected photo never waits behind a long queue) the others.
    fn schedule(&mut self, now: f64) {
        self.clock += 1;
        let clock = self.clock;
        if let Some(p) = self.selected.and_then(|id| self.photo_mut(id)) {
            p.last_used = clock;
            p.waits_until_shown = false;
        }
        if let Some(t) = self.changed_at {
            if now - t < SETTLE_SECONDS {
                return;
            }
            self.changed_at = None;
            self.save_prefs_soon();
            // The photo being rendered is stopped if what it is rendered with has changed (a
            // photo in the background also gives way to the one on screen, below).
            let model = self.runnable_model().ok();
            let outdated = |p: &Photo| {
                matches!(p.status, Status::Working(_))
                    && self.requested.get(&p.id) != model.as_ref().map(|m| Self::key_for(p, m)).as_ref()
            };
            if self.photos.iter().any(outdated) {
                self.worker.cancel_current();
            }
        }
        // A model that cannot run is no photo's fault: it is said above the canvas, and the
        // photos keep what they have until it can. The photo on screen is still read, so the
        // person sees what waits.
        let Ok(model) = self.runnable_model() else {
            self.read_selected();
            return;
        };
        // A photo on screen or to be exported needs a current result. The others are rendered
        // in the background unless their pixels were let go to bound memory (such a photo would
        // be let go again) or they were kept from the last run: those wait until they are shown
        // or exported. Renders for export wait while the exporter is behind, as each holds
        // pixels.
        let exporter_free = self.exports_in_flight.len() < 2;
        let needs = |app: &Self, p: &Photo| {
            let shown = app.selected == Some(p.id);
            let to_export = app.pending_export.contains(&p.id) && exporter_free;
            let wanted = shown || to_export || (p.released.is_none() && !p.waits_until_shown);
            let key = Self::key_for(p, &model);
            wanted && !p.is_current(&key) && app.requested.get(&p.id) != Some(&key)
        };
        let busy = self.photos.iter().any(|p| matches!(p.status, Status::Queued | Status::Working(_)));
        let selected = self.selected.and_then(|id| self.photos.iter().find(|p| p.id == id));
        let next = match selected {
            Some(p) if needs(self, p) => Some(p.id),
            _ if busy => None,
            _ => self.photos.iter().find(|p| needs(self, p) && !matches!(p.status, Status::Failed(_))).map(|p| p.id),
        };
        if let Some(p) = next.and_then(|id| self.photos.iter().find(|p| p.id == id)) {
            // The photo on screen goes before another rendering behind it, which is stopped
            // and rendered again later.
            let on_screen = self.selected == Some(p.id);
            if on_screen && self.photos.iter().any(|o| o.id != p.id && matches!(o.status, Status::Working(_))) {
                self.worker.cancel_current();
            }
            let key = Self::key_for(p, &model);
            self.submit(p.id, key);
        }
    }

    /// Asks the worker to read the photo on screen, when it has no pixels and is not on its way.
    fn read_selected(&mut self) {
        let Some(p) = self.selected.and_then(|id| self.photo_mut(id)) else { return };
        if p.shown_original().is_none() && matches!(p.status, Status::Idle | Status::Done) {
            p.status = Status::Queued;
            let job =
                Job { photo: p.id, path: p.path.clone(), model: None, settings: p.settings.clone(), on_screen: true };
            self.worker.submit(job);
        }
    }

    /// Lets go of the pixels of photos neither on screen nor waiting to be exported, longest
    /// unused first, while those held take more than the budget.
    fn release_pixels(&mut self) {
        let mut held: Vec<(u64, usize, u64)> = self
            .photos
            .iter()
            .filter(|p| self.selected != Some(p.id) && !self.pending_export.contains(&p.id))
            .map(|p| (p.last_used, p.pixel_bytes(), p.id))
            .filter(|&(_, bytes, _)| bytes > 0)
            .collect();
        let mut total: usize = self.photos.iter().map(Photo::pixel_bytes).sum();
        held.sort_unstable();
        for (_, bytes, id) in held {
            if total <= self.pixel_budget {
                break;
            }
            total -= bytes;
            // Asked for again when it is shown or exported.
            self.requested.remove(&id);
            if let Some(p) = self.photo_mut(id) {
                p.release();
            }
        }
    }

    fn submit(&mut self, id: u64, key: RenderKey) {
        let on_screen = self.selected == Some(id);
        let Some(p) = self.photo_mut(id) else { return };
        p.status = Status::Queued;
        let job = Job {
            photo: id,
            path: p.path.clone(),
            model: Some(key.model.clone()),
            settings: key.settings.clone(),
            on_screen,
        };
        self.requested.insert(id, key);
        self.worker.submit(job);
    }

    /// Exports the picked photos.
    pub fn export_picked(&mut self) {
        for id in self.picked() {
            self.export(id);
        }
    }

    /// Exports one photo now if its result is current, else once it is.
    pub fn export(&mut self, id: u64) {
        if let Some(Status::Failed(message)) = self.photos.iter().find(|p| p.id == id).map(|p| &p.status) {
            self.notice = Some(Notice::error(format!("Not saved: {message}")));
            return;
        }
        self.queue_export(id);
        if self.pending_export.contains(&id)
            && let Some(p) = self.photos.iter().find(|p| p.id == id)
        {
            self.notice = Some(Notice::info(format!("{} will be saved once it is colorized.", p.name)));
        }
    }

    fn queue_export(&mut self, id: u64) {
        self.pending_export.insert(id);
        self.try_export(id);
    }

    /// Exports every photo that has not failed, each once it is colorized; the status line
    /// follows the batch and ends with a tally. A photo already saved in the export folder as it
    /// is now (same model, settings and format, the file still there) is not saved again, so
    /// pressing it after adding photos saves only the new ones; nor is one being saved so now
    /// (Export pressed a moment before), which the batch counts once it is written.
    pub fn export_all(&mut self) {
        let (format, folder) = (self.export_format(), self.export_folder());
        let model = self.runnable_model().ok();
        let key = |p: &Photo| model.as_ref().map(|m| Self::key_for(p, m));
        let already_saved = |p: &Photo| {
            key(p).zip(p.saved_as.as_ref()).is_some_and(|(key, saved)| saved.is_same(&key, format, &folder))
        };
        let being_saved = |p: &Photo| {
            key(p).is_some_and(|key| self.exports_in_flight.iter().any(|e| e.saves(p.id, &key, format, &folder)))
        };
        let (mut ids, mut failed, mut already, mut writing) = (Vec::new(), 0, 0, HashSet::new());
        for p in &self.photos {
            if matches!(p.status, Status::Failed(_)) {
                failed += 1;
            } else if already_saved(p) {
                already += 1;
            } else {
                ids.push(p.id);
                if being_saved(p) {
                    writing.insert(p.id);
                }
            }
        }
        if ids.is_empty() {
            self.notice = Some(if already > 0 {
                Notice {
                    folder: Some(folder.clone()),
                    ..Notice::info(format!(
                        "Nothing new to export: {} already saved in {} as {} now{}.",
                        if already == 1 { "the photo is".to_string() } else { format!("all {already} photos are") },
                        folder.display(),
                        if already == 1 { "it is" } else { "they are" },
                        match failed {
                            0 => String::new(),
                            1 => "; 1 other could not be colorized".to_string(),
                            n => format!("; {n} others could not be colorized"),
                        }
                    ))
                }
            } else {
                let why = if self.photos.is_empty() { "add photos first" } else { "no photo could be colorized" };
                Notice::info(format!("Nothing to export: {why}."))
            });
            return;
        }
        let batch = export::Batch::new(ids.iter().copied(), failed, already, folder);
        self.notice = Some(batch.notice());
        self.export_batch = Some(batch);
        for id in ids.into_iter().filter(|id| !writing.contains(id)) {
            self.queue_export(id);
        }
        // Those colorized already went to be saved at once; the rest set the time left.
        if let Some(batch) = self.export_batch.as_mut() {
            batch.colorizing(self.pending_export.iter().copied());
        }
    }

    /// "Tintype", after the photo on screen's name and an Export all's progress.
    fn window_title(&self) -> String {
        let mut title = String::new();
        if let Some(batch) = &self.export_batch {
            let (saved, total) = batch.progress();
            title += &format!("Exporting {saved} of {total} · ");
        }
        if let Some(p) = self.selected_photo() {
            title += &format!("{} — ", p.name);
        }
        title + "Tintype"
    }

    /// Stops the "Export all" under way: the photos not yet being written are not saved (the
    /// one or two being written are finished); the status line then gives the tally.
    pub fn stop_export_all(&mut self) {
        let Some(batch) = self.export_batch.as_mut() else { return };
        let not_started: Vec<u64> = self.pending_export.iter().copied().filter(|&id| batch.waits_for(id)).collect();
        for id in &not_started {
            self.pending_export.remove(id);
        }
        batch.stop(not_started);
        self.notice = Some(batch.notice());
        if batch.is_done() {
            self.export_batch = None;
        }
    }

    /// Applies `change` to the "Export all" under way if it waits for `photo`. The status line
    /// follows; once nothing is left to wait for, the batch ends with its tally there.
    fn update_batch(&mut self, photo: u64, change: impl FnOnce(&mut export::Batch)) {
        let Some(batch) = self.export_batch.as_mut().filter(|b| b.waits_for(photo)) else { return };
        change(batch);
        self.notice = Some(batch.notice());
        if batch.is_done() {
            self.export_batch = None;
        }
    }

    fn export_format(&self) -> Format {
        match self.prefs.export_format.as_str() {
            "jpeg" => Format::Jpeg { quality: 92 },
            other => Format::from_name(other).unwrap_or(Format::Png),
        }
    }

    fn export_folder(&self) -> PathBuf {
        self.prefs.export_dir.clone().unwrap_or_else(default_export_folder)
    }

    fn try_export(&mut self, id: u64) {
        let model = match self.runnable_model() {
            Ok(model) => model,
            Err(text) => {
                self.pending_export.remove(&id);
                self.notice = Some(Notice::error(text.clone()));
                self.update_batch(id, |b| b.settle(id, Err(text)));
                return;
            }
        };
        let Some(p) = self.photos.iter().find(|p| p.id == id) else { return };
        // Not rendered with the current model and its settings yet: the scheduler renders it,
        // then this runs again.
        if !p.is_current(&Self::key_for(p, &model)) {
            return;
        }
        if let Some(request) = self.export_request(p, export::What::Result, self.export_format()) {
            self.send_export(request);
            self.pending_export.remove(&id);
        }
    }

    /// Photos still to be saved: waiting to be colorized for export, or being written.
    pub fn exports_unfinished(&self) -> usize {
        self.pending_export.len() + self.exports_in_flight.len()
    }

    /// A close cut short while photos are still to be saved, asked about in `quit_dialog`.
    fn guard_close(&mut self, ctx: &egui::Context) {
        let unfinished = self.exports_unfinished() > 0;
        // Asked and all saved meanwhile: the close goes ahead.
        if matches!(self.quit, Quit::Asking | Quit::WhenSaved) && !unfinished {
            self.quit = Quit::Now;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if ctx.input(|i| i.viewport().close_requested()) && unfinished && self.quit != Quit::Now {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.quit = Quit::Asking;
        }
    }

    fn send_export(&mut self, request: export::Request) {
        self.exports_in_flight.push(export::InFlight::of(&request));
        self.exporter.submit(request);
    }

    /// Exports the selected photo's before/after picture for sharing.
    pub fn share(&mut self) {
        let Some(p) = self.selected_photo() else { return };
        let what = export::What::Share(self.prefs.share_layout);
        match self.export_request(p, what, Format::Jpeg { quality: 90 }) {
            Some(request) => self.send_export(request),
            None => self.notice = Some(Notice::info("Wait for the photo to be colorized, then share it.")),
        }
    }

    /// Puts photo `id`, colorized as it is now, on the clipboard, to paste into a message or a
    /// document (Ctrl+C, or Copy in its right-click menu).
    pub fn copy_result(&mut self, id: u64) {
        let model = match self.runnable_model() {
            Ok(model) => model,
            Err(text) => {
                self.notice = Some(Notice::error(text));
                return;
            }
        };
        let Some(p) = self.photos.iter().find(|p| p.id == id) else { return };
        if let Status::Failed(message) = &p.status {
            self.notice = Some(Notice::error(format!("Not copied: {message}")));
            return;
        }
        let Some((_, result)) = p.result.as_ref().filter(|_| p.is_current(&Self::key_for(p, &model))) else {
            self.notice = Some(Notice::info(format!("Wait for {} to be colorized, then copy it.", p.name)));
            return;
        };
        let rgba = result.to_rgba8();
        let size = [rgba.width() as usize, rgba.height() as usize];
        self.ctx.copy_image(egui::ColorImage::from_rgba_unmultiplied(size, rgba.as_raw()));
        self.notice =
            Some(Notice::info(format!("Copied {}, colorized: paste it into a message or a document.", p.name)));
    }

    /// A picture pasted from the clipboard (copied in a browser, a chat or an image viewer) is
    /// saved as a PNG in the data folder and listed like a dropped file: the pipeline, the kept
    /// list and Export all work from files.
    fn add_pasted_picture(&mut self, picture: &egui::ColorImage) {
        let Some(dir) = self.store.as_ref().map(Store::pasted_dir) else {
            self.notice = Some(Notice::error(
                "A pasted picture has nowhere to be kept (no home folder); set TINTYPE_DATA_DIR to a folder.",
            ));
            return;
        };
        match save_pasted(picture, &dir) {
            Ok(path) => {
                self.show_when_listed = Some(path.clone());
                self.add_paths(vec![path]);
            }
            Err(why) => self.notice = Some(Notice::error(why)),
        }
    }

    /// What the exporter needs to write `what` of photo `p`, once it has a result.
    fn export_request(&self, p: &Photo, what: export::What, format: Format) -> Option<export::Request> {
        let (Some((key, result)), Some(original)) = (&p.result, &p.original) else { return None };
        // Mid-turn, the photo and its result may be turned differently: wait for both.
        if p.original_turns != key.settings.quarter_turns {
            return None;
        }
        let stem = p.path.file_stem().map_or_else(|| "photo".into(), |s| s.to_string_lossy().into_owned());
        Some(export::Request {
            photo: p.id,
            source: p.path.clone(),
            stem: match p.print {
                Some(k) => format!("{stem}-print{k}"),
                None => stem,
            },
            // The before/after picture shows the part of the photo the result is of.
            original: match (&what, key.settings.crop) {
                (export::What::Share(_), Some(crop)) => Arc::new(crop.apply(original)),
                _ => original.clone(),
            },
            result: result.clone(),
            // The shared picture is a new one, in plain sRGB, with no size to print at.
            carried: match what {
                export::What::Result => {
                    self.carried.get(&p.id).map(|c| c.turned(key.settings.quarter_turns)).unwrap_or_default()
                }
                export::What::Share(_) => Carried::default(),
            },
            what,
            format,
            folder: self.export_folder(),
            model: model_name(&key.model.path),
            key: key.clone(),
        })
    }

    /// Renders the selected photo at the sheet's six render factors.
    pub fn open_render_size_sheet(&mut self) {
        if let Err(text) = self.runnable_model() {
            self.notice = Some(Notice::error(text));
            return;
        }
        let tiles =
            SHEET_FACTORS.iter().map(|&rf| (self.render_size_label(rf), SheetChoice::RenderFactor(rf))).collect();
        self.open_sheet(tiles);
    }

    /// Renders the selected photo with each model at hand (installed, or the weight file in
    /// use), at its own settings.
    pub fn open_model_sheet(&mut self) {
        let tiles = self.models_at_hand().into_iter().map(|(title, pick)| (title, SheetChoice::Model(pick))).collect();
        self.open_sheet(tiles);
    }

    /// The models that can be tried now, with their titles: the built-in one, each installed,
    /// and the weight file in use.
    pub fn models_at_hand(&self) -> Vec<(String, ModelPick)> {
        let mut models = Vec::new();
        if self.models.builtin.is_some() {
            models.push((prefs::BUILT_IN_TITLE.to_string(), ModelPick::BuiltIn));
        }
        for entry in self.models.manifest.iter().filter(|e| self.models.installed.contains_key(&e.name)) {
            models.push((entry.title.clone(), ModelPick::Installed(entry.name.clone())));
        }
        if let ModelPick::File(path) = &self.prefs.model {
            models.push((prefs::file_title(path), self.prefs.model.clone()));
        }
        models.truncate(SHEET_STRIDE as usize);
        models
    }

    /// Closes the sheet, if one is open, and drops its renders still to be made: a sheet of
    /// DeOldify models closed at once would otherwise keep the CPU busy for a minute before the
    /// photos' own renders.
    pub fn close_sheet(&mut self) {
        let Some(sheet) = self.sheet.take() else { return };
        let waiting = sheet.tiles.iter().enumerate().filter(|(_, t)| t.render.is_none());
        self.worker.withdraw(waiting.map(|(i, _)| sheet.first_job + i as u64).collect());
        // One of them may be under way; never a photo's own render, which may have started
        // while its status still says queued.
        if !self.photos.iter().any(|p| matches!(p.status, Status::Queued | Status::Working(_))) {
            self.worker.cancel_current();
        }
    }

    /// Renders the selected photo as each tile says, at its own settings otherwise.
    fn open_sheet(&mut self, tiles: Vec<(String, SheetChoice)>) {
        let Some(p) = self.selected_photo() else { return };
        let (path, photo_settings) = (p.path.clone(), p.settings.clone());
        self.close_sheet();
        self.sheets_opened += 1;
        let mut sheet = Sheet { first_job: SHEET_ID_BASE + self.sheets_opened * SHEET_STRIDE, tiles: Vec::new() };
        for (i, (label, choice)) in tiles.into_iter().enumerate() {
            let (model, settings) = match &choice {
                SheetChoice::RenderFactor(rf) => {
                    (self.runnable_model(), Settings { render_factor: *rf, ..photo_settings.clone() })
                }
                SheetChoice::Model(pick) => (self.choice_for(pick), photo_settings.clone()),
            };
            let render = match model {
                Ok(model) => {
                    let photo = sheet.first_job + i as u64;
                    self.worker.submit(Job {
                        photo,
                        path: path.clone(),
                        model: Some(model),
                        settings,
                        on_screen: false,
                    });
                    None
                }
                Err(why) => Some(Err(why)),
            };
            sheet.tiles.push(SheetTile { label, choice, render, took: None });
        }
        self.sheet = Some(sheet);
    }

    /// Selects the photo `step` places down the list (up when negative), stopping at its ends.
    fn select_step(&mut self, step: isize) {
        let at = self.selected.and_then(|id| self.photos.iter().position(|p| p.id == id));
        let last = self.photos.len() as isize - 1;
        let to = at.map_or(0, |i| (i as isize + step).clamp(0, last.max(0))) as usize;
        if let Some(p) = self.photos.get(to) {
            self.selected = Some(p.id);
            (self.also_picked, self.pick_anchor) = (HashSet::new(), None);
            self.reveal_selected = true;
        }
    }

    /// Takes the picked photos off the list (the files stay).
    pub fn remove_picked(&mut self, now: f64) {
        self.remove(&self.picked(), now);
    }

    /// Takes every photo off the list (the files stay).
    pub fn clear_list(&mut self, now: f64) {
        self.remove(&self.photos.iter().map(|p| p.id).collect::<Vec<_>>(), now);
    }

    /// Takes photos off the list (the files stay), as one step to undo. If the one on screen
    /// goes, the photo after the last of them goes on screen, or at the list's end the one
    /// before the first.
    fn remove(&mut self, ids: &[u64], now: f64) {
        let taken = self.take_off(ids);
        if taken.is_empty() {
            return;
        }
        let them = if taken.len() == 1 { "it" } else { "them" };
        let undo = command_key(&self.ctx, egui::Key::Z);
        self.notice = Some(Notice::info(format!("{}; {undo} puts {them} back.", taken_off_text(taken.len()))));
        self.history.record(Change::Removed(taken), None, now);
    }

    /// Takes photos off the list and returns them, each with its place, in the list's order.
    /// Their pixels and thumbnails are let go while they are off it.
    fn take_off(&mut self, ids: &[u64]) -> Vec<(usize, Photo)> {
        // A set, and one pass over the list: clearing thousands of photos stays linear.
        let gone: HashSet<u64> = ids.iter().copied().collect();
        let Some(first) = self.photos.iter().position(|p| gone.contains(&p.id)) else { return Vec::new() };
        let last = self.photos.iter().rposition(|p| gone.contains(&p.id)).unwrap_or(first);
        let after = self.photos.get(last + 1).map(|p| p.id);
        let before = first.checked_sub(1).map(|i| self.photos[i].id);
        let mut taken = Vec::new();
        let mut kept = Vec::with_capacity(self.photos.len());
        for (i, mut p) in std::mem::take(&mut self.photos).into_iter().enumerate() {
            if gone.contains(&p.id) {
                p.release();
                p.thumbnail = None;
                p.status = match p.status {
                    Status::Failed(why) => Status::Failed(why),
                    _ if p.released.is_some() => Status::Done,
                    _ => Status::Idle,
                };
                taken.push((i, p));
            } else {
                kept.push(p);
            }
        }
        self.photos = kept;
        for id in &gone {
            self.also_picked.remove(id);
            self.requested.remove(id);
            self.pending_export.remove(id);
            self.carried.remove(id);
            self.update_batch(*id, |b| b.forget(*id));
        }
        if self.selected.is_some_and(|id| gone.contains(&id)) {
            self.selected = after.or(before);
        }
        library::number_prints(&mut self.photos);
        self.save_prefs_soon();
        taken
    }

    /// Puts photos taken off the list back in their places, picked, and returns their ids.
    /// One added again meanwhile is on the list already and is left. Their thumbnails are
    /// asked for again (from the cache), and a file gone meanwhile is named and left off as a
    /// kept photo would be.
    fn put_back(&mut self, mut photos: Vec<(usize, Photo)>) -> Vec<u64> {
        // The same picture (file and crop) listed again since is not listed twice.
        let mut listed: HashMap<&Path, Vec<_>> = HashMap::new();
        for p in &self.photos {
            listed.entry(p.path.as_path()).or_default().push(p.settings.crop);
        }
        let asked = photos.len();
        photos.retain(|(_, p)| !listed.get(p.path.as_path()).is_some_and(|crops| crops.contains(&p.settings.crop)));
        let ids: Vec<u64> = photos.iter().map(|(_, p)| p.id).collect();
        if ids.is_empty() {
            let which = if asked == 1 { "The photo is" } else { "Those photos are" };
            self.notice = Some(Notice::info(format!("{which} on the list again already.")));
            return ids;
        }
        self.loader.look_for_kept(photos.iter().map(|(_, p)| p.path.clone()).collect());
        // One merge, in order: each goes back where it was if the list is as it was then.
        let mut back = photos.into_iter().peekable();
        let mut merged = Vec::with_capacity(self.photos.len() + ids.len());
        for p in std::mem::take(&mut self.photos) {
            while let Some((_, photo)) = back.next_if(|(i, _)| *i <= merged.len()) {
                merged.push(photo);
            }
            merged.push(p);
        }
        merged.extend(back.map(|(_, p)| p));
        self.photos = merged;
        self.selected = ids.first().copied();
        self.also_picked = ids.iter().skip(1).copied().collect();
        self.reveal_selected = true;
        let n = ids.len();
        self.notice = Some(Notice::info(if n == 1 {
            "Put 1 photo back on the list.".into()
        } else {
            format!("Put {n} photos back on the list.")
        }));
        self.save_prefs_soon();
        ids
    }

    fn handle_input(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).collect());
        if !dropped.is_empty() {
            self.add_paths(dropped);
        }
        let pasted: Vec<PathBuf> = ctx.input(|i| {
            i.events
                .iter()
                .filter_map(|e| if let egui::Event::Paste(text) = e { Some(pasted_paths(text)) } else { None })
                .flatten()
                .collect()
        });
        if !pasted.is_empty() {
            self.add_paths(pasted);
        }
        let pictures: Vec<Arc<egui::ColorImage>> = ctx.input(|i| {
            i.events
                .iter()
                .filter_map(|e| if let egui::Event::PasteImage(p) = e { Some(p.clone()) } else { None })
                .collect()
        });
        for picture in pictures {
            self.add_pasted_picture(&picture);
        }
        // Delete belongs to a text field being typed in (a slider's value) before the list.
        let typing = ctx.text_edit_focused();
        // The arrows belong to a focused control (the split handle, the viewer, a slider).
        let free = ctx.memory(|m| m.focused().is_none());
        let (open, export, remove, step, redo, undo, turn_left, turn_right, pick_all, brush, crop) =
            ctx.input_mut(|i| {
                use egui::{Key, Modifiers};
                let mut key = |k| !typing && i.consume_key(Modifiers::NONE, k);
                let next = key(Key::PageDown) || (free && key(Key::ArrowDown));
                let previous = key(Key::PageUp) || (free && key(Key::ArrowUp));
                // A text field being typed in keeps its own undo. Ctrl+Z would also match
                // Ctrl+Shift+Z, so redo is asked first.
                let redo = !typing
                    && (i.consume_key(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z)
                        || i.consume_key(Modifiers::COMMAND, Key::Y));
                (
                    i.consume_key(Modifiers::COMMAND, Key::O),
                    i.consume_key(Modifiers::COMMAND, Key::E),
                    !typing && i.consume_key(Modifiers::NONE, Key::Delete),
                    next as isize - previous as isize,
                    redo,
                    !typing && i.consume_key(Modifiers::COMMAND, Key::Z),
                    i.consume_key(Modifiers::COMMAND, Key::L),
                    i.consume_key(Modifiers::COMMAND, Key::R),
                    // In a text field being typed in, Ctrl+A is the field's own.
                    !typing && i.consume_key(Modifiers::COMMAND, Key::A),
                    !typing && i.consume_key(Modifiers::NONE, Key::B),
                    !typing && i.consume_key(Modifiers::NONE, Key::C),
                )
            });
        // Ctrl+C copies the photo on screen, unless a text field or a label's selected text
        // is what the person copies.
        let text_selected =
            ctx.plugin_opt::<egui::text_selection::LabelSelectionState>().is_some_and(|p| p.lock().has_selection());
        let copy = !typing && !text_selected && ctx.input(|i| i.events.iter().any(|e| matches!(e, egui::Event::Copy)));
        if let Some(id) = self.selected.filter(|_| copy) {
            self.copy_result(id);
        }
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::F1)) {
            self.help_open = !self.help_open;
        }
        let full = ctx.input(|i| i.viewport().fullscreen.unwrap_or(false));
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::F11)) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(!full));
        }
        // Escape closes, in turn, a menu (egui's own), Help, the render-size sheet, a crop being
        // set, then puts the brush down and leaves the full screen; the quit question and a text
        // field being typed in keep it for themselves.
        let cropping = self.crop_edit().is_some();
        let closable = self.help_open || self.sheet.is_some() || cropping || self.viewer.brush.is_some() || full;
        let busy = typing || egui::Popup::is_any_open(ctx) || matches!(self.quit, Quit::Asking | Quit::WhenSaved);
        if closable && !busy && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape)) {
            if self.help_open {
                self.help_open = false;
            } else if self.sheet.is_some() {
                self.close_sheet();
            } else if cropping {
                self.cropping = None;
            } else if self.viewer.brush.is_some() {
                self.viewer.brush = None;
            } else {
                ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(false));
            }
        }
        if brush {
            self.toggle_brush();
        }
        if crop {
            self.toggle_crop();
        }
        // [ and ] size the brush while it is up, as in photo editors.
        if let Some(size) = self.viewer.brush.filter(|_| !typing) {
            let (smaller, larger) = ctx.input_mut(|i| {
                use egui::{Key, Modifiers};
                (i.consume_key(Modifiers::NONE, Key::OpenBracket), i.consume_key(Modifiers::NONE, Key::CloseBracket))
            });
            if smaller || larger {
                let size = controls::brush_size_in_range(size * if larger { 1.25 } else { 0.8 });
                (self.viewer.brush, self.prefs.brush_size) = (Some(size), size);
            }
        }
        if pick_all {
            self.also_picked = self.photos.iter().map(|p| p.id).filter(|&id| self.selected != Some(id)).collect();
        }
        if turn_left || turn_right {
            self.turn_picked(turn_right, ctx.input(|i| i.time));
        }
        if redo || undo {
            self.undo(redo, ctx.input(|i| i.time));
        }
        if step != 0 {
            self.select_step(step);
        }
        if open {
            self.open_dialog(DialogPurpose::Photos);
        }
        if export {
            self.export_picked();
        }
        if remove {
            self.remove_picked(ctx.input(|i| i.time));
        }
    }

    fn open_dialog(&mut self, purpose: DialogPurpose) {
        if self.dialog.is_some() {
            return;
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let start = self.prefs.recent_folders.first().cloned();
        // The dialog runs on its own thread so the window keeps drawing behind it.
        let dialog = rfd::AsyncFileDialog::new();
        let dialog = match &start {
            Some(dir) => dialog.set_directory(dir),
            None => dialog,
        };
        let future: std::pin::Pin<Box<dyn std::future::Future<Output = Vec<PathBuf>> + Send>> = match purpose {
            DialogPurpose::Photos => {
                let d = dialog.add_filter("Photos", &crate::io::photos::PHOTO_EXTENSIONS).set_title("Add photos");
                Box::pin(async move {
                    d.pick_files().await.unwrap_or_default().iter().map(|f| f.path().to_owned()).collect()
                })
            }
            DialogPurpose::Folder | DialogPurpose::ExportFolder => {
                let title = if purpose == DialogPurpose::Folder { "Add a folder of photos" } else { "Export to" };
                let d = dialog.set_title(title);
                Box::pin(async move { d.pick_folder().await.map(|f| f.path().to_owned()).into_iter().collect() })
            }
            DialogPurpose::ModelFile | DialogPurpose::Import => {
                let d =
                    dialog.add_filter("Model weights", &["pth", "pkl", "safetensors"]).set_title("Choose a model file");
                Box::pin(async move { d.pick_file().await.map(|f| f.path().to_owned()).into_iter().collect() })
            }
        };
        std::thread::spawn(move || {
            let _ = tx.send(pollster::block_on(future));
        });
        self.dialog = Some(rx);
        self.dialog_purpose = purpose;
    }

    fn poll_dialog(&mut self) {
        let Some(rx) = &self.dialog else { return };
        let Ok(paths) = rx.try_recv() else { return };
        self.dialog = None;
        if paths.is_empty() {
            return;
        }
        match self.dialog_purpose {
            DialogPurpose::Photos | DialogPurpose::Folder => self.add_paths(paths),
            DialogPurpose::ModelFile => {
                self.prefs.model = ModelPick::File(paths[0].clone());
                self.broken_model = None;
                self.settings_changed(0.0);
            }
            DialogPurpose::Import => self.import_model(paths[0].clone()),
            DialogPurpose::ExportFolder => {
                self.prefs.export_dir = Some(paths[0].clone());
                self.save_prefs_soon();
            }
        }
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.poll(&ctx);
        self.guard_close(&ctx);
        self.handle_input(&ctx);
        let now = ctx.input(|i| i.time);
        self.schedule(now);
        self.show(ui);
        let title = self.window_title();
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        let working = self.photos.iter().any(|p| matches!(p.status, Status::Queued | Status::Working(_)));
        if self.changed_at.is_some() || working || self.downloads.active() {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }

    fn save(&mut self, _storage: &mut dyn eframe::Storage) {
        self.save_prefs();
    }
}

/// The files in pasted text: file managers copy a file as its path or as a file:// URI, where a
/// space is "%20" and a Windows path is "file:///C:/…". Lines that name no existing file are left.
fn pasted_paths(text: &str) -> Vec<PathBuf> {
    text.lines()
        .map(str::trim)
        .map(|line| match url::Url::parse(line) {
            Ok(uri) if uri.scheme() == "file" => uri.to_file_path().unwrap_or_default(),
            _ => PathBuf::from(line),
        })
        .filter(|p| p.exists())
        .collect()
}

/// Writes a pasted picture to `dir` as `pasted-N.png` (the first N free), opaque: a pixel that
/// is partly transparent is shown over white, as a viewer shows it.
fn save_pasted(picture: &egui::ColorImage, dir: &Path) -> Result<PathBuf, String> {
    let [w, h] = picture.size;
    let mut rgb = Vec::with_capacity(w * h * 3);
    for c in &picture.pixels {
        let [r, g, b, a] = c.to_srgba_unmultiplied();
        let over_white = |v: u8| ((u32::from(v) * u32::from(a) + 255 * (255 - u32::from(a)) + 127) / 255) as u8;
        rgb.extend([over_white(r), over_white(g), over_white(b)]);
    }
    let image = image::RgbImage::from_raw(w as u32, h as u32, rgb).ok_or("the pasted picture is malformed")?;
    let bytes = crate::io::encode::encode(&DynamicImage::ImageRgb8(image), Format::Png, &Default::default(), None)
        .map_err(|e| format!("The pasted picture was not saved: {e}"))?;
    std::fs::create_dir_all(dir).map_err(|e| {
        format!("The pasted picture was not saved: cannot make {}: {e}; check the disk has space.", dir.display())
    })?;
    let path = (1..).map(|n| dir.join(format!("pasted-{n}.png"))).find(|p| !p.exists()).expect("a free name");
    crate::io::encode::write_atomic(&path, &bytes, &[])
        .map_err(|e| format!("The pasted picture was not saved: {e}"))?;
    Ok(path)
}

fn is_weight_file(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| matches!(e.as_str(), "pth" | "pkl" | "safetensors"))
}

/// The model's name for the export record: the file's stem (`compact`, `artistic`, …).
fn model_name(path: &Path) -> String {
    path.file_stem().map_or_else(|| "unknown".into(), |s| s.to_string_lossy().into_owned())
}

fn default_export_folder() -> PathBuf {
    directories::UserDirs::new()
        .and_then(|u| u.picture_dir().map(Path::to_path_buf).or_else(|| Some(u.home_dir().to_path_buf())))
        .unwrap_or_else(std::env::temp_dir)
        .join("Tintype")
}

/// A shortcut with the command key, named as the platform names it and the fonts can show it:
/// "Ctrl+Z", or on a Mac, where egui's command modifier is ⌘, "⌘Z" or "Cmd+Z".
pub fn command_key(ctx: &egui::Context, key: egui::Key) -> String {
    ctx.format_shortcut(&egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, key))
}

/// The clicks that pick the brush's colour from the photo, named as the keyboard names them.
pub fn colour_pick_clicks(ctx: &egui::Context) -> [&'static str; 2] {
    if ctx.os() == egui::os::OperatingSystem::Mac { ["Option+click", "⌘+click"] } else { ["Alt+click", "Ctrl+click"] }
}

/// What the status line says of photos taken off the list.
fn taken_off_text(count: usize) -> String {
    match count {
        1 => "Took 1 photo off the list (the file is untouched)".into(),
        n => format!("Took {n} photos off the list (the files are untouched)"),
    }
}

/// Adds what to do to a worker message that lacks it.
fn with_advice(message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    if lower.contains("out of memory") {
        format!("{message}. Try a smaller render size, or choose the CPU under Device.")
    } else {
        message.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shortcut_is_named_as_the_platform_names_it() {
        let ctx = egui::Context::default();
        ctx.set_os(egui::os::OperatingSystem::Nix);
        assert_eq!(command_key(&ctx, egui::Key::Z), "Ctrl+Z");
        // On a Mac the command key is ⌘; the fonts egui ships cannot show the symbol, so it is
        // named.
        ctx.set_os(egui::os::OperatingSystem::Mac);
        let _ = ctx.run_ui(Default::default(), |_| {});
        assert_eq!(command_key(&ctx, egui::Key::E), "Cmd+E");
    }
}
