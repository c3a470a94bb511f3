//! Windows: tcpcraft.exe is a GUI-subsystem program, so a double-click opens no console window. Started with
//! arguments from cmd or PowerShell, it attaches to that console so the command line's output is seen there.
#![allow(unsafe_code)]

use windows_sys::Win32::System::Console::{AttachConsole, ATTACH_PARENT_PROCESS};

/// Attaches to the parent's console when there is one (started from a terminal). Without one (started from
/// Explorer, or output redirected to a file or pipe, which stays as it is) nothing changes.
pub fn attach_parent() {
    // SAFETY: AttachConsole takes a process id (ATTACH_PARENT_PROCESS) and touches only this process's console
    // state; it fails harmlessly (returns 0) when the parent has no console or one is already attached.
    unsafe {
        AttachConsole(ATTACH_PARENT_PROCESS);
    }
}
