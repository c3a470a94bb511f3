//! The command line: one file per subcommand, sharing the engine with the GUI.

pub mod build;
pub mod craft;
pub mod error;
pub mod events;
pub mod frag;
pub mod import;
pub mod lab;
pub mod ladder;
pub mod presets;
pub mod run;
pub mod send;
pub mod signals;
pub mod sweep;
pub mod trace;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use error::CliError;

/// tcpcraft: craft any TCP segment, send it, and see the exchange as a handshake timeline.
#[derive(Parser, Debug)]
#[command(name = "tcpcraft", version, about, long_about = None)]
pub struct Cli {
    /// What to do; without a command the desktop app opens.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Language of notes, feedback and the desktop app (default: from the locale, LANG / LC_ALL).
    #[arg(long, global = true, value_enum)]
    pub lang: Option<crate::i18n::Lang>,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build a segment from header fields and print it as hex with a field breakdown (no privileges needed).
    Build(build::BuildArgs),
    /// Send one crafted segment (raw or simulated link) and print every matched reply.
    Send(send::SendArgs),
    /// Run a preset (a multi-step exchange) and print its handshake timeline.
    Run(run::RunArgs),
    /// Run a one-probe preset across many ports and hosts (open / closed / filtered / unreachable).
    Sweep(sweep::SweepArgs),
    /// The path to a host hop by hop (TTL 1..N), and with --ports which hop blocks which port (firewalk).
    Trace(trace::TraceArgs),
    /// Show a pcap/pcapng capture's TCP segments as a timeline, or draft a preset from them.
    Import(import::ImportArgs),
    /// List the bundled presets.
    Presets,
    /// Validate preset files.
    Check(presets::CheckArgs),
    /// Lab exercises: list them, or grade one headless (`lab check FILE`).
    #[command(subcommand)]
    Lab(lab::LabCommand),
    /// Open the desktop app (what starting tcpcraft without arguments does).
    Gui {
        /// Load this preset and run it on the simulated link as soon as the window opens.
        #[arg(long, value_name = "PRESET")]
        run: Option<String>,
        /// Colour theme for this start (and remembered): dark, light, or the system's.
        #[arg(long, value_enum)]
        theme: Option<GuiTheme>,
    },
}

/// The desktop app's colour theme, as `gui --theme` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GuiTheme {
    /// Follow the system's light or dark setting.
    System,
    /// Always dark.
    Dark,
    /// Always light.
    Light,
}

/// Parses the process arguments, runs the command, prints its output, and returns the exit code.
pub fn main() -> ExitCode {
    main_with(std::env::args_os())
}

/// Like [`main`], for any argument list (tests call this).
pub fn main_with<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = match Cli::command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => return clap_exit(e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return clap_exit(e),
    };
    crate::i18n::set(cli.lang.unwrap_or_else(crate::i18n::Lang::from_env));
    let result = match &cli.command {
        None | Some(Command::Gui { .. }) => {
            let (autorun, theme) = match &cli.command {
                Some(Command::Gui { run, theme }) => (run.clone(), *theme),
                _ => (None, None),
            };
            return open_gui(autorun, cli.lang, theme);
        }
        Some(Command::Build(args)) => {
            let sub = matches.subcommand_matches("build").unwrap_or(&matches);
            build::run(args, sub)
        }
        Some(Command::Send(args)) => {
            signals::install_guard_cleanup();
            let sub = matches.subcommand_matches("send").unwrap_or(&matches);
            send::run(args, sub)
        }
        Some(Command::Run(args)) => {
            signals::install_guard_cleanup();
            return graded(run::run(args).map(|o| (o.text, o.pass)));
        }
        Some(Command::Sweep(args)) => {
            sweep::install_stop_handler();
            let result = sweep::run(args);
            match result {
                // What was found is printed; the code says it is not the whole sweep.
                Ok(text) if sweep::stopped().is_some() => {
                    print_out(&text);
                    return ExitCode::from(sweep::stopped().unwrap_or(EXIT_INTERRUPTED));
                }
                other => other,
            }
        }
        Some(Command::Import(args)) => import::run(args),
        Some(Command::Trace(args)) => trace::run(args),
        Some(Command::Presets) => presets::list(),
        Some(Command::Check(args)) => presets::check(args),
        Some(Command::Lab(lab::LabCommand::List)) => lab::list(),
        Some(Command::Lab(lab::LabCommand::Check(args))) => {
            return graded(lab::check(args).map(|o| (o.text, o.pass)));
        }
    };
    match result {
        Ok(out) => {
            print_out(&out);
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// Prints a judged result (`run`, `lab check`): exit 0 when it passed, [`EXIT_FAILED_EXPECTATION`] when not.
fn graded(result: Result<(String, bool), CliError>) -> ExitCode {
    match result {
        Ok((text, pass)) => {
            print_out(&text);
            if pass {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_FAILED_EXPECTATION)
            }
        }
        Err(e) => fail(&e),
    }
}

/// Exit code of `run` when an expectation was not met.
pub const EXIT_FAILED_EXPECTATION: u8 = 1;
/// Exit code of a command stopped by Ctrl-C (a sweep prints its results so far): 128 + SIGINT, as shells report
/// it; SIGTERM gives 143 ([`signals::Signal::exit_code`]).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Prints to stdout; a closed pipe (`| head`) is the reader's choice, not an error of ours.
fn print_out(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Opens the desktop app; on failure (no display) says what to do instead.
#[cfg(feature = "gui")]
fn open_gui(autorun: Option<String>, lang: Option<crate::i18n::Lang>, theme: Option<GuiTheme>) -> ExitCode {
    use crate::ui::theme::ThemeChoice;
    let theme = theme.map(|t| match t {
        GuiTheme::System => ThemeChoice::System,
        GuiTheme::Dark => ThemeChoice::Dark,
        GuiTheme::Light => ThemeChoice::Light,
    });
    match crate::ui::run(autorun, lang, theme) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot open the window: {e} (in a terminal, `tcpcraft --help` lists the commands)");
            ExitCode::from(error::EXIT_LINK_UNAVAILABLE)
        }
    }
}

/// Built without the desktop app: say so.
#[cfg(not(feature = "gui"))]
fn open_gui(_autorun: Option<String>, _lang: Option<crate::i18n::Lang>, _theme: Option<GuiTheme>) -> ExitCode {
    eprintln!("error: cannot open the window: this build has no desktop app (in a terminal, `tcpcraft --help` lists the commands)");
    ExitCode::from(error::EXIT_LINK_UNAVAILABLE)
}

/// Prints a one-line error and returns its exit code.
fn fail(e: &CliError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(e.exit_code())
}

/// Help and version go to stdout with code 0; usage errors print one line and exit 2.
fn clap_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        _ => {
            // clap's message up to its usage block, folded onto one line.
            let rendered = e.render().to_string();
            let line: Vec<&str> = rendered
                .lines()
                .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:"))
                .map(str::trim)
                .collect();
            eprintln!("{}", line.join(" "));
            ExitCode::from(error::EXIT_BAD_INPUT)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
