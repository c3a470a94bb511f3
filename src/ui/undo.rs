//! Undo and redo of a preset's steps: a bounded history of step-list snapshots, kept in egui's memory (one per
//! window), so neither the app state nor the panels need to carry it.

use egui::{Context, Id};

use crate::preset::Step;

/// The most snapshots kept each way.
pub const LIMIT: usize = 200;

/// Edits of one field closer together than this (typing, dragging) are undone as one.
const COALESCE_S: f64 = 1.0;

/// The undo and redo stacks of one preset's steps.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// The preset the stacks belong to (another preset's history is dropped).
    owner: String,
    undo: Vec<Vec<Step>>,
    redo: Vec<Vec<Step>>,
    /// The field and time of the last recorded edit, for coalescing.
    last: Option<(String, f64)>,
}

impl History {
    /// Starts over when the steps shown belong to another preset than the stacks do.
    pub fn own(&mut self, owner: &str) {
        if self.owner != owner {
            *self = History { owner: owner.to_string(), ..History::default() };
        }
    }

    /// Records the steps as they were before an edit; `field` names a field edit that may merge with the last one
    /// (`None`: a step added, removed or moved, never merged).
    pub fn record(&mut self, before: Vec<Step>, field: Option<String>, now: f64) {
        let merge = matches!((&self.last, &field), (Some((f, t)), Some(g)) if f == g && now - t < COALESCE_S);
        self.last = field.map(|f| (f, now));
        self.redo.clear();
        if merge && !self.undo.is_empty() {
            return;
        }
        self.undo.push(before);
        if self.undo.len() > LIMIT {
            self.undo.remove(0);
        }
    }

    /// Puts back the steps before the last edit; returns whether there was one.
    pub fn undo(&mut self, steps: &mut Vec<Step>) -> bool {
        let Some(prev) = self.undo.pop() else { return false };
        self.redo.push(std::mem::replace(steps, prev));
        self.last = None;
        true
    }

    /// Does again the last undone edit; returns whether there was one.
    pub fn redo(&mut self, steps: &mut Vec<Step>) -> bool {
        let Some(next) = self.redo.pop() else { return false };
        self.undo.push(std::mem::replace(steps, next));
        self.last = None;
        true
    }

    /// Whether there is an edit to undo.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Whether there is an undone edit to redo.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }
}

fn id() -> Id {
    Id::unique("tcpcraft-step-history")
}

/// Runs `f` on the window's step history, owned by `owner` (the preset's name).
pub fn with<R>(ctx: &Context, owner: &str, f: impl FnOnce(&mut History) -> R) -> R {
    ctx.data_mut(|d| {
        let h = d.get_temp_mut_or_default::<History>(id());
        h.own(owner);
        f(h)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_redo_and_merging() {
        let mut h = History::default();
        let mut steps = vec![Step::Sleep(1)];
        h.record(steps.clone(), None, 0.0);
        steps.push(Step::Sleep(2));
        h.record(steps.clone(), Some("a".into()), 1.0);
        steps[1] = Step::Sleep(3);
        h.record(steps.clone(), Some("a".into()), 1.5);
        steps[1] = Step::Sleep(4);
        assert!(h.undo(&mut steps));
        assert_eq!(steps, vec![Step::Sleep(1), Step::Sleep(2)], "the two field edits undo as one");
        assert!(h.undo(&mut steps));
        assert_eq!(steps, vec![Step::Sleep(1)]);
        assert!(!h.undo(&mut steps));
        assert!(h.redo(&mut steps));
        assert_eq!(steps.len(), 2);
        h.own("other");
        assert!(!h.can_redo() && !h.can_undo());
    }
}
