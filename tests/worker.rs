//! The worker thread the window drives: coalescing, errors as events, cancel, clean quit.

mod common;

use std::path::PathBuf;

use tintype::engine::Settings;
use tintype::engine::device::DeviceChoice;
use tintype::engine::worker::{Event, Job, ModelChoice, Stage, Worker};
use tintype::pipeline::brush::{Stroke, Tool};
use tintype::pipeline::chroma::ChromaControls;

fn model() -> ModelChoice {
    ModelChoice {
        path: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/compact.safetensors"),
        variant: None,
        device: DeviceChoice::Cpu,
    }
}

fn settings(render_factor: u32, saturation: f32) -> Settings {
    Settings {
        render_factor,
        defade: 0.0,
        chroma: ChromaControls { saturation, ..Default::default() },
        quarter_turns: 0,
        brush: Vec::new(),
        crop: None,
    }
}

fn photo(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("p.png");
    image::RgbImage::from_fn(96, 64, |x, y| image::Rgb([(x * 2) as u8, (y * 3) as u8, 100])).save(&path).unwrap();
    path
}

/// Collects events until `photo` finishes, fails or is cancelled; returns all seen.
fn until_done(worker: &Worker, photo: u64) -> Vec<Event> {
    let mut seen = Vec::new();
    while let Some(e) = worker.wait_event() {
        let last = matches!(&e, Event::Finished { photo: p, .. } | Event::Failed { photo: p, .. } | Event::Cancelled { photo: p } | Event::Read { photo: p } if *p == photo);
        seen.push(e);
        if last {
            break;
        }
    }
    seen
}

/// A job with no model reads the photo and ends there: nothing is loaded or colorized.
#[test]
fn a_job_with_no_model_only_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = photo(dir.path());
    let worker = Worker::spawn(|| {});
    worker.submit(Job { photo: 1, path, model: None, settings: settings(7, 1.0), on_screen: false });
    let events = until_done(&worker, 1);
    assert!(matches!(events.last(), Some(Event::Read { photo: 1 })), "{events:?}");
    assert!(events.iter().any(|e| matches!(e, Event::Decoded { photo: 1, .. })), "{events:?}");
    assert!(!events.iter().any(|e| matches!(e, Event::LoadingModel { .. })), "{events:?}");
}

#[test]
fn a_moving_slider_gives_few_renders_and_the_last_settings_win() {
    let dir = tempfile::tempdir().unwrap();
    let path = photo(dir.path());
    let worker = Worker::spawn(|| {});
    // A slider dragged through 30 values while the first render runs.
    for step in 0..30 {
        worker.submit(Job {
            photo: 1,
            path: path.clone(),
            model: Some(model()),
            settings: settings(7, step as f32 / 15.0),
            on_screen: false,
        });
    }
    let mut finished = Vec::new();
    loop {
        let e = worker.wait_event().unwrap();
        if let Event::Finished { settings, result, original, took, device, .. } = &e {
            assert_eq!((result.width(), result.height()), (96, 64));
            assert_eq!((original.width(), original.height()), (96, 64));
            assert!(!took.is_zero() && *device == "CPU", "{took:?} on {device}");
            finished.push(settings.chroma.saturation);
            if settings.chroma.saturation == 29.0 / 15.0 {
                break;
            }
        }
    }
    println!("30 submissions, {} renders", finished.len());
    assert!(finished.len() <= 3, "{} renders for one photo", finished.len());
    assert_eq!(*finished.last().unwrap(), 29.0 / 15.0);
}

#[test]
fn bad_files_and_models_fail_as_events_and_the_worker_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let good = photo(dir.path());
    let bad = dir.path().join("bad.jpg");
    std::fs::write(&bad, b"not a picture").unwrap();
    let worker = Worker::spawn(|| {});
    worker.submit(Job {
        photo: 1,
        path: bad.clone(),
        model: Some(model()),
        settings: settings(7, 1.0),
        on_screen: false,
    });
    let events = until_done(&worker, 1);
    assert!(
        matches!(events.last(), Some(Event::Failed { message, by_model: false, .. }) if message.contains("bad.jpg") && message.contains("not a picture")),
        "{events:?}"
    );
    let mut missing = model();
    missing.path = dir.path().join("nowhere.safetensors");
    worker.submit(Job {
        photo: 2,
        path: good.clone(),
        model: Some(missing),
        settings: settings(7, 1.0),
        on_screen: false,
    });
    let events = until_done(&worker, 2);
    assert!(
        matches!(events.last(), Some(Event::Failed { message, by_model: true, .. }) if message.contains("nowhere.safetensors")),
        "{events:?}"
    );
    worker.submit(Job { photo: 3, path: good, model: Some(model()), settings: settings(7, 1.0), on_screen: false });
    assert!(matches!(until_done(&worker, 3).last(), Some(Event::Finished { .. })));
}

