//! A run's seed: one number that fixes every random choice of a run, on both sides. Our side's ISN and source
//! port (the runner's generator), a sweep's cookie key, and the simulated lab host's ISNs all come from it,
//! each from its own stream, so the same seed repeats a run exactly and a new seed changes all of them.
//!
//! Which seed a run uses (the first that is there):
//! 1. one given for this run: `--seed N` on the command line, or the seed field in the GUI with "auto" unticked;
//! 2. the preset's own, `sim: (seed: N)` (no bundled preset sets one);
//! 3. a new one from the operating system's random source, different every run.
//!
//! The seed used is reported (`"seed": N` in JSON, the GUI's status bar), so any run can be repeated.

use std::hash::{BuildHasher, RandomState};

use serde::Serialize;

use crate::preset::LabHost;

/// Where a run's seed came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeedSource {
    /// Given for this run (`--seed`, the GUI's seed field).
    Given,
    /// The preset's `sim: (seed: N)`.
    Preset,
    /// Fresh from the operating system's random source.
    Random,
}

/// The seed a run uses, and where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Seed {
    /// The number.
    pub value: u64,
    /// Where it came from.
    pub source: SeedSource,
}

/// Stream tags: each use of the seed draws from its own stream, so they are not the same numbers.
const HOST_STREAM: u64 = 0x686f_7374; // "host"
const COOKIE_STREAM: u64 = 0x636f_6f6b; // "cook"

impl Seed {
    /// The run's seed by precedence: `given`, else the preset's lab-host seed, else a fresh random one.
    pub fn choose(given: Option<u64>, lab: &LabHost) -> Seed {
        match (given, lab.seed) {
            (Some(value), _) => Seed { value, source: SeedSource::Given },
            (None, Some(value)) => Seed { value, source: SeedSource::Preset },
            (None, None) => Seed { value: random(), source: SeedSource::Random },
        }
    }

    /// A seed given for this run.
    pub fn given(value: u64) -> Seed {
        Seed { value, source: SeedSource::Given }
    }

    /// The seed of the simulated lab host's random numbers (its ISNs).
    pub fn host(&self) -> u64 {
        mix(self.value ^ HOST_STREAM)
    }

    /// The key of a sweep's cookies (the sequence numbers of its probes).
    pub fn cookie_key(&self) -> u64 {
        mix(self.value ^ COOKIE_STREAM)
    }
}

/// A new random number from the operating system: std's `RandomState` takes its SipHash keys from the OS random
/// source (getrandom(2) on Linux, `BCryptGenRandom` on Windows, `arc4random` on macOS); hashing nothing with them
/// gives a fresh 64-bit value for every new state.
pub fn random() -> u64 {
    mix(RandomState::new().hash_one(()))
}

/// SplitMix64's finaliser: spreads one number over all 64 bits, so nearby seeds give unrelated streams.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_seed_beats_the_presets_which_beats_a_random_one() {
        let lab = LabHost { seed: Some(5), ..LabHost::default() };
        assert_eq!(Seed::choose(Some(9), &lab), Seed { value: 9, source: SeedSource::Given });
        assert_eq!(Seed::choose(None, &lab), Seed { value: 5, source: SeedSource::Preset });
        let a = Seed::choose(None, &LabHost::default());
        let b = Seed::choose(None, &LabHost::default());
        assert_eq!((a.source, b.source), (SeedSource::Random, SeedSource::Random));
        assert_ne!(a.value, b.value, "two runs, two seeds");
    }

    #[test]
    fn the_streams_differ_from_each_other_and_from_the_seed() {
        let s = Seed::given(1);
        assert!(s.host() != s.cookie_key() && s.host() != 1 && s.cookie_key() != 1);
        assert_eq!(s.host(), Seed::given(1).host(), "a seed is a seed");
        assert_ne!(s.host(), Seed::given(2).host());
    }
}
