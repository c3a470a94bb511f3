//! The only unsafe code of the Npcap binding: `wpcap.dll` loaded at run time with `libloading` (never linked at
//! build time, so tcpcraft.exe starts without Npcap), its C structures, and thin safe wrappers over the calls.
//!
//! Loading follows Npcap's developer guide ("Npcap DLLs"): `%SystemRoot%\System32\Npcap\wpcap.dll` by full path
//! with `LOAD_WITH_ALTERED_SEARCH_PATH`, so the `Packet.dll` beside it is the one found, then the WinPcap-compatible
//! `%SystemRoot%\System32\wpcap.dll`.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_uint, CStr, CString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use super::super::super::bpf::Insn;

/// `PCAP_ERRBUF_SIZE`.
const ERRBUF_SIZE: usize = 256;
/// `AF_INET` and `AF_INET6` on Windows.
const AF_INET: u16 = 2;
const AF_INET6: u16 = 23;
/// `pcap_activate`'s "no permission to open the device".
pub const PCAP_ERROR_PERM_DENIED: c_int = -8;
/// `pcap_activate`'s "no such device".
pub const PCAP_ERROR_NO_SUCH_DEVICE: c_int = -5;

/// Opaque `pcap_t`.
#[repr(C)]
struct PcapT {
    _private: [u8; 0],
}

/// `struct pcap_if`.
#[repr(C)]
struct PcapIf {
    next: *mut PcapIf,
    name: *const c_char,
    description: *const c_char,
    addresses: *mut PcapAddr,
    flags: c_uint,
}

/// `struct pcap_addr`.
#[repr(C)]
struct PcapAddr {
    next: *mut PcapAddr,
    addr: *const SockAddr,
    netmask: *const SockAddr,
    broadaddr: *const SockAddr,
    dstaddr: *const SockAddr,
}

/// The start of every `sockaddr`.
#[repr(C)]
struct SockAddr {
    family: u16,
}

/// `sockaddr_in`.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(dead_code)] // Fields spell out the C layout; not all are read.
struct SockAddrIn {
    family: u16,
    port: u16,
    addr: [u8; 4],
    zero: [u8; 8],
}

/// `sockaddr_in6`.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(dead_code)] // Fields spell out the C layout; not all are read.
struct SockAddrIn6 {
    family: u16,
    port: u16,
    flowinfo: u32,
    addr: [u8; 16],
    scope_id: u32,
}

/// `struct pcap_pkthdr` (`struct timeval` holds two C `long`s, 32 bits on Windows).
#[repr(C)]
#[allow(dead_code)] // Fields spell out the C layout; not all are read.
struct PktHdr {
    tv_sec: i32,
    tv_usec: i32,
    caplen: u32,
    len: u32,
}

/// `struct bpf_insn`: the same layout as [`Insn`] and the kernel's `sock_filter`.
#[repr(C)]
struct BpfInsn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

/// `struct bpf_program`.
#[repr(C)]
struct BpfProgram {
    bf_len: c_uint,
    bf_insns: *mut BpfInsn,
}

type FindAllDevs = unsafe extern "C" fn(*mut *mut PcapIf, *mut c_char) -> c_int;
type FreeAllDevs = unsafe extern "C" fn(*mut PcapIf);
type Create = unsafe extern "C" fn(*const c_char, *mut c_char) -> *mut PcapT;
type SetInt = unsafe extern "C" fn(*mut PcapT, c_int) -> c_int;
type Activate = unsafe extern "C" fn(*mut PcapT) -> c_int;
type SendPacket = unsafe extern "C" fn(*mut PcapT, *const u8, c_int) -> c_int;
type NextEx = unsafe extern "C" fn(*mut PcapT, *mut *mut PktHdr, *mut *const u8) -> c_int;
type SetFilter = unsafe extern "C" fn(*mut PcapT, *mut BpfProgram) -> c_int;
type GetErr = unsafe extern "C" fn(*mut PcapT) -> *const c_char;
type Close = unsafe extern "C" fn(*mut PcapT);
type Datalink = unsafe extern "C" fn(*mut PcapT) -> c_int;
type LibVersion = unsafe extern "C" fn() -> *const c_char;

