//! tcpcraft's entry point: the command line, or the desktop app when started without arguments. On Windows a
//! GUI-subsystem program (no console window on double-click) that attaches to its terminal when given arguments.
#![cfg_attr(windows, windows_subsystem = "windows")]

#[cfg(windows)]
mod console_windows;

fn main() -> std::process::ExitCode {
    #[cfg(windows)]
    if std::env::args_os().len() > 1 {
        console_windows::attach_parent();
    }
    tcpcraft::cli::main()
}
