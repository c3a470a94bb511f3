//! The exchange: the preset runner over any link, the expression language of templates, and the timeline model
//! (relative numbers, RTT, notes, verdicts).

pub mod explain;
pub mod expr;
pub mod lab;
pub mod notes;
pub mod runner;
pub mod sweep;
pub mod timeline;

pub use runner::{run, Control, Observer, RunError, RunOptions, RunResult, Silent};
pub use timeline::{Dir, StepVerdict, Timeline, TimelineEvent};
