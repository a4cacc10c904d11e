//! The worker thread that owns the loaded model: it takes jobs from a queue, keeps only the
//! newest settings per photo (a moving slider gives one render, not dozens), reports what it
//! does as events, can be cancelled between stages, and turns a panic into an error event so
//! the window that drives it stays up. It keeps two photos' pixels and network output at hand:
//! the last one worked on and the one on screen.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;

use image::DynamicImage;

use super::device::{self, DeviceChoice};
use super::{Colorizer, ColourLayer, Settings};
use crate::io::decode::{self, Carried};
use crate::model::Variant;
use crate::pipeline::crop::Crop;

/// Which model a job wants: a file, and the variant when the user chose one.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelChoice {
    pub path: PathBuf,
    pub variant: Option<Variant>,
    pub device: DeviceChoice,
}

#[derive(Debug, Clone)]
pub struct Job {
    /// The caller's id for the photo; a newer job for the same id replaces an older one.
    pub photo: u64,
    pub path: PathBuf,
    /// `None` only reads the photo, to show it while no model can run.
    pub model: Option<ModelChoice>,
    pub settings: Settings,
    /// The photo is the one on screen: its pixels and the network's output for it are kept
    /// while other photos are rendered, so that moving its sliders or painting on it does not
    /// read it or run the network again.
    pub on_screen: bool,
}

#[derive(Debug, Clone)]
pub enum Event {
    Started {
        photo: u64,
    },
    /// Where the photo being worked on has got to.
    Progress {
        photo: u64,
        stage: Stage,
    },
    /// The photo is read: the window can show it while it is colorized.
    Decoded {
        photo: u64,
        original: Arc<DynamicImage>,
        /// How far it was turned (`Settings::quarter_turns`).
        quarter_turns: u8,
        /// Pictures in its file besides this one, not read (`decode::Photo::other_pictures`).
        other_pictures: usize,
    },
    /// A job with no model is done: the photo was read and sent in `Decoded`.
    Read {
        photo: u64,
    },
    /// The model is being loaded (first use, or a different model).
    LoadingModel {
        path: PathBuf,
    },
    Finished {
        photo: u64,
        model: ModelChoice,
        settings: Settings,
        original: Arc<DynamicImage>,
        /// What the export carries of the original's file (profile, resolution, XMP), as read.
        carried: Carried,
        result: Arc<DynamicImage>,
        /// From the job's start to its result, loading a model aside: reading, colorizing (or
        /// only merging again, after a change of colour strength or cast, or a brush stroke).
        took: std::time::Duration,
        /// Where the model ran: "CPU", "GPU (CUDA)" or "GPU (Metal)".
        device: &'static str,
    },
    Failed {
        photo: u64,
        message: String,
        /// The model would not load (a missing or damaged file, a device that would not open):
        /// no fault of the photo's.
        by_model: bool,
    },
    /// The GPU ran out of memory; the worker continues on the CPU.
    FellBackToCpu {
        photo: u64,
        render_factor: u32,
    },
    Cancelled {
        photo: u64,
    },
}

/// The stages of one job, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Reading,
    LoadingModel,
    Colorizing,
    Finishing,
}

impl Stage {
    /// Rough share of the job done when the stage starts, for a progress bar.
    pub fn fraction(self) -> f32 {
        match self {
            Stage::Reading => 0.05,
            Stage::LoadingModel => 0.15,
            Stage::Colorizing => 0.25,
            Stage::Finishing => 0.9,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Stage::Reading => "reading",
            Stage::LoadingModel => "loading the model",
            Stage::Colorizing => "colorizing",
            Stage::Finishing => "finishing",
        }
    }
}

enum Message {
    Job(Job),
    /// Queued jobs for these photos are dropped.
    Withdraw(Vec<u64>),
    Quit,
}

pub struct Worker {
    jobs: Sender<Message>,
    events: Receiver<Event>,
    cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the thread. `notify` runs after every event (a window asks for a repaint).
    pub fn spawn(notify: impl Fn() + Send + 'static) -> Self {
        let (jobs, job_rx) = mpsc::channel();
        let (event_tx, events) = mpsc::channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let thread = std::thread::Builder::new()
            .name("tintype-worker".into())
            .spawn(move || run(job_rx, event_tx, flag, notify))
            .expect("spawning the worker thread");
        Self { jobs, events, cancel, thread: Some(thread) }
    }

    pub fn submit(&self, job: Job) {
        let _ = self.jobs.send(Message::Job(job));
    }

    /// Drops the queued jobs for `photos` (not the one being worked on: see `cancel_current`).
    pub fn withdraw(&self, photos: Vec<u64>) {
        let _ = self.jobs.send(Message::Withdraw(photos));
    }

