//! The bare loop: what this machine's kernel takes from one process crafting SYNs to closed loopback ports through
//! one IPPROTO_RAW socket with `sendmmsg` batches, with no capture, no pacing and no matching. `bench/run-all.sh`
//! builds it with plain `rustc -O` (std only, no crate, not part of the cargo workspace) and prints tcpcraft's rate
//! as a share of this one.
//!
//! Usage: bare_loop DST_IPV4 FIRST_PORT LAST_PORT [BATCH]   (needs CAP_NET_RAW; run it inside a namespace)
//! Prints the probes sent and the rate over the send loop alone, as `sent N in S s: R pps`.

use std::net::Ipv4Addr;
use std::time::Instant;

#[repr(C)]
struct SockaddrIn {
    family: u16,
    port: u16,
    addr: [u8; 4],
    zero: [u8; 8],
}

#[repr(C)]
struct Iovec {
    base: *const u8,
    len: usize,
}

#[repr(C)]
struct Msghdr {
    name: *const SockaddrIn,
    namelen: u32,
    iov: *const Iovec,
    iovlen: usize,
    control: *const u8,
    controllen: usize,
    flags: i32,
}

#[repr(C)]
struct Mmsghdr {
    hdr: Msghdr,
    len: u32,
}

extern "C" {
    fn socket(domain: i32, ty: i32, protocol: i32) -> i32;
    fn sendmmsg(fd: i32, msgs: *mut Mmsghdr, n: u32, flags: i32) -> i32;
}

const AF_INET: i32 = 2;
const SOCK_RAW: i32 = 3;
const IPPROTO_RAW: i32 = 255;

/// The ones'-complement sum of `data` folded to 16 bits (not inverted).
fn sum(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = chunks.remainder() {
        acc += u32::from(*b) << 8;
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc
}

/// A 40-byte IPv4 SYN from `src:sport` to `dst:dport` with sequence number `seq`, checksums filled.
fn syn(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, seq: u32, out: &mut [u8; 40]) {
    *out = [0; 40];
    out[0] = 0x45;
    out[2..4].copy_from_slice(&40u16.to_be_bytes());
    out[8] = 64;
    out[9] = 6;
    out[12..16].copy_from_slice(&src.octets());
    out[16..20].copy_from_slice(&dst.octets());
    let ip = !(sum(0, &out[..20]) as u16);
    out[10..12].copy_from_slice(&ip.to_be_bytes());
    let t = &mut out[20..];
    t[0..2].copy_from_slice(&sport.to_be_bytes());
    t[2..4].copy_from_slice(&dport.to_be_bytes());
    t[4..8].copy_from_slice(&seq.to_be_bytes());
    t[12] = 5 << 4;
    t[13] = 0x02;
    t[14..16].copy_from_slice(&64240u16.to_be_bytes());
    let mut pseudo = [0u8; 12];
    pseudo[..4].copy_from_slice(&src.octets());
    pseudo[4..8].copy_from_slice(&dst.octets());
    pseudo[9] = 6;
    pseudo[10..12].copy_from_slice(&20u16.to_be_bytes());
    let tcp = !(sum(sum(0, &pseudo), t) as u16);
    t[16..18].copy_from_slice(&tcp.to_be_bytes());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: bare_loop DST_IPV4 FIRST_PORT LAST_PORT [BATCH]";
    let (Some(dst), Some(first), Some(last)) = (
        args.get(1).and_then(|a| a.parse::<Ipv4Addr>().ok()),
        args.get(2).and_then(|a| a.parse::<u16>().ok()),
        args.get(3).and_then(|a| a.parse::<u16>().ok()),
    ) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let batch: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(64).clamp(1, 1024);
    // SAFETY: a plain system call with constant arguments.
    let fd = unsafe { socket(AF_INET, SOCK_RAW, IPPROTO_RAW) };
    if fd < 0 {
        eprintln!("bare_loop: socket: {}", std::io::Error::last_os_error());
        std::process::exit(1);
    }
    let to = SockaddrIn { family: AF_INET as u16, port: 0, addr: dst.octets(), zero: [0; 8] };
    let mut bufs = vec![[0u8; 40]; batch];
    let ports: Vec<u16> = (first..=last).collect();
    let started = Instant::now();
    let mut sent = 0usize;
    for chunk in ports.chunks(batch) {
        for (buf, &p) in bufs.iter_mut().zip(chunk) {
            syn(dst, dst, 40_000, p, u32::from(p).wrapping_mul(2_654_435_761), buf);
        }
        let iovs: Vec<Iovec> = bufs[..chunk.len()].iter().map(|b| Iovec { base: b.as_ptr(), len: 40 }).collect();
        let mut msgs: Vec<Mmsghdr> = iovs
            .iter()
            .map(|iov| Mmsghdr {
                hdr: Msghdr {
                    name: &to,
                    namelen: std::mem::size_of::<SockaddrIn>() as u32,
                    iov,
                    iovlen: 1,
                    control: std::ptr::null(),
                    controllen: 0,
                    flags: 0,
                },
                len: 0,
            })
            .collect();
        let mut done = 0;
        while done < msgs.len() {
            let rest = &mut msgs[done..];
            // SAFETY: `rest` holds initialised headers whose buffers, iovecs and address outlive the call.
            let n = unsafe { sendmmsg(fd, rest.as_mut_ptr(), rest.len() as u32, 0) };
            if n < 0 {
                eprintln!("bare_loop: sendmmsg: {}", std::io::Error::last_os_error());
                std::process::exit(1);
            }
            done += n as usize;
        }
        sent += chunk.len();
    }
    let secs = started.elapsed().as_secs_f64();
    println!("sent {sent} in {secs:.4} s: {:.0} pps", sent as f64 / secs);
}