/// The loaded `wpcap.dll` and the functions tcpcraft calls. The pointers stay valid while `_lib` is held.
pub struct Wpcap {
    findalldevs: FindAllDevs,
    freealldevs: FreeAllDevs,
    create: Create,
    set_snaplen: SetInt,
    set_promisc: SetInt,
    set_timeout: SetInt,
    set_immediate_mode: SetInt,
    activate: Activate,
    sendpacket: SendPacket,
    next_ex: NextEx,
    setfilter: SetFilter,
    geterr: GetErr,
    close: Close,
    datalink: Datalink,
    lib_version: LibVersion,
    /// Where the DLL was loaded from.
    pub path: PathBuf,
    _lib: libloading::Library,
}

/// The places `wpcap.dll` is looked for, in order: Npcap's own folder, then the WinPcap-compatible one.
pub fn candidates() -> Vec<PathBuf> {
    let root = std::env::var_os("SystemRoot").map_or_else(|| PathBuf::from(r"C:\Windows"), PathBuf::from);
    let system32 = root.join("System32");
    vec![system32.join("Npcap").join("wpcap.dll"), system32.join("wpcap.dll")]
}

impl Wpcap {
    /// Loads `wpcap.dll` from the first of [`candidates`] that loads and has every function; the error lists
    /// what was tried and why each failed.
    pub fn load() -> Result<Wpcap, String> {
        let mut tried = Vec::new();
        for path in candidates() {
            match Wpcap::load_from(path.clone()) {
                Ok(w) => return Ok(w),
                Err(e) => tried.push(format!("{}: {e}", path.display())),
            }
        }
        Err(tried.join("; "))
    }

    fn load_from(path: PathBuf) -> Result<Wpcap, String> {
        // SAFETY: loading wpcap.dll runs its DllMain, which only initialises Npcap's own state. The full path
        // with LOAD_WITH_ALTERED_SEARCH_PATH makes Windows resolve its Packet.dll in the same folder, as Npcap's
        // developer guide asks, rather than wherever the default search order would find one.
        let lib: libloading::Library = unsafe {
            libloading::os::windows::Library::load_with_flags(
                &path,
                libloading::os::windows::LOAD_WITH_ALTERED_SEARCH_PATH,
            )
        }
        .map_err(|e| e.to_string())?
        .into();
        /// Looks `name` up as a function of type `T`.
        fn sym<T: Copy>(lib: &libloading::Library, name: &str) -> Result<T, String> {
            // SAFETY: every `T` used below is the exact C signature of the libpcap function named `name`
            // (pcap/pcap.h of libpcap 1.10, which Npcap ships), and the pointer is only called while the
            // Library it came from is alive (it is kept in the same Wpcap).
            unsafe { lib.get::<T>(name.as_bytes()) }.map(|s| *s).map_err(|e| format!("{name}: {e}"))
        }
        Ok(Wpcap {
            findalldevs: sym(&lib, "pcap_findalldevs")?,
            freealldevs: sym(&lib, "pcap_freealldevs")?,
            create: sym(&lib, "pcap_create")?,
            set_snaplen: sym(&lib, "pcap_set_snaplen")?,
            set_promisc: sym(&lib, "pcap_set_promisc")?,
            set_timeout: sym(&lib, "pcap_set_timeout")?,
            set_immediate_mode: sym(&lib, "pcap_set_immediate_mode")?,
            activate: sym(&lib, "pcap_activate")?,
            sendpacket: sym(&lib, "pcap_sendpacket")?,
            next_ex: sym(&lib, "pcap_next_ex")?,
            setfilter: sym(&lib, "pcap_setfilter")?,
            geterr: sym(&lib, "pcap_geterr")?,
            close: sym(&lib, "pcap_close")?,
            datalink: sym(&lib, "pcap_datalink")?,
            lib_version: sym(&lib, "pcap_lib_version")?,
            path,
            _lib: lib,
        })
    }