    /// Stops the photo being worked on at its next stage; queued jobs go on.
    pub fn cancel_current(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// Events since the last call, oldest first; never blocks.
    pub fn events(&self) -> Vec<Event> {
        self.events.try_iter().collect()
    }

    /// Blocks until the next event (for tests and the command line).
    pub fn wait_event(&self) -> Option<Event> {
        self.events.recv().ok()
    }
}

impl Drop for Worker {
    /// Quitting while work runs is clean: the current photo stops at its next stage.
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::SeqCst);
        let _ = self.jobs.send(Message::Quit);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Moves every waiting message into `queue`, a newer job replacing an older one for the same
/// photo in place. Returns false when the owner said quit or went away.
fn drain(rx: &Receiver<Message>, queue: &mut VecDeque<Job>, block: bool) -> bool {
    let mut first = block;
    loop {
        let msg = if first {
            first = false;
            match rx.recv() {
                Ok(m) => m,
                Err(_) => return false,
            }
        } else {
            match rx.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        };
        match msg {
            Message::Quit => return false,
            Message::Job(job) => match queue.iter_mut().find(|q| q.photo == job.photo) {
                Some(slot) => *slot = job,
                None => queue.push_back(job),
            },
            Message::Withdraw(photos) => queue.retain(|job| !photos.contains(&job.photo)),
        }
    }
}

/// The network's output for a photo and settings: a change of colour strength or cast, or a
/// brush stroke, only merges again.
struct CachedLayer {
    model: ModelChoice,
    path: PathBuf,
    quarter_turns: u8,
    crop: Option<Crop>,
    render_factor: u32,
    defade: f32,
    layer: ColourLayer,
}

struct Decoded {
    path: PathBuf,
    /// Turned by this many quarter turns since it was read.
    quarter_turns: u8,
    pixels: Arc<DynamicImage>,
    /// As read, before any turn.
    carried: Carried,
    other_pictures: usize,
}

/// A photo as read, and the network's output for it.
#[derive(Default)]
struct Slot {
    decoded: Option<Decoded>,
    layer: Option<CachedLayer>,
}

impl Slot {
    fn holds(&self, path: &std::path::Path) -> bool {
        self.decoded.as_ref().is_some_and(|d| d.path == path)
    }
}

struct Loaded {
    choice: ModelChoice,
    colorizer: Colorizer,
    /// The device actually in use (the CPU after an out-of-memory fallback).
    device: candle_core::Device,
}

fn run(rx: Receiver<Message>, tx: Sender<Event>, cancel: Arc<AtomicBool>, notify: impl Fn()) {
    let send = |e: Event| {
        let _ = tx.send(e);
        notify();
    };
    let mut queue = VecDeque::new();
    let mut model: Option<Loaded> = None;
    // The photo the last job was for, and the photo on screen: moving a slider re-renders the
    // same one, and the one on screen stays at hand while the others are rendered.
    let mut work = Slot::default();
    let mut on_screen = Slot::default();
    loop {
        let idle = queue.is_empty();
        if idle {
            super::memory::release_freed_memory();
        }
        if !drain(&rx, &mut queue, idle) {
            return;
        }
        let Some(job) = queue.pop_front() else { continue };
        cancel.store(false, Ordering::SeqCst);
        send(Event::Started { photo: job.photo });
        let started = std::time::Instant::now();
        if !work.holds(&job.path) && on_screen.holds(&job.path) {
            std::mem::swap(&mut work, &mut on_screen);
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            process(&job, &mut model, &mut work, &cancel, &send)
        }));
        let decoded = &work.decoded;
        let event = match outcome {
            Ok(Ok(Some(made))) => Event::Finished {
                photo: job.photo,
                model: made.model,
                settings: job.settings,
                original: decoded.as_ref().map(|d| d.pixels.clone()).expect("decoded before colorizing"),
                carried: decoded.as_ref().map(|d| d.carried.clone()).unwrap_or_default(),
                result: Arc::new(made.result),
                took: started.elapsed().saturating_sub(made.loading),
                device: made.device,
            },
            Ok(Ok(None)) if job.model.is_none() => Event::Read { photo: job.photo },
            Ok(Ok(None)) => Event::Cancelled { photo: job.photo },
            Ok(Err(Failure::Photo(message))) => Event::Failed { photo: job.photo, message, by_model: false },
            Ok(Err(Failure::Model(message))) => Event::Failed { photo: job.photo, message, by_model: true },
            Err(_) => {
                // State touched by the panic is not trusted again.
                model = None;
                (work, on_screen) = (Slot::default(), Slot::default());
                Event::Failed {
                    photo: job.photo,
                    message: format!(
                        "{}: internal error while colorizing; please report this photo",
                        job.path.display()
                    ),
                    by_model: false,
                }
            }
        };
        if job.on_screen {
            std::mem::swap(&mut work, &mut on_screen);
        }
        send(event);
    }
}

/// Why a job failed, in words for the person: the photo's fault, or the model's.
enum Failure {
    Photo(String),
    Model(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Photo(message)
    }
}