#[test]
fn the_photo_is_handed_over_as_soon_as_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let worker = Worker::spawn(|| {});
    worker.submit(Job {
        photo: 1,
        path: photo(dir.path()),
        model: Some(model()),
        settings: settings(7, 1.0),
        on_screen: false,
    });
    let events = until_done(&worker, 1);
    let decoded = events.iter().position(|e| matches!(e, Event::Decoded { photo: 1, .. })).expect("a Decoded event");
    let colorizing = events.iter().position(|e| matches!(e, Event::Progress { stage: Stage::Colorizing, .. })).unwrap();
    assert!(decoded < colorizing, "{events:?}");
    // The same pixels as the finished result's original, not a copy.
    let (Event::Decoded { original: read, .. }, Some(Event::Finished { original, .. })) =
        (&events[decoded], events.last())
    else {
        panic!("{events:?}")
    };
    assert!(std::sync::Arc::ptr_eq(read, original));
}

#[test]
fn withdrawn_jobs_are_not_worked_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = photo(dir.path());
    let worker = Worker::spawn(|| {});
    let job =
        |photo| Job { photo, path: path.clone(), model: Some(model()), settings: settings(7, 1.0), on_screen: false };
    for id in 1..=3 {
        worker.submit(job(id));
    }
    // A sheet closed while its renders wait: 2 and 3 never start; 1 may be under way.
    worker.withdraw(vec![2, 3]);
    worker.submit(job(4));
    let events = until_done(&worker, 4);
    let started: Vec<u64> =
        events.iter().filter_map(|e| if let Event::Started { photo } = e { Some(*photo) } else { None }).collect();
    assert_eq!(started, [1, 4], "{events:?}");
}

#[test]
fn quitting_while_work_runs_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let path = photo(dir.path());
    let worker = Worker::spawn(|| {});
    for photo in 0..5 {
        worker.submit(Job {
            photo,
            path: path.clone(),
            model: Some(model()),
            settings: settings(20, 1.0),
            on_screen: false,
        });
    }
    let started = std::time::Instant::now();
    drop(worker);
    assert!(started.elapsed().as_secs() < 30);
}

/// A scan lying on its side is turned before the model sees it: the photo shown and the result
/// come upright, and turning it again turns the pixels at hand rather than reading the file.
#[test]
fn a_turned_photo_is_read_and_colorized_upright() {
    let dir = tempfile::tempdir().unwrap();
    let path = photo(dir.path());
    let source = image::open(&path).unwrap().to_rgb8();
    let worker = Worker::spawn(|| {});
    for (photo, quarter_turns) in [(1, 1), (2, 2)] {
        let settings = Settings { quarter_turns, ..settings(7, 1.0) };
        worker.submit(Job { photo, path: path.clone(), model: Some(model()), settings, on_screen: false });
        let events = until_done(&worker, photo);
        let read = events.iter().any(|e| matches!(e, Event::Progress { stage: Stage::Reading, .. }));
        assert_eq!(read, photo == 1, "read from the file only the first time: {events:?}");
        let Some(Event::Finished { original, result, .. }) = events.last() else { panic!("{events:?}") };
        let turned = match quarter_turns {
            1 => image::imageops::rotate90(&source),
            _ => image::imageops::rotate180(&source),
        };
        assert_eq!(original.to_rgb8(), turned, "{quarter_turns} quarter turns");
        assert_eq!(result.to_rgb8().dimensions(), turned.dimensions());
    }
}

