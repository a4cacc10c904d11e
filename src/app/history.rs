//! Undo and redo of the render size, turn and adjustments (Ctrl+Z; Ctrl+Shift+Z or Ctrl+Y). A
//! slider's whole drag is one step, and so is "Apply to all photos", so that giving every
//! photo one photo's settings can be taken back.

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

#[derive(Default)]
pub struct History {
    undo: Vec<Step>,
    redo: Vec<Step>,
    /// The photo the last change was to (`None`: the settings for photos added next), and when.
    last: Option<(Option<u64>, f64)>,
}

impl History {
    /// Keeps `before` as the state a change to `photo` (one photo, or `None` for several or
    /// none) at time `now` starts from, unless it continues the last change.
    pub fn record(&mut self, before: Step, photo: Option<u64>, now: f64) {
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

    /// The step to go back to; `now` is the state it replaces, kept for redo.
    pub fn undo(&mut self, now: impl FnOnce(&Step) -> Step) -> Option<Step> {
        let step = self.undo.pop()?;
        self.redo.push(now(&step));
        self.last = None;
        Some(step)
    }

    /// The step undone last; `now` is the state it replaces, kept for undo.
    pub fn redo(&mut self, now: impl FnOnce(&Step) -> Step) -> Option<Step> {
        let step = self.redo.pop()?;
        self.undo.push(now(&step));
        self.last = None;
        Some(step)
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
        let current = step(1, 1.3);
        let back = history.undo(|_| current.clone()).unwrap();
        assert_eq!(back, step(1, 1.2));
        let back = history.undo(|_| back.clone()).unwrap();
        assert_eq!(back, step(1, 1.0), "the drag's frames are one step");
        assert!(history.undo(|s| s.clone()).is_none());
        assert_eq!(history.redo(|_| step(1, 1.0)).unwrap(), step(1, 1.2));
        assert_eq!(history.redo(|_| step(1, 1.2)).unwrap(), step(1, 1.3));
        assert!(history.redo(|s| s.clone()).is_none());
    }

    #[test]
    fn another_photo_or_a_new_change_after_undo_starts_afresh() {
        let mut history = History::default();
        history.record(step(1, 1.0), Some(1), 0.0);
        history.record(step(2, 1.0), Some(2), 0.01);
        assert_eq!(history.undo(|s| s.clone()).unwrap(), step(2, 1.0), "another photo: its own step");
        history.record(step(2, 1.5), Some(2), 0.02);
        assert!(history.redo(|s| s.clone()).is_none(), "a new change forgets what was undone");
    }
}
