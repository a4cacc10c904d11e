//! What the app remembers between runs, as TOML in the per-user config folder: the model and
//! device, the render size and adjustments set last (which photos added next start with), the
//! export choices and recent folders; and the photo list, each photo with its own settings. A
//! missing file gives the defaults; a damaged one gives what can still be read of it, and is kept
//! aside for the person to see.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::export::SavedAs;
use crate::engine::Settings;
use crate::pipeline::brush::{Stroke, Tool};
use crate::pipeline::chroma::ChromaControls;
use crate::pipeline::crop::Crop;

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

/// What the model list calls the built-in model.
pub const BUILT_IN_TITLE: &str = "Built-in (fast)";

/// What the model list calls a weight file: its name.
pub fn file_title(path: &std::path::Path) -> String {
    path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into())
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
    /// The brush's radius, in screen points.
    pub brush_size: f32,
    /// What the brush did when last picked up (its colour aside, which is `paint_colour`): B
    /// picks it up that way again.
    pub brush_tool: Tool,
    /// The colour the brush paints.
    pub paint_colour: [u8; 3],
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
            brush_size: 24.0,
            brush_tool: Tool::Remove,
            // A warm skin tone: the colour old portraits most often need mended.
            paint_colour: [198, 150, 122],
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

    /// The settings in `dir`, with a note for the person when the file could not be read whole.
    pub fn load(dir: &Path) -> (Self, Option<String>) {
        load(&dir.join(FILE_NAME), "The remembered settings")
    }

    /// Written atomically; a failure only costs the remembered settings, so it is returned for
    /// a quiet note rather than a dialog.
    pub fn save(&self, dir: &Path) -> Result<(), String> {
        save(self, dir, FILE_NAME)
    }

    /// The settings a photo added now starts with.
    pub fn photo_settings(&self) -> Settings {
        Settings {
            render_factor: self.render_factor,
            defade: self.defade,
            chroma: ChromaControls { saturation: self.saturation, warmth: self.warmth, tint: self.tint },
            // Which way up a scan lies is its own, and so are its brush strokes and crop: photos
            // added next start upright, unbrushed and whole.
            quarter_turns: 0,
            brush: Vec::new(),
            crop: None,
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

pub const LIST_FILE_NAME: &str = "photos.toml";

/// The photo list as the window left it, so that a person's tuning of each photo survives
/// closing the window. Only the files' paths and settings: the pictures are read again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeptList {
    /// The photo on screen.
    pub selected: Option<PathBuf>,
    pub photos: Vec<KeptPhoto>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeptPhoto {
    pub path: PathBuf,
    // A setting missing (or left out of a damaged file) is the default's; only the path is a
    // photo's own.
    #[serde(default = "KeptPhoto::default_render_factor")]
    pub render_factor: u32,
    #[serde(default)]
    pub defade: f32,
    #[serde(default = "KeptPhoto::default_saturation")]
    pub saturation: f32,
    #[serde(default)]
    pub warmth: f32,
    #[serde(default)]
    pub tint: f32,
    #[serde(default)]
    pub quarter_turns: u8,
    /// Where Export last saved it, and how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_as: Option<SavedAs>,
    /// Its brush strokes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub brush: Vec<Stroke>,
    /// The part of it kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crop: Option<Crop>,
}

impl KeptPhoto {
    fn default_render_factor() -> u32 {
        Prefs::default().render_factor
    }

    fn default_saturation() -> f32 {
        Prefs::default().saturation
    }

    pub fn new(path: &Path, settings: &Settings) -> Self {
        let ChromaControls { saturation, warmth, tint } = settings.chroma;
        let Settings { render_factor, defade, quarter_turns, ref brush, crop, .. } = *settings;
        Self {
            path: path.to_owned(),
            render_factor,
            defade,
            saturation,
            warmth,
            tint,
            quarter_turns,
            saved_as: None,
            brush: brush.clone(),
            crop,
        }
    }

    /// Its settings, held to the controls' ranges: the file may have been edited by hand.
    pub fn settings(&self) -> Settings {
        let finite = |v: f32, neutral: f32| if v.is_finite() { v } else { neutral };
        Settings {
            render_factor: self.render_factor.clamp(*RENDER_FACTORS.start(), *RENDER_FACTORS.end()),
            defade: finite(self.defade, 0.0).clamp(0.0, 1.0),
            chroma: ChromaControls {
                saturation: finite(self.saturation, 1.0).clamp(0.0, 2.0),
                warmth: finite(self.warmth, 0.0).clamp(-1.0, 1.0),
                tint: finite(self.tint, 0.0).clamp(-1.0, 1.0),
            },
            quarter_turns: self.quarter_turns % 4,
            // A stroke the brush could not have made is left out rather than guessed at.
            brush: self.brush.iter().filter(|s| s.is_sound()).cloned().collect(),
            // So is a crop: the photo is kept whole.
            crop: self.crop.filter(|c| c.is_sound() && !c.is_whole()),
        }
    }
}

/// The render size slider's range.
pub const RENDER_FACTORS: std::ops::RangeInclusive<u32> = 7..=45;

impl KeptList {
    /// The list in `dir`, with a note for the person when the file could not be read whole.
    pub fn load(dir: &Path) -> (Self, Option<String>) {
        load(&dir.join(LIST_FILE_NAME), "The photo list")
    }

    /// As [`Prefs::save`]. A photo whose path TOML cannot hold (not Unicode) is left out.
    pub fn save(&self, dir: &Path) -> Result<(), String> {
        let mut list = self.clone();
        list.photos.retain(|p| p.path.to_str().is_some());
        for p in &mut list.photos {
            p.saved_as = p.saved_as.take().filter(|s| s.file.to_str().is_some());
        }
        list.selected = list.selected.filter(|p| p.to_str().is_some());
        save(&list, dir, LIST_FILE_NAME)
    }
}

/// What is written to the config folder at once: the settings and the photo list.
pub struct Snapshot {
    pub prefs: Prefs,
    pub list: KeptList,
}

impl Snapshot {
    fn save(&self, dir: &Path) -> Result<(), String> {
        self.prefs.save(dir).and_then(|()| self.list.save(dir))
    }
}

/// Writes snapshots on a thread of its own, one at a time in the order they were given, so the
/// window never waits on the disk and an older snapshot never lands after a newer one (as it
/// could with a thread per save). Snapshots that queue while one is written are folded into
/// the newest of them.
pub struct Saver {
    jobs: Sender<SaveJob>,
    errors: Receiver<String>,
}

struct SaveJob {
    snapshot: Snapshot,
    /// Told when the snapshot (or a newer one) is on disk, for a caller that waits.
    done: Option<Sender<Result<(), String>>>,
}

impl Saver {
    pub fn spawn(dir: PathBuf) -> Self {
        let (jobs, queue) = channel::<SaveJob>();
        let (error_tx, errors) = channel();
        std::thread::Builder::new()
            .name("settings".into())
            .spawn(move || {
                while let Ok(mut job) = queue.recv() {
                    let mut waiting: Vec<_> = job.done.take().into_iter().collect();
                    while let Ok(newer) = queue.try_recv() {
                        waiting.extend(newer.done);
                        job.snapshot = newer.snapshot;
                    }
                    let result = job.snapshot.save(&dir);
                    if let Err(e) = &result
                        && waiting.is_empty()
                    {
                        let _ = error_tx.send(e.clone());
                    }
                    for w in waiting {
                        let _ = w.send(result.clone());
                    }
                }
            })
            .expect("spawning the settings thread");
        Self { jobs, errors }
    }

    /// Queues a snapshot and returns at once; a failure comes back through [`Saver::error`].
    pub fn save_soon(&self, snapshot: Snapshot) {
        let _ = self.jobs.send(SaveJob { snapshot, done: None });
    }

    /// Writes a snapshot and waits until it is on disk (on quit; tests).
    pub fn save_now(&self, snapshot: Snapshot) -> Result<(), String> {
        let (done, wait) = channel();
        self.jobs.send(SaveJob { snapshot, done: Some(done) }).map_err(|_| "the settings thread stopped".to_owned())?;
        wait.recv().map_err(|_| "the settings thread stopped".to_owned())?
    }

    /// A failure of a save made with [`Saver::save_soon`], once.
    pub fn error(&self) -> Option<String> {
        self.errors.try_recv().ok()
    }
}

/// Reads `file` (of a type whose fields all have defaults), keeping what can be read: a setting,
/// a photo's setting or stroke, or a photo, that cannot be read is left out, rather than costing
/// the rest. A file not read whole is moved aside as `NAME.damaged`, since the next save writes
/// the file anew; the note returned says so, beginning with `what` ("The photo list").
fn load<T: DeserializeOwned + Default>(file: &Path, what: &str) -> (T, Option<String>) {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (T::default(), None),
        Err(e) => return (T::default(), Some(format!("{what} could not be read ({}: {e}).", file.display()))),
    };
    if let Ok(value) = toml::from_str(&text) {
        return (value, None);
    }
    let (value, damage) = match text.parse::<toml::Table>() {
        Ok(table) => {
            let (value, left_out) = salvage(table);
            (value, format!("could not be read whole: {} left out", left_out.join(", ")))
        }
        Err(_) => (T::default(), "could not be read: it is not TOML".to_owned()),
    };
    let mut aside = file.as_os_str().to_owned();
    aside.push(".damaged");
    let aside = PathBuf::from(aside);
    let kept = match std::fs::rename(file, &aside) {
        Ok(()) => format!("the file as it was is kept as {}", aside.display()),
        Err(e) => format!("the file could not be kept aside ({e})"),
    };
    let note = format!("{what} {damage}; {kept}.");
    (value, Some(note))
}

/// The keys of `table` that make a `T`, each tried on its own; of a list of tables (the
/// photos, a photo's strokes), each entry on its own, and of an entry that does not read whole,
/// what of it does. Returns the `T` and what was left out.
fn salvage<T: DeserializeOwned + Default>(table: toml::Table) -> (T, Vec<String>) {
    let mut left_out = Vec::new();
    let kept = keep_what_reads(table, &|t| t.clone().try_into::<T>().is_ok(), "", &mut left_out);
    (kept.try_into().unwrap_or_default(), left_out)
}

/// What of `table` `reads` takes, naming what it leaves out in `left_out`, each name after
/// `prefix` ("photo 2's "). A key is tried beside those already kept, in passes, so that a key
/// the others need (a photo's path) is found wherever it sorts; lists of tables come last, when
/// the keys their entries are tried beside are settled.
fn keep_what_reads(
    table: toml::Table,
    reads: &dyn Fn(&toml::Table) -> bool,
    prefix: &str,
    left_out: &mut Vec<String>,
) -> toml::Table {
    let is_list = |v: &toml::Value| matches!(v, toml::Value::Array(items) if !items.is_empty() && items.iter().all(|i| i.is_table()));
    let (lists, mut rest): (Vec<_>, Vec<_>) = table.into_iter().partition(|(_, v)| is_list(v));
    let mut kept = toml::Table::new();
    loop {
        let before = rest.len();
        rest.retain(|(key, value)| {
            let mut trial = kept.clone();
            trial.insert(key.clone(), value.clone());
            let taken = reads(&trial);
            if taken {
                kept = trial;
            }
            !taken
        });
        if rest.len() == before {
            break;
        }
    }
    left_out.extend(rest.into_iter().map(|(key, _)| format!("{prefix}{key}")));
    for (key, value) in lists {
        let toml::Value::Array(items) = value else { unreachable!("a list") };
        let mut entries = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let toml::Value::Table(entry) = item else { unreachable!("a list of tables") };
            let name = format!("{prefix}{} {}", entry_name(&key), i + 1);
            // The entry alone in its list, beside what of this table is kept.
            let fits = |entry: &toml::Table| {
                let mut trial = kept.clone();
                trial.insert(key.clone(), toml::Value::Array(vec![toml::Value::Table(entry.clone())]));
                reads(&trial)
            };
            if fits(&entry) {
                entries.push(toml::Value::Table(entry));
                continue;
            }
            let mut inside = Vec::new();
            let part = keep_what_reads(entry, &fits, &format!("{name}'s "), &mut inside);
            if fits(&part) {
                entries.push(toml::Value::Table(part));
                left_out.extend(inside);
            } else {
                left_out.push(name);
            }
        }
        kept.insert(key, toml::Value::Array(entries));
    }
    kept
}

