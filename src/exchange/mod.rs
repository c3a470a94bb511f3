//! The exchange: the one place links are chosen and opened ([`session`]), the preset runner over any link, the
//! timeline model (relative numbers, RTT, notes, verdicts), sweeps and lab grading.

pub mod explain;
pub mod lab;
pub mod notes;
pub mod runner;
pub mod seed;
pub mod session;
pub mod states;
pub mod sweep;
pub mod timeline;
pub mod trace;

pub use runner::{preview, run, Control, Observer, RunError, RunOptions, RunResult, Silent};
pub use timeline::{Dir, StepVerdict, Timeline, TimelineEvent};