/// A brush stroke greys the colour under it and nothing else, and paints without running the
/// network again: the colour layer at hand is merged once more.
#[test]
fn a_brush_stroke_greys_its_patch_without_colorizing_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = photo(dir.path());
    let worker = Worker::spawn(|| {});
    let plain = settings(7, 1.0);
    // A horizontal stroke across the middle of the 96 × 64 photo, 8 px in radius.
    let stroke = Stroke { points: vec![[0.25, 0.5], [0.75, 0.5]], radius: 8.0 / 64.0, tool: Tool::Remove };
    let brushed = Settings { brush: vec![stroke], ..plain.clone() };
    let mut results = Vec::new();
    for (photo, settings) in [(1, plain), (2, brushed)] {
        worker.submit(Job { photo, path: path.clone(), model: Some(model()), settings, on_screen: false });
        let events = until_done(&worker, photo);
        let colorized = events.iter().any(|e| matches!(e, Event::Progress { stage: Stage::Colorizing, .. }));
        assert_eq!(colorized, photo == 1, "the network runs for the first job only: {events:?}");
        let Some(Event::Finished { result, .. }) = events.last() else { panic!("{events:?}") };
        results.push(result.to_rgb8());
    }
    let (before, after) = (&results[0], &results[1]);
    let mut coloured_in_core = 0;
    for (x, y, px) in after.enumerate_pixels() {
        let (dx, dy) = ((x as f32 + 0.5 - 48.0).abs() - 24.0, (y as f32 + 0.5 - 32.0).abs());
        let distance = if dx > 0.0 { dx.hypot(dy) } else { dy };
        let [r, g, b] = px.0;
        if distance < 4.0 {
            assert!(r.abs_diff(g) <= 2 && g.abs_diff(b) <= 2, "grey under the stroke at ({x}, {y}): {:?}", px.0);
            let [r0, g0, b0] = before.get_pixel(x, y).0;
            coloured_in_core += (r0.abs_diff(g0).max(g0.abs_diff(b0)) > 4) as usize;
        } else if distance > 9.0 {
            assert_eq!(px, before.get_pixel(x, y), "untouched away from the stroke at ({x}, {y})");
        }
    }
    assert!(coloured_in_core > 50, "the model had coloured the patch: {coloured_in_core} pixels");
}

/// The photo on screen stays at hand while others are rendered: painting on it or moving its
/// sliders then neither reads it nor runs the network again. A photo not on screen is let go.
#[test]
fn the_photo_on_screen_stays_at_hand_while_others_render() {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = (0..3)
        .map(|i| {
            let path = dir.path().join(format!("p{i}.png"));
            std::fs::copy(photo(dir.path()), &path).unwrap();
            path
        })
        .collect();
    let worker = Worker::spawn(|| {});
    let run = |photo: u64, path: &PathBuf, settings: Settings, on_screen: bool| {
        worker.submit(Job { photo, path: path.clone(), model: Some(model()), settings, on_screen });
        let events = until_done(&worker, photo);
        assert!(matches!(events.last(), Some(Event::Finished { .. })), "{events:?}");
        let stage = |s| events.iter().any(|e| matches!(e, Event::Progress { stage, .. } if *stage == s));
        (stage(Stage::Reading), stage(Stage::Colorizing))
    };
    let stroke = Stroke { points: vec![[0.5, 0.5]], radius: 0.1, tool: Tool::Remove };
    let brushed = Settings { brush: vec![stroke], ..settings(7, 1.0) };
    assert_eq!(run(1, &paths[0], settings(7, 1.0), true), (true, true));
    // Two other photos rendered in the background.
    assert_eq!(run(2, &paths[1], settings(7, 1.0), false), (true, true));
    assert_eq!(run(3, &paths[2], settings(7, 1.0), false), (true, true));
    assert_eq!(run(1, &paths[0], brushed.clone(), true), (false, false), "the photo on screen, painted on");
    // The background photo before the last was let go; the last is still at hand.
    assert_eq!(run(2, &paths[1], brushed.clone(), false), (true, true));
    assert_eq!(run(2, &paths[1], settings(7, 1.5), false), (false, false));
}