/// What one entry of a list in the files is called: "photo" of `photos`, "brush stroke" of a
/// photo's `brush`.
fn entry_name(list: &str) -> &str {
    match list {
        "brush" => "brush stroke",
        list => list.strip_suffix('s').unwrap_or(list),
    }
}

fn save<T: Serialize>(value: &T, dir: &Path, name: &str) -> Result<(), String> {
    let text = toml::to_string(value).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    crate::io::encode::write_atomic(&dir.join(name), text.as_bytes(), &[]).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_list_comes_back_as_saved_and_a_hand_edited_one_within_the_controls_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let brush = vec![
            Stroke { points: vec![[0.25, 0.5], [0.3, 0.52], [0.35, 0.5]], radius: 0.04, tool: Tool::Remove },
            Stroke { points: vec![[0.9, 0.1]], radius: 0.1, tool: Tool::Paint([200, 150, 120]) },
            Stroke { points: vec![[0.9, 0.1]], radius: 0.05, tool: Tool::Restore },
        ];
        let crop = Some(Crop { left: 0.05, top: 0.1, right: 0.9, bottom: 0.95, angle: 0.0 });
        let settings =
            Settings { render_factor: 28, quarter_turns: 3, brush, crop, ..Prefs::default().photo_settings() };
        let list = KeptList {
            selected: Some("/scans/b.png".into()),
            photos: vec![
                KeptPhoto::new(Path::new("/scans/a.jpg"), &settings),
                KeptPhoto {
                    saved_as: Some(SavedAs { file: "/exports/b-colorized.png".into(), made_with: "a model".into() }),
                    ..KeptPhoto::new(Path::new("/scans/b.png"), &settings)
                },
            ],
        };
        list.save(dir.path()).unwrap();
        assert_eq!(KeptList::load(dir.path()).0, list);
        assert_eq!(list.photos[0].settings(), settings);

        let edited = "[[photos]]\npath = \"/a.jpg\"\nrender_factor = 900\ndefade = nan\nsaturation = -3.0\nwarmth = 0.5\ntint = 7.0\nquarter_turns = 6\n\
            [[photos.brush]]\npoints = [[0.5, 0.5]]\nradius = 0.05\n\
            [[photos.brush]]\npoints = [[0.5, 7.0]]\nradius = 0.05\n\
            [[photos.brush]]\npoints = [[0.5, 0.5]]\nradius = 90.0\n\
            [photos.crop]\nleft = 0.5\ntop = 0.0\nright = 0.2\nbottom = 1.0\n";
        std::fs::write(dir.path().join(LIST_FILE_NAME), edited).unwrap();
        let held = KeptList::load(dir.path()).0.photos[0].settings();
        assert_eq!((held.render_factor, held.defade, held.quarter_turns), (45, 0.0, 2));
        assert_eq!(held.chroma, ChromaControls { saturation: 0.0, warmth: 0.5, tint: 1.0 });
        assert_eq!(
            held.brush,
            vec![Stroke { points: vec![[0.5, 0.5]], radius: 0.05, tool: Tool::Remove }],
            "unsound strokes left out"
        );
        assert_eq!(held.crop, None, "an unsound crop left out");

        // A file that is not TOML is an empty list, not a failure, and is kept aside.
        let file = dir.path().join(LIST_FILE_NAME);
        let aside = dir.path().join("photos.toml.damaged");
        std::fs::write(&file, "[[photos]\npath = ").unwrap();
        let (list, note) = KeptList::load(dir.path());
        assert_eq!(list, KeptList::default());
        let note = note.expect("a note");
        assert!(note.contains("not TOML") && note.contains(&aside.display().to_string()), "{note}");
        assert!(!file.exists());
        assert_eq!(std::fs::read_to_string(&aside).unwrap(), "[[photos]\npath = ");
        // Nothing to read is no news.
        assert_eq!(KeptList::load(dir.path()), (KeptList::default(), None));
    }

    #[test]
    fn a_damaged_file_keeps_what_can_be_read() {
        let dir = tempfile::tempdir().unwrap();
        // The second photo's second stroke has a colour out of range, the third photo lost its
        // path, and the fourth's render size is not a number.
        let list = "selected = \"/b.jpg\"\n\
            [[photos]]\npath = \"/a.jpg\"\nrender_factor = 28\ndefade = 0.0\nsaturation = 1.0\nwarmth = 0.0\ntint = 0.0\nquarter_turns = 1\n\
            [[photos]]\npath = \"/b.jpg\"\nrender_factor = 35\ndefade = 0.0\nsaturation = 1.0\nwarmth = 0.0\ntint = 0.0\nquarter_turns = 0\n\
            [[photos.brush]]\npoints = [[0.5, 0.5]]\nradius = 0.05\n\
            [[photos.brush]]\npoints = [[0.5, 0.5]]\nradius = 0.05\ntool = { Paint = [300, 0, 0] }\n\
            [[photos.brush]]\npoints = [[0.2, 0.5]]\nradius = 0.05\ntool = { Paint = [30, 60, 90] }\n\
            [[photos]]\nrender_factor = 35\ndefade = 0.0\nsaturation = 1.0\nwarmth = 0.0\ntint = 0.0\nquarter_turns = 0\n\
            [[photos]]\npath = \"/d.jpg\"\nrender_factor = \"big\"\ndefade = 0.5\nsaturation = 1.0\nwarmth = 0.0\ntint = 0.0\nquarter_turns = 0\n";
        std::fs::write(dir.path().join(LIST_FILE_NAME), list).unwrap();
        let (kept, note) = KeptList::load(dir.path());
        let paths: Vec<&str> = kept.photos.iter().map(|p| p.path.to_str().unwrap()).collect();
        assert_eq!(paths, ["/a.jpg", "/b.jpg", "/d.jpg"]);
        assert_eq!(kept.photos[0].quarter_turns, 1);
        let tools: Vec<Tool> = kept.photos[1].brush.iter().map(|s| s.tool).collect();
        assert_eq!(tools, [Tool::Remove, Tool::Paint([30, 60, 90])], "the sound strokes kept");
        assert_eq!((kept.photos[2].render_factor, kept.photos[2].defade), (35, 0.5), "the default render size");
        assert_eq!(kept.selected, Some(PathBuf::from("/b.jpg")));
        let note = note.expect("a note");
        assert!(
            note.starts_with(
                "The photo list could not be read whole: photo 2's brush stroke 2, photo 3, photo 4's render_factor left out;"
            ),
            "{note}"
        );
        assert_eq!(std::fs::read_to_string(dir.path().join("photos.toml.damaged")).unwrap(), list);

        // A setting of the wrong kind costs that setting alone.
        std::fs::write(
            dir.path().join(FILE_NAME),
            "render_factor = \"big\"\nbrush_size = 40.0\nview = \"SideBySide\"\n",
        )
        .unwrap();
        let (prefs, note) = Prefs::load(dir.path());
        assert_eq!((prefs.render_factor, prefs.brush_size, prefs.view), (35, 40.0, ViewMode::SideBySide));
        let note = note.expect("a note");
        assert!(note.starts_with("The remembered settings could not be read whole: render_factor left out;"), "{note}");
        assert!(dir.path().join("settings.toml.damaged").exists());
    }

    #[test]
    fn the_saver_leaves_the_newest_snapshot_on_disk_and_says_when_it_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let saver = Saver::spawn(dir.path().to_owned());
        let snapshot = |n: usize| Snapshot {
            prefs: Prefs { render_factor: 7 + n as u32 % 30, ..Prefs::default() },
            list: KeptList {
                selected: None,
                photos: (0..n)
                    .map(|i| KeptPhoto::new(Path::new(&format!("/scans/{i}.jpg")), &Prefs::default().photo_settings()))
                    .collect(),
            },
        };
        for n in 0..300 {
            saver.save_soon(snapshot(n));
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while KeptList::load(dir.path()).0.photos.len() != 299 {
            assert!(std::time::Instant::now() < deadline, "the newest list never reached the disk");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(KeptList::load(dir.path()).0, snapshot(299).list);
        assert_eq!(Prefs::load(dir.path()).0.render_factor, snapshot(299).prefs.render_factor);
        assert_eq!(saver.error(), None);

        saver.save_now(snapshot(3)).unwrap();
        assert_eq!(KeptList::load(dir.path()).0.photos.len(), 3);

        // A config folder that is a file: save_now says so, and save_soon through error().
        let file = dir.path().join("not-a-folder");
        std::fs::write(&file, "").unwrap();
        let saver = Saver::spawn(file.clone());
        let e = saver.save_now(snapshot(1)).unwrap_err();
        assert!(e.contains("not-a-folder"), "{e}");
        saver.save_soon(snapshot(1));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some(e) = saver.error() {
                assert!(e.contains("not-a-folder"), "{e}");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no error came back");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}
