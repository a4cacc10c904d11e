//! Undo and redo (Ctrl+Z; Ctrl+Shift+Z or Ctrl+Y) of the render size, turn and adjustments,
//! and of photos taken off the list. A slider's whole drag is one step, and so is "Apply to all
//! photos", so that giving every photo one photo's settings can be taken back.

use super::library::Photo;
use crate::engine::Settings;

/// Steps kept; older ones are forgotten.
const LIMIT: usize = 100;
/// Changes to the same photo closer together than this (seconds) are one step: a drag.
const COALESCE_SECONDS: f64 = 0.3;

/// What the settings were before a change: those of the photos it touched, and those the
/// photos added next start with.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub photos: Vec<(u64, Settings)>,
    pub new_photos: Settings,
}

/// A step of the window's history: the state before a change, which taking the change back
/// restores.
pub enum Change {
    Settings(Step),
    /// Photos taken off the list, each with its place in it, in the list's order.
    Removed(Vec<(usize, Photo)>),
    /// Photos put back on the list.
    PutBack(Vec<u64>),
    /// Changes made as one (a scan split into its prints: the first print's crop, the others
    /// added), taken back together.
    Several(Vec<Change>),
}

pub struct History<T = Change> {
    undo: Vec<T>,
    redo: Vec<T>,
    /// The photo the last change was to (`None`: the settings for photos added next), and when.
    last: Option<(Option<u64>, f64)>,
}

impl<T> Default for History<T> {
    fn default() -> Self {
        Self { undo: Vec::new(), redo: Vec::new(), last: None }
    }
}

impl<T> History<T> {
    /// Keeps `before` as the state a change to `photo` (one photo, or `None` for several or
    /// none) at time `now` starts from, unless it continues the last change.
    pub fn record(&mut self, before: T, photo: Option<u64>, now: f64) {
        let continues = photo.is_some()
            && self.last.is_some_and(|(last, at)| last == photo && now - at < COALESCE_SECONDS)
            && !self.undo.is_empty();
        self.last = Some((photo, now));
        if continues {
            return;
        }
        self.undo.push(before);
        if self.undo.len() > LIMIT {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    /// Takes the last change back (with `redo`, puts back the last one taken back): `restore`
    /// makes the step's state the current one and returns the state it replaced, kept for
    /// walking back the other way. False when there was no step.
    pub fn walk(&mut self, redo: bool, restore: impl FnOnce(T) -> T) -> bool {
        let (from, to) = if redo { (&mut self.redo, &mut self.undo) } else { (&mut self.undo, &mut self.redo) };
        let Some(step) = from.pop() else { return false };
        to.push(restore(step));
        self.last = None;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::chroma::ChromaControls;

    fn settings(saturation: f32) -> Settings {
        Settings {
            render_factor: 35,
            defade: 0.0,
            chroma: ChromaControls { saturation, ..Default::default() },
            quarter_turns: 0,
            brush: Vec::new(),
            crop: None,
        }
    }

    fn step(photo: u64, saturation: f32) -> Step {
        Step { photos: vec![(photo, settings(saturation))], new_photos: settings(saturation) }
    }

    #[test]
    fn a_drag_is_one_step_and_undo_then_redo_walk_it_back_and_forth() {
        let mut history = History::default();
        // A drag from 1.0 through 1.1 to 1.2, a frame apart, then later another change.
        history.record(step(1, 1.0), Some(1), 0.0);
        history.record(step(1, 1.1), Some(1), 0.02);
        history.record(step(1, 1.2), Some(1), 2.0);
        // The photo's state as the window holds it; each walk swaps it with the step's.
        let mut current = step(1, 1.3);
        fn walk(history: &mut History<Step>, current: &mut Step, redo: bool) -> bool {
            history.walk(redo, |s| std::mem::replace(current, s))
        }
        assert!(walk(&mut history, &mut current, false));
        assert!(walk(&mut history, &mut current, false));
        assert!(!walk(&mut history, &mut current, false));
        assert_eq!(current, step(1, 1.0), "the drag's frames are one step");
        assert!(walk(&mut history, &mut current, true));
        assert_eq!(current, step(1, 1.2));
        assert!(walk(&mut history, &mut current, true));
        assert!(!walk(&mut history, &mut current, true));
        assert_eq!(current, step(1, 1.3));
    }

    #[test]
    fn another_photo_or_a_new_change_after_undo_starts_afresh() {
        let mut history = History::default();
        history.record(step(1, 1.0), Some(1), 0.0);
        history.record(step(2, 1.0), Some(2), 0.01);
        let mut undone = None;
        assert!(history.walk(false, |s| {
            undone = Some(s.clone());
            s
        }));
        assert_eq!(undone, Some(step(2, 1.0)), "another photo: its own step");
        history.record(step(2, 1.5), Some(2), 0.02);
        assert!(!history.walk(true, |s| s), "a new change forgets what was undone");
    }
}