/// A cropped photo: the original shown stays whole (the crop frame is set on it), the model
/// sees only the crop, as `Colorizer::colorize` does, and a brush stroke kept on the whole photo
/// lands on the crop where it was painted. A new crop runs the network again; the same crop with
/// another stroke does not.
#[test]
fn a_cropped_photo_is_colorized_from_its_crop_and_strokes_keep_their_place() {
    use tintype::pipeline::crop::Crop;
    let dir = tempfile::tempdir().unwrap();
    let path = photo(dir.path());
    let worker = Worker::spawn(|| {});
    // The right half and the lower three quarters of the 96 × 64 photo: 48 × 48 from (48, 16).
    let crop = Crop { left: 0.5, top: 0.25, right: 1.0, bottom: 1.0, angle: 0.0 };
    let cropped = Settings { crop: Some(crop), ..settings(7, 1.0) };
    // A dab at the whole photo's (72, 40): the crop's centre, (24, 24).
    let dab = Stroke { points: vec![[0.75, 0.625]], radius: 6.0 / 64.0, tool: Tool::Remove };
    let brushed = Settings { brush: vec![dab], ..cropped.clone() };
    let mut results = Vec::new();
    for (photo, settings) in [(1, cropped.clone()), (2, brushed.clone())] {
        worker.submit(Job { photo, path: path.clone(), model: Some(model()), settings, on_screen: true });
        let events = until_done(&worker, photo);
        let colorized = events.iter().any(|e| matches!(e, Event::Progress { stage: Stage::Colorizing, .. }));
        assert_eq!(colorized, photo == 1, "the stroke alone does not run the network again: {events:?}");
        let Some(Event::Finished { original, result, .. }) = events.last() else { panic!("{events:?}") };
        assert_eq!((original.width(), original.height()), (96, 64), "the whole photo is shown to crop");
        results.push(result.to_rgb8());
    }
    let colorizer = tintype::engine::Colorizer::load(&model().path, None, &candle_core::Device::Cpu).unwrap();
    let whole = image::open(&path).unwrap();
    let expected = colorizer.colorize(&whole, &cropped).unwrap().to_rgb8();
    assert_eq!(expected.dimensions(), (48, 48));
    assert_eq!(results[0], expected, "the worker's crop is the engine's");
    let mut coloured_in_core = 0;
    for (x, y, px) in results[1].enumerate_pixels() {
        let distance = (x as f32 + 0.5 - 24.0).hypot(y as f32 + 0.5 - 24.0);
        let [r, g, b] = px.0;
        if distance < 3.0 {
            assert!(r.abs_diff(g) <= 2 && g.abs_diff(b) <= 2, "grey under the dab at ({x}, {y}): {:?}", px.0);
            let [r0, g0, b0] = results[0].get_pixel(x, y).0;
            coloured_in_core += (r0.abs_diff(g0).max(g0.abs_diff(b0)) > 4) as usize;
        } else if distance > 7.0 {
            assert_eq!(px, results[0].get_pixel(x, y), "untouched away from the dab at ({x}, {y})");
        }
    }
    assert!(coloured_in_core > 20, "the model had coloured the dab's core: {coloured_in_core} pixels");
    // Another crop: the network runs again, on the new part.
    let wider = Settings { crop: Some(Crop { left: 0.0, ..crop }), ..settings(7, 1.0) };
    worker.submit(Job { photo: 3, path: path.clone(), model: Some(model()), settings: wider, on_screen: true });
    let events = until_done(&worker, 3);
    assert!(events.iter().any(|e| matches!(e, Event::Progress { stage: Stage::Colorizing, .. })), "{events:?}");
    let Some(Event::Finished { result, .. }) = events.last() else { panic!("{events:?}") };
    assert_eq!((result.width(), result.height()), (96, 48));
    // Straightened: the network runs again, on the part turned upright, as the engine's.
    let straightened = Settings { crop: Some(Crop { angle: 4.0, ..crop }), ..settings(7, 1.0) };
    let job =
        Job { photo: 4, path: path.clone(), model: Some(model()), settings: straightened.clone(), on_screen: true };
    worker.submit(job);
    let events = until_done(&worker, 4);
    assert!(events.iter().any(|e| matches!(e, Event::Progress { stage: Stage::Colorizing, .. })), "{events:?}");
    let Some(Event::Finished { result, .. }) = events.last() else { panic!("{events:?}") };
    assert_eq!(result.to_rgb8(), colorizer.colorize(&whole, &straightened).unwrap().to_rgb8());
}
