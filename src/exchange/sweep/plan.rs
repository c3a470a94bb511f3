//! A sweep's size and pace checked against [`crate::limits`], in one place for every face (the CLI's flags, the
//! GUI's Sweep tab): how many targets (at most [`MAX_TARGETS`], the helper's number, on every link), how many
//! probes (targets × ports × passes; above [`CONFIRM_PROBES_ABOVE`] only when confirmed) and how fast (1 to
//! [`MAX_PPS`]; above [`DEFAULT_RATE`] only when confirmed). A confirmation never lifts a ceiling.

use super::SweepError;
use crate::limits::{CONFIRM_PROBES_ABOVE, DEFAULT_RATE, MAX_PPS, MAX_TARGETS};

/// The flag a limit is about, so the CLI names it (`--target`, `--ports`, `--rate`).
const TARGET: &str = "--target";
const PORTS: &str = "--ports";
const RATE: &str = "--rate";

fn limit(flag: &'static str, message: String) -> SweepError {
    SweepError::Limit { flag, message }
}

/// Refuses more than [`MAX_TARGETS`] addresses, with the helper's number and a hint. Called with the count
/// before the addresses are listed, so a /8 is refused without allocating 16 million of them.
pub fn check_targets(count: u128) -> Result<(), SweepError> {
    if count > MAX_TARGETS as u128 {
        return Err(limit(
            TARGET,
            format!(
                "{count} addresses: a sweep reaches at most {MAX_TARGETS} per session (the limit of tcpcraft-link, \
                 held on the simulated host too); sweep a /20 or smaller block at a time"
            ),
        ));
    }
    Ok(())
}

/// The most probes a sweep may send: every target in the first pass and again in each retry.
pub fn probes(hosts: usize, ports: usize, retries: u32) -> u64 {
    (hosts as u64).saturating_mul(ports as u64).saturating_mul(u64::from(retries) + 1)
}

/// Refuses a rate of 0 and one above [`MAX_PPS`] (with or without confirmation), and one above [`DEFAULT_RATE`]
/// unless `confirmed`.
pub fn check_rate(rate: u64, confirmed: bool) -> Result<(), SweepError> {
    if rate == 0 {
        return Err(limit(RATE, format!("0 pps sends nothing; give a rate from 1 to {MAX_PPS} packets per second")));
    }
    if rate > u64::from(MAX_PPS) {
        return Err(limit(
            RATE,
            format!(
                "{rate} pps is above the ceiling of {MAX_PPS} pps (tcpcraft-link's pacing limit, held on every \
                 link); --yes does not lift it"
            ),
        ));
    }
    if rate > DEFAULT_RATE && !confirmed {
        return Err(limit(
            RATE,
            format!("{rate} pps is above the {DEFAULT_RATE} pps cap; pass --yes if you mean it (at most {MAX_PPS})"),
        ));
    }
    Ok(())
}

/// Checks a whole sweep before anything is opened: its targets, its probe count (targets × ports × (1 +
/// retries); above [`CONFIRM_PROBES_ABOVE`] only when `confirmed`) and its rate. Returns the probe count.
pub fn check(hosts: usize, ports: usize, retries: u32, rate: u64, confirmed: bool) -> Result<u64, SweepError> {
    check_targets(hosts as u128)?;
    check_rate(rate, confirmed)?;
    let n = probes(hosts, ports, retries);
    if n > CONFIRM_PROBES_ABOVE && !confirmed {
        return Err(limit(
            PORTS,
            format!(
                "{hosts} target(s) × {ports} port(s) × {} pass(es) is up to {n} probes, more than \
                 {CONFIRM_PROBES_ABOVE}; pass --yes if you mean it (or fewer ports, or --retries 0)",
                u64::from(retries) + 1
            ),
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(r: Result<u64, SweepError>) -> &'static str {
        match r {
            Err(SweepError::Limit { flag, .. }) => flag,
            other => panic!("not a limit: {other:?}"),
        }
    }

    #[test]
    fn rates_have_a_floor_a_confirmation_and_a_ceiling() {
        assert_eq!(flag(check(1, 1, 0, 0, true)), RATE);
        assert!(check(1, 1, 0, 1, false).is_ok());
        assert!(check(1, 1, 0, DEFAULT_RATE, false).is_ok());
        assert_eq!(flag(check(1, 1, 0, DEFAULT_RATE + 1, false)), RATE);
        assert!(check(1, 1, 0, u64::from(MAX_PPS), true).is_ok());
        let e = check_rate(u64::from(MAX_PPS) + 1, true).unwrap_err().to_string();
        assert!(e.contains(&MAX_PPS.to_string()) && e.contains("--yes does not"), "{e}");
    }

    /// The cap counts probes, not addresses: every port of one host with a retry is 131,070 probes.
    #[test]
    fn the_confirmation_counts_probes() {
        assert_eq!(probes(1, 65_535, 1), 131_070);
        let e = check(1, 65_535, 1, 100, false).unwrap_err();
        assert!(e.to_string().contains("131070") && e.to_string().contains("--yes"), "{e}");
        assert_eq!(check(1, 65_535, 1, 100, true).unwrap(), 131_070);
        assert_eq!(check(1, 65_535, 0, 100, false).unwrap(), 65_535);
        assert_eq!(check(2, 16_384, 1, 100, false).unwrap(), 65_536, "the cap itself needs no confirmation");
    }

    #[test]
    fn targets_stop_at_the_helpers_number_even_when_confirmed() {
        assert!(check(MAX_TARGETS, 1, 0, 100, false).is_ok());
        let e = check(MAX_TARGETS + 1, 1, 0, 100, true).unwrap_err();
        assert_eq!(flag(Err(e)), TARGET);
        assert!(check_targets(1 << 24).unwrap_err().to_string().contains("4096"));
    }
}
