//! The command vocabulary of the window: panels draw and push [`Action`]s; the app applies them at the end of the
//! frame. It sits below the panels (as rerun's `SystemCommand` does), so a panel never imports the app.

use crate::i18n::Lang;

/// What a panel asks the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Run the current preset (paused before each Send with `step`).
    Run {
        /// Step-through.
        step: bool,
    },
    /// Let a paused run send its next segment.
    Next,
    /// Stop the run.
    Stop,
    /// Send the edited segment once.
    SendOne,
    /// Load a bundled preset.
    LoadBuiltin(&'static str),
    /// Load one of the user's presets.
    LoadUser(usize),
    /// Show the open dialog.
    OpenDialog,
    /// Save the preset (to its file, or through the dialog).
    Save {
        /// Always ask for a file.
        as_new: bool,
    },
    /// Select a timeline event.
    SelectEvent(usize),
    /// Put a timeline event's segment into the editor.
    CraftFrom(usize),
    /// Select a Send step of the preset for editing.
    SelectStep(usize),
    /// Edit the plain segment again (no step).
    UnselectStep,
    /// Write the timeline to a pcap file (dialog).
    ExportPcap,
    /// Read a capture into the timeline (dialog).
    ImportPcap,
    /// Turn the timeline's segments (from the selected one on) into a preset draft.
    DraftPreset,
    /// Switch the language (and remember the choice).
    SetLang(Lang),
    /// Start a sweep from the Sweep tab's inputs.
    StartSweep,
    /// Start a trace from the Trace tab's inputs.
    StartTrace,
    /// Write the sweep's results as CSV (dialog).
    ExportCsv,
    /// Change the current preset's list of steps (recorded for undo).
    EditSteps(StepEdit),
    /// Undo the last edit of the preset's steps.
    UndoSteps,
    /// Redo the last undone edit of the preset's steps.
    RedoSteps,
}

/// A kind of step the step editor adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewStep {
    /// A segment to send.
    Send,
    /// A reply to wait for.
    Expect,
    /// A pause.
    Sleep,
    /// A silence to wait for.
    ExpectNothing,
    /// The peer's application acting (closing first, by default).
    Peer,
}

/// An edit of the list of steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepEdit {
    /// Add a step after this one (`None`: at the end) and select it.
    Add(NewStep, Option<usize>),
    /// Remove this step.
    Remove(usize),
    /// Put a copy of this step right after it.
    Duplicate(usize),
    /// Move the step at `from` to `to`.
    Move {
        /// Where it is.
        from: usize,
        /// Where it goes.
        to: usize,
    },
}
