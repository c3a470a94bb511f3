//! Which signal asked the command line to stop, so it exits as a shell expects: 130 for Ctrl-C (SIGINT), 143 for
//! SIGTERM, 129 for SIGHUP (128 + the signal's number). On Unix the signals are read on a named thread
//! (`signal-hook`), so the handler may remove the kernel-RST guard (it runs `nft`) before exiting; elsewhere
//! `ctrlc` reports Ctrl-C and console closing as an interrupt.

/// A stop request from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: `kill`, a service manager stopping us.
    Terminate,
    /// SIGHUP: the terminal went away.
    Hangup,
}

impl Signal {
    /// The exit code a shell reports for a process ended by this signal: 128 + its number.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
            Signal::Hangup => 129,
        }
    }
}

/// Calls `on` (on a background thread) for every SIGINT, SIGTERM and SIGHUP from now on. Call once per process;
/// a failure to install leaves the default behaviour (the process dies by the signal).
#[cfg(unix)]
pub fn install(on: impl Fn(Signal) + Send + 'static) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else { return };
    let _ = std::thread::Builder::new().name("signals".into()).spawn(move || {
        for s in signals.forever() {
            on(match s {
                SIGTERM => Signal::Terminate,
                SIGHUP => Signal::Hangup,
                _ => Signal::Interrupt,
            });
        }
    });
}

/// Calls `on` for every Ctrl-C (and console close) from now on. Call once per process.
#[cfg(not(unix))]
pub fn install(on: impl Fn(Signal) + Send + 'static) {
    let _ = ctrlc::set_handler(move || on(Signal::Interrupt));
}

/// Makes SIGINT, SIGTERM and SIGHUP remove installed kernel-RST guards and exit with the signal's code, and a
/// panic remove them too (`run`, `send`). Call once per process.
pub fn install_guard_cleanup() {
    install(|sig| {
        crate::link::guard::remove_all();
        std::process::exit(i32::from(sig.exit_code()));
    });
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        crate::link::guard::remove_all();
        previous(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_128_plus_the_signal() {
        assert_eq!(Signal::Interrupt.exit_code(), 130);
        assert_eq!(Signal::Terminate.exit_code(), 143);
        assert_eq!(Signal::Hangup.exit_code(), 129);
    }
}