    /// The library's version string, e.g. "Npcap version 1.79, based on libpcap version 1.10.4".
    pub fn version(&self) -> String {
        // SAFETY: pcap_lib_version takes nothing and returns a pointer to a static NUL-terminated string.
        let p = unsafe { (self.lib_version)() };
        if p.is_null() {
            return String::new();
        }
        // SAFETY: non-null, NUL-terminated and static (checked above; libpcap's contract).
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    /// Every device Npcap can open (`pcap_findalldevs`), copied out before the list is freed.
    pub fn devices(&self) -> Result<Vec<Device>, String> {
        let mut errbuf = [0 as c_char; ERRBUF_SIZE];
        let mut list: *mut PcapIf = ptr::null_mut();
        // SAFETY: both out-pointers are valid for writes; errbuf has PCAP_ERRBUF_SIZE bytes.
        if unsafe { (self.findalldevs)(&mut list, errbuf.as_mut_ptr()) } != 0 {
            return Err(errbuf_text(&errbuf));
        }
        let mut out = Vec::new();
        let mut cur = list;
        while !cur.is_null() {
            // SAFETY: `cur` is a node of the list pcap_findalldevs just built; it stays valid until freealldevs.
            let node = unsafe { &*cur };
            out.push(Device {
                name: cstr(node.name),
                description: cstr(node.description),
                addresses: addresses(node.addresses),
                loopback: node.flags & 1 != 0,
            });
            cur = node.next;
        }
        if !list.is_null() {
            // SAFETY: `list` came from pcap_findalldevs and is freed once; nothing points into it any more.
            unsafe { (self.freealldevs)(list) };
        }
        Ok(out)
    }
}

/// One device of `pcap_findalldevs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// Its name, `\Device\NPF_{GUID}`.
    pub name: String,
    /// Its description (the adapter's model).
    pub description: String,
    /// Its addresses with their netmasks.
    pub addresses: Vec<(IpAddr, Option<IpAddr>)>,
    /// `PCAP_IF_LOOPBACK`.
    pub loopback: bool,
}

