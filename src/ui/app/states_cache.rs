//! The states of both ends for the timeline on show, computed once per change rather than every frame.

use crate::exchange::states::{self, States, TcpState};
use crate::exchange::TimelineEvent;

/// Both ends' states for the events on show, kept until the events or the peer's readings change.
#[derive(Default)]
pub struct StatesCache {
    key: (usize, usize),
    states: Vec<States>,
}

impl StatesCache {
    /// The states of `events` (the peer's from `truth` where read), computed again only when either grew.
    pub fn get(&mut self, events: &[TimelineEvent], truth: &[Option<TcpState>]) -> &[States] {
        let key = (events.len(), truth.iter().filter(|t| t.is_some()).count());
        if key != self.key || self.states.len() != events.len() {
            self.states = states::infer(events);
            states::apply_peer_truth(&mut self.states, truth);
            self.key = key;
        }
        &self.states
    }
}
