//! Trace, firewalk and reply evidence through a real router: three namespaces the test makes (client — router —
//! server) on 198.51.100.0/24 and 203.0.113.0/24, the router forwarding with nft rules that drop tcp/8081 and
//! `reject with tcp reset` tcp/8082, kernel listeners on the server's 80, 8081 and 8082 (8083 closed).
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed expectation is the report

mod common;

use std::process::Command;

use common::netns::{self, sh};

/// A namespace held open by a sleeping process (killed on drop).
struct Ns(std::process::Child);

impl Ns {
    fn new() -> Ns {
        Ns(netns::holder())
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn run(&self, cmd: &str) -> String {
        sh(&format!("nsenter -t {} -n sh -c '{}'", self.pid(), cmd.replace('\'', "'\\''")))
    }

    fn spawn(&self, cmd: &str) -> std::process::Child {
        Command::new("nsenter").args(["-t", &self.pid().to_string(), "-n", "sh", "-c", cmd]).spawn().expect("nsenter")
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The client (this namespace) — router — server topology; returns the router and the server.
fn topology() -> (Ns, Ns) {
    let (router, server) = (Ns::new(), Ns::new());
    sh(&format!("ip link add tr-c type veth peer name tr-r1 && ip link set tr-r1 netns {}", router.pid()));
    sh(&format!(
        "nsenter -t {} -n ip link add tr-r2 type veth peer name tr-s && nsenter -t {} -n ip link set tr-s netns {}",
        router.pid(),
        router.pid(),
        server.pid()
    ));
    sh("ip addr add 198.51.100.2/24 dev tr-c && ip link set tr-c up && ip route add 203.0.113.0/24 via 198.51.100.1");
    sh("ip -6 addr add 2001:db8:1::2/64 dev tr-c nodad && ip -6 route add 2001:db8:2::/64 via 2001:db8:1::1");
    router.run(
        "ip link set lo up && ip addr add 198.51.100.1/24 dev tr-r1 && ip link set tr-r1 up && \
         ip addr add 203.0.113.1/24 dev tr-r2 && ip link set tr-r2 up && sysctl -qw net.ipv4.ip_forward=1 && \
         ip -6 addr add 2001:db8:1::1/64 dev tr-r1 nodad && ip -6 addr add 2001:db8:2::1/64 dev tr-r2 nodad && \
         sysctl -qw net.ipv6.conf.all.forwarding=1 && \
         nft add table inet fw && nft add chain inet fw passing { type filter hook forward priority 0 \\; } && \
         nft add rule inet fw passing tcp dport 8081 drop && \
         nft add rule inet fw passing tcp dport 8082 reject with tcp reset",
    );
    server.run(
        "ip link set lo up && ip addr add 203.0.113.2/24 dev tr-s && ip link set tr-s up && \
         ip route add default via 203.0.113.1 && ip -6 addr add 2001:db8:2::2/64 dev tr-s nodad && \
         ip -6 route add default via 2001:db8:2::1",
    );
    (router, server)
}

fn tcpcraft(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft")).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn trace_firewalk_and_forged_resets_through_a_router() {
    if !netns::enter("trace_firewalk_and_forged_resets_through_a_router") {
        return;
    }
    let (_router, server) = topology();
    let mut listeners = server.spawn(
        "exec python3 -c 'import socket,time\nls=[]\nfor p in (80,8081,8082):\n s=socket.socket(); s.bind((\"203.0.113.2\",p)); s.listen(64); ls.append(s)\ntime.sleep(60)'",
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    let v = tcpcraft(&[
        "trace",
        "203.0.113.2",
        "--ports",
        "80,8081,8082,8083",
        "--max-ttl",
        "4",
        "--wait",
        "1500",
        "--link",
        "raw",
        "--json",
    ]);
    let _ = listeners.kill();
    let _ = listeners.wait();
    let hops = v["hops"].as_array().unwrap();
    assert_eq!(hops[0]["addr"], "198.51.100.1", "hop 1 is the router: {v}");
    assert_eq!(hops[0]["icmp"], "time-exceeded");
    // Round trips are the wire's (a veth: well under a millisecond), not the 50 ms the wait is read in.
    for hop in &hops[..2] {
        let rtt = hop["rtt_us"].as_u64().unwrap();
        assert!(rtt < 20_000, "rtt {rtt} us: timed by the drain, not by the capture: {v}");
    }
    assert_eq!((v["result"].as_str(), v["blocked_after"].as_u64()), (Some("open"), None), "{v}");
    let port = |p: u64| v["ports"].as_array().unwrap().iter().find(|x| x["port"] == p).unwrap().clone();
    assert_eq!((port(80)["answered_at"].as_u64(), port(80)["reply_ttl"].as_u64()), (Some(2), Some(63)));
    assert_eq!((port(8081)["result"].as_str(), port(8081)["blocked_after"].as_u64()), (Some("filtered"), Some(1)));
    // The router's reset claims to come from the server, but its TTL gives it away (one hop less travelled).
    assert_eq!((port(8082)["result"].as_str(), port(8082)["reply_ttl"].as_u64()), (Some("closed"), Some(64)));
    assert_eq!((port(8083)["result"].as_str(), port(8083)["reply_ttl"].as_u64()), (Some("closed"), Some(63)));
}

#[test]
fn a_sweep_flags_the_routers_forged_reset_by_its_ttl() {
    if !netns::enter("a_sweep_flags_the_routers_forged_reset_by_its_ttl") {
        return;
    }
    let (_router, server) = topology();
    let mut listeners = server.spawn(
        "exec python3 -c 'import socket,time\ns=socket.socket(); s.bind((\"203.0.113.2\",80)); s.listen(64)\ntime.sleep(60)'",
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args([
            "sweep",
            "half-open",
            "--target",
            "203.0.113.2",
            "--ports",
            "80,8081,8082,8083",
            "--link",
            "raw",
            "--json",
        ])
        .output()
        .unwrap();
    let _ = listeners.kill();
    let _ = listeners.wait();
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("port").is_some())
        .collect();
    let row = |p: u64| rows.iter().find(|r| r["port"] == p).unwrap_or_else(|| panic!("no row for {p}: {rows:?}"));
    assert_eq!((row(80)["verdict"].as_str(), row(80)["reason"].as_str()), (Some("open"), Some("syn-ack ttl 63")));
    assert_eq!(row(8081)["verdict"], "filtered");
    assert_eq!(row(8083)["reason"], "reset ttl 63", "the server's own reset");
    assert_eq!(
        (row(8082)["forged_hops"].as_u64(), row(8082)["host_hops"].as_u64()),
        (Some(1), Some(2)),
        "{:?}",
        row(8082)
    );
    assert!(row(8082)["reason"].as_str().unwrap().contains("1 hop closer than the host"), "{:?}", row(8082));
    assert_eq!(row(80)["reason"], "syn-ack ttl 63");
}

/// A SYN-ACK from the server among a `send --json`'s events.
fn answered(v: &serde_json::Value) -> bool {
    v["events"].as_array().unwrap().iter().any(|e| {
        e["origin"] == "peer"
            && e["flags"].as_array().is_some_and(|f| f.contains(&"SYN".into()) && f.contains(&"ACK".into()))
    })
}

#[test]
fn fragments_and_bad_checksums_through_the_router_and_ipv6_trace() {
    if !netns::enter("fragments_and_bad_checksums_through_the_router_and_ipv6_trace") {
        return;
    }
    let (_router, server) = topology();
    let mut listeners = server.spawn(
        "exec python3 -c 'import socket,time\ns=socket.socket(); s.bind((\"203.0.113.2\",80)); s.listen(64)\n\
         t=socket.socket(socket.AF_INET6); t.bind((\"2001:db8:2::2\",80)); t.listen(64)\ntime.sleep(60)'",
    );
    // tcpdump on the server counts the fragments that arrive.
    let dump_file = std::env::temp_dir().join(format!("tcpcraft-frags-{}.txt", std::process::id()));
    let mut dump = server
        .spawn(&format!("exec tcpdump -l -n -i tr-s 'ip[6:2] & 0x3fff != 0' >{} 2>/dev/null", dump_file.display()));
    std::thread::sleep(std::time::Duration::from_millis(800));
    let send = |extra: &[&str], sport: &str| {
        let mut a =
            vec!["send", "203.0.113.2:80", "--syn", "--sport", sport, "--link", "raw", "--json", "--wait", "800"];
        a.extend_from_slice(extra);
        tcpcraft(&a)
    };
    assert!(answered(&send(&["--fragment", "8"], "42001")), "8-byte fragments reassembled by the server");
    assert!(answered(&send(&["--fragment", "8", "--frag-order", "reverse"], "42002")), "reversed, too");
    // What this kernel does with an overlapping duplicate: it drops the whole datagram (recorded here).
    assert!(!answered(&send(&["--fragment", "8", "--frag-overlap", "1"], "42003")), "overlap is dropped");
    // A bad TCP checksum: the server's stack drops the SYN, and the router does not answer for it either.
    let bad = send(&["--tcp-sum", "bad"], "42004");
    assert!(!answered(&bad) && bad.get("answered_by_path").is_none(), "{bad}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let _ = dump.kill();
    let _ = dump.wait();
    let seen = std::fs::read_to_string(&dump_file).unwrap_or_default();
    let _ = std::fs::remove_file(&dump_file);
    assert!(seen.lines().count() >= 3, "tcpdump on the server saw the fragments:\n{seen}");
    // IPv6: the router is hop 1 (ICMPv6 time exceeded), the server answers at hop 2.
    let v6 = tcpcraft(&["trace", "[2001:db8:2::2]:80", "--max-ttl", "4", "--wait", "1500", "--link", "raw", "--json"]);
    assert_eq!(v6["hops"][0]["addr"], "2001:db8:1::1", "{v6}");
    assert_eq!((v6["result"].as_str(), v6["ports"][0]["answered_at"].as_u64()), (Some("open"), Some(2)), "{v6}");
    // IPv6 fragments (Fragment extension headers). Linux drops a first fragment that does not hold the whole TCP
    // header (RFC 8200 §4.5), so the first piece is 24 bytes and a payload makes a second.
    let v6_frag = tcpcraft(&[
        "send",
        "[2001:db8:2::2]:80",
        "-6",
        "--syn",
        "--sport",
        "42005",
        "--link",
        "raw",
        "--json",
        "--wait",
        "800",
        "--text",
        "fragmented over IPv6",
        "--fragment",
        "24",
    ]);
    assert!(answered(&v6_frag), "IPv6 fragments reassembled by the server: {v6_frag}");
    let _ = listeners.kill();
    let _ = listeners.wait();
}