/// A C string owned by libpcap, copied (empty when null).
fn cstr(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: libpcap's strings are NUL-terminated and live as long as the list they belong to.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// The text libpcap wrote into `errbuf`.
fn errbuf_text(errbuf: &[c_char]) -> String {
    let bytes: Vec<u8> = errbuf.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// An IPv4 or IPv6 `sockaddr`, if it is one.
fn ip_of(sa: *const SockAddr) -> Option<IpAddr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: libpcap's sockaddrs start with the address family, and are as long as that family's structure.
    let family = unsafe { ptr::read_unaligned(sa) }.family;
    match family {
        AF_INET => {
            // SAFETY: the family says this is a sockaddr_in.
            let v4 = unsafe { ptr::read_unaligned(sa.cast::<SockAddrIn>()) };
            Some(IpAddr::V4(Ipv4Addr::from(v4.addr)))
        }
        AF_INET6 => {
            // SAFETY: the family says this is a sockaddr_in6.
            let v6 = unsafe { ptr::read_unaligned(sa.cast::<SockAddrIn6>()) };
            Some(IpAddr::V6(Ipv6Addr::from(v6.addr)))
        }
        _ => None,
    }
}

/// A device's address list, copied.
fn addresses(mut cur: *mut PcapAddr) -> Vec<(IpAddr, Option<IpAddr>)> {
    let mut out = Vec::new();
    while !cur.is_null() {
        // SAFETY: a node of the device list, valid until pcap_freealldevs.
        let a = unsafe { &*cur };
        if let Some(ip) = ip_of(a.addr) {
            out.push((ip, ip_of(a.netmask)));
        }
        cur = a.next;
    }
    out
}

/// Why a device could not be opened.
#[derive(Debug)]
pub struct OpenError {
    /// `pcap_activate`'s code (negative), or 0 when `pcap_create` itself failed.
    pub code: c_int,
    /// libpcap's message.
    pub message: String,
}

/// An open, activated `pcap_t`, closed on drop. Used by one thread at a time (it is `Send`, not `Sync`, and
/// every call takes `&mut self` or goes through the owner's mutex).
pub struct Handle {
    lib: Arc<Wpcap>,
    p: NonNull<PcapT>,
}

// SAFETY: a pcap_t may be moved between threads; libpcap only forbids using one from two threads at once, which
// `&mut self` on every call (and the Mutex around the capture's handle) rules out.
unsafe impl Send for Handle {}

impl Handle {
    /// Opens `device` with `pcap_create` + `pcap_activate`: whole frames, not promiscuous, immediate mode (each
    /// frame delivered as it arrives), reads returning after `timeout_ms` at most.
    pub fn open(lib: Arc<Wpcap>, device: &str, timeout_ms: i32) -> Result<Handle, OpenError> {
        let name =
            CString::new(device).map_err(|_| OpenError { code: 0, message: "device name holds a NUL".into() })?;
        let mut errbuf = [0 as c_char; ERRBUF_SIZE];
        // SAFETY: `name` is NUL-terminated, errbuf has PCAP_ERRBUF_SIZE bytes.
        let raw = unsafe { (lib.create)(name.as_ptr(), errbuf.as_mut_ptr()) };
        let Some(p) = NonNull::new(raw) else {
            return Err(OpenError { code: 0, message: errbuf_text(&errbuf) });
        };
        let h = Handle { lib, p };
        // SAFETY: `h.p` is a created, not yet activated pcap_t; these setters are valid in that state.
        unsafe {
            (h.lib.set_snaplen)(h.p.as_ptr(), 65_535);
            (h.lib.set_promisc)(h.p.as_ptr(), 0);
            (h.lib.set_timeout)(h.p.as_ptr(), timeout_ms);
            (h.lib.set_immediate_mode)(h.p.as_ptr(), 1);
        }
        // SAFETY: as above; activation happens once.
        let code = unsafe { (h.lib.activate)(h.p.as_ptr()) };
        if code < 0 {
            // Dropping `h` closes the handle after its error text is copied.
            return Err(OpenError { code, message: h.error() });
        }
        Ok(h)
    }

    /// libpcap's last error on this handle.
    fn error(&self) -> String {
        // SAFETY: `p` is a live pcap_t; pcap_geterr returns a pointer into it, copied at once.
        let e = unsafe { (self.lib.geterr)(self.p.as_ptr()) };
        cstr(e)
    }

    /// The link type (`DLT_EN10MB` = 1 is Ethernet).
    pub fn datalink(&self) -> i32 {
        // SAFETY: `p` is a live, activated pcap_t.
        unsafe { (self.lib.datalink)(self.p.as_ptr()) }
    }

    /// Puts one whole frame on the wire.
    pub fn send(&mut self, frame: &[u8]) -> Result<(), String> {
        let len = c_int::try_from(frame.len()).map_err(|_| "frame too long".to_string())?;
        // SAFETY: `frame` is valid for `len` bytes, which pcap_sendpacket only reads.
        if unsafe { (self.lib.sendpacket)(self.p.as_ptr(), frame.as_ptr(), len) } != 0 {
            return Err(self.error());
        }
        Ok(())
    }

    /// The next frame, copied; `None` when the read timeout passed first.
    pub fn next(&mut self) -> Result<Option<Vec<u8>>, String> {
        let mut hdr: *mut PktHdr = ptr::null_mut();
        let mut data: *const u8 = ptr::null();
        // SAFETY: both out-pointers are valid for writes; `p` is live and used by this thread only.
        match unsafe { (self.lib.next_ex)(self.p.as_ptr(), &mut hdr, &mut data) } {
            1 if !hdr.is_null() && !data.is_null() => {
                // SAFETY: on 1, hdr and data point into libpcap's buffer, valid until the next call on `p`;
                // data holds caplen bytes. Both are copied before returning.
                let caplen = unsafe { (*hdr).caplen } as usize;
                // SAFETY: as above.
                Ok(Some(unsafe { std::slice::from_raw_parts(data, caplen) }.to_vec()))
            }
            0 | 1 => Ok(None),
            _ => Err(self.error()),
        }
    }

    /// Replaces the driver-side filter with `program` (classic BPF over Ethernet frames, as on Linux).
    pub fn set_filter(&mut self, program: &[Insn]) -> Result<(), String> {
        let mut insns: Vec<BpfInsn> =
            program.iter().map(|i| BpfInsn { code: i.code, jt: i.jt, jf: i.jf, k: i.k }).collect();
        let mut prog = BpfProgram {
            bf_len: c_uint::try_from(insns.len()).map_err(|_| "filter too long".to_string())?,
            bf_insns: insns.as_mut_ptr(),
        };
        // SAFETY: `prog` points at `insns`, alive for the call; pcap_setfilter copies the program (to the driver)
        // and keeps no pointer to it.
        if unsafe { (self.lib.setfilter)(self.p.as_ptr(), &mut prog) } != 0 {
            return Err(self.error());
        }
        Ok(())
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: `p` came from pcap_create, is closed exactly once, and nothing uses it afterwards.
        unsafe { (self.lib.close)(self.p.as_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bpf_insn_matches_the_c_layout() {
        assert_eq!(std::mem::size_of::<BpfInsn>(), 8);
        assert_eq!(std::mem::size_of::<PktHdr>(), 16);
        assert_eq!(std::mem::size_of::<SockAddrIn>(), 16);
        assert_eq!(std::mem::size_of::<SockAddrIn6>(), 28);
    }

    #[test]
    fn errbuf_stops_at_nul() {
        let mut b = [0 as c_char; 8];
        for (d, s) in b.iter_mut().zip(b"ab\0cd".iter()) {
            *d = *s as c_char;
        }
        assert_eq!(errbuf_text(&b), "ab");
    }
}
