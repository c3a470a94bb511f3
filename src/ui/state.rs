//! What the app persists between sessions (the editor's segment, target, link, chosen preset), kept apart from
//! runtime handles, as in the egui demo app.

use serde::{Deserialize, Serialize};

use super::worker::LinkKind;
use crate::preset::Preset;
use crate::wire::SegmentSpec;

/// The key under which the state is stored.
pub const STATE_KEY: &str = "tcpcraft-state";

/// Everything the app remembers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PersistedState {
    /// The segment in the editor.
    pub spec: SegmentSpec,
    /// Target as typed: `host:port`.
    pub target: String,
    /// The chosen link.
    pub link: LinkKind,
    /// Raw link interface (empty: from the routing table).
    pub iface: String,
    /// Kernel-RST guard on raw runs.
    pub guard: bool,
    /// The preset being worked on.
    pub preset: Option<Preset>,
    /// Where that preset was loaded from or saved to, if it is a file.
    pub preset_path: Option<String>,
    /// Show absolute instead of relative seq/ack in the timeline.
    pub absolute: bool,
    /// How long Send-one listens for replies, in ms.
    pub wait_ms: u64,
    /// The language chosen in the app (`None`: the locale's, or `--lang`).
    #[serde(default)]
    pub lang: Option<crate::i18n::Lang>,
}

impl Default for PersistedState {
    fn default() -> Self {
        PersistedState {
            spec: SegmentSpec::default(),
            target: "192.0.2.10:80".into(),
            link: LinkKind::Sim,
            iface: String::new(),
            guard: true,
            preset: crate::preset::builtin::builtin("normal-open").and_then(Result::ok),
            preset_path: None,
            absolute: false,
            wait_ms: 1000,
            lang: None,
        }
    }
}
