//! `tcpcraft-link`: the small privileged helper that owns the raw sockets, the capture and the kernel-RST guard.
//! The GUI and CLI talk to it over stdin/stdout (see `tcpcraft::link::helper`).

fn main() -> std::process::ExitCode {
    tcpcraft::link::helper::main()
}
