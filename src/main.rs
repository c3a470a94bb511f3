//! tcpcraft's entry point: the command line, or the desktop app when started without arguments.

fn main() -> std::process::ExitCode {
    tcpcraft::cli::main()
}