/// What one job made.
struct Made {
    model: ModelChoice,
    result: DynamicImage,
    /// Where the model ran, by its title.
    device: &'static str,
    /// The time spent loading the model, when this job loaded it.
    loading: std::time::Duration,
}

/// One job: what it made; `Ok(None)` when cancelled or when the job only reads; `Err` with a
/// message for the person.
fn process(
    job: &Job,
    model: &mut Option<Loaded>,
    Slot { decoded, layer }: &mut Slot,
    cancel: &AtomicBool,
    send: &dyn Fn(Event),
) -> Result<Option<Made>, Failure> {
    let progress = |stage| send(Event::Progress { photo: job.photo, stage });
    let turns = job.settings.quarter_turns % 4;
    let photo = match decoded {
        Some(d) if d.path == job.path && d.quarter_turns == turns => d.pixels.clone(),
        // Turned another way: turned on from the pixels at hand rather than read again.
        Some(d) if d.path == job.path => {
            let more = (turns + 4 - d.quarter_turns) % 4;
            let pixels = Arc::new(super::turn((*d.pixels).clone(), more));
            (d.pixels, d.quarter_turns) = (pixels.clone(), turns);
            pixels
        }
        _ => {
            progress(Stage::Reading);
            *decoded = None;
            let photo = decode::decode(&job.path).map_err(|e| e.to_string())?;
            let pixels = Arc::new(super::turn(photo.pixels, turns));
            let (carried, other_pictures) = (photo.carried, photo.other_pictures);
            let path = job.path.clone();
            *decoded = Some(Decoded { path, quarter_turns: turns, pixels: pixels.clone(), carried, other_pictures });
            pixels
        }
    };
    let other_pictures = decoded.as_ref().map_or(0, |d| d.other_pictures);
    send(Event::Decoded { photo: job.photo, original: photo.clone(), quarter_turns: turns, other_pictures });
    let Some(choice) = &job.model else { return Ok(None) };
    if cancel.load(Ordering::SeqCst) {
        return Ok(None);
    }
    let mut loading = std::time::Duration::ZERO;
    if model.as_ref().is_none_or(|m| &m.choice != choice) {
        let started = std::time::Instant::now();
        *model = None; // free the old model's memory before loading the next
        *layer = None;
        progress(Stage::LoadingModel);
        send(Event::LoadingModel { path: choice.path.clone() });
        let dev = device::open(choice.device).map_err(Failure::Model)?;
        let colorizer =
            Colorizer::load(&choice.path, choice.variant, &dev).map_err(|e| Failure::Model(e.to_string()))?;
        *model = Some(Loaded { choice: choice.clone(), colorizer, device: dev });
        loading = started.elapsed();
    }
    if cancel.load(Ordering::SeqCst) {
        return Ok(None);
    }
    let settings = &job.settings;
    let whole = (photo.width(), photo.height());
    let reusable = layer.as_ref().is_some_and(|l| {
        &l.model == choice
            && l.path == job.path
            && l.quarter_turns == turns
            && l.crop == settings.crop
            && l.render_factor == settings.render_factor
            && l.defade == settings.defade
    });
    if !reusable {
        *layer = None;
        progress(Stage::Colorizing);
        let photo = match settings.crop {
            Some(crop) => Arc::new(crop.apply(&photo)),
            None => photo,
        };
        let loaded = model.as_mut().expect("loaded above");
        let made = match loaded.colorizer.colour_layer(&photo, settings.render_factor, settings.defade) {
            Ok(made) => made,
            Err(e) if device::is_out_of_memory(&e) && !loaded.device.is_cpu() => {
                send(Event::FellBackToCpu { photo: job.photo, render_factor: settings.render_factor });
                loaded.colorizer = Colorizer::load(&choice.path, choice.variant, &candle_core::Device::Cpu)
                    .map_err(|e| e.to_string())?;
                loaded.device = candle_core::Device::Cpu;
                loaded
                    .colorizer
                    .colour_layer(&photo, settings.render_factor, settings.defade)
                    .map_err(|e| format!("{}: colorizing failed on the CPU too: {e}", job.path.display()))?
            }
            Err(e) => return Err(format!("{}: colorizing failed: {e}", job.path.display()).into()),
        };
        *layer = Some(CachedLayer {
            model: choice.clone(),
            path: job.path.clone(),
            quarter_turns: turns,
            crop: settings.crop,
            render_factor: settings.render_factor,
            defade: settings.defade,
            layer: made,
        });
    }
    if cancel.load(Ordering::SeqCst) {
        return Ok(None);
    }
    progress(Stage::Finishing);
    let result = layer.as_ref().expect("made above").layer.merge(&settings.chroma, &settings.strokes_on_crop(whole));
    let device = device::title(&model.as_ref().expect("loaded above").device);
    Ok(Some(Made { model: choice.clone(), result, device, loading }))
}
