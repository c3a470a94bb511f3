#!/usr/bin/env bash
# `tcpcraft import` of a 1,000,000-segment capture: time and peak RSS, checked against a memory budget.
# Usage: ./bench/import-1m.sh [SEGMENTS]     (builds --release; needs python3; no privileges, no network)
# The capture is written by a small struct-only Python writer (raw-IP pcap, IPv4): a handshake, then the client's
# 100-byte PSH-ACKs each acknowledged by the server, with correct checksums. Prints one line per figure and
# fails when the peak RSS is over the budget.
set -euo pipefail
cd "$(dirname "$0")/.."
segments=${1:-1000000}
# The budget: `tcpcraft import` of 1M segments of this shape (about 100 MiB of capture) peaks under 3 GiB.
# Measured 2026-11 (2 cores, release, CLI only): 27 s and 2.7 GB; most of it is the timeline's notes (each holds
# its template values as a map of strings), then the imported segments copied into the timeline.
# `import --json` is reported but not yet held to a budget: it builds every event's JSON value in memory
# (about 10 GB for 1M events).
budget_mb=${TCPCRAFT_IMPORT_BUDGET_MB:-3072}
target=${CARGO_TARGET_DIR:-target}
# The command line only: the desktop app is not needed to import.
cargo build --release --no-default-features --bin tcpcraft >&2
bin=$target/release/tcpcraft
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cap=$dir/import-1m.pcap

python3 - "$cap" "$segments" <<'PY'
import struct, sys
path, n = sys.argv[1], int(sys.argv[2])
cli, srv = bytes([127, 0, 0, 1]), bytes([127, 0, 0, 2])
cport, sport = 40000, 80
payload = b"a" * 100

def csum_words(b):
    if len(b) % 2:
        b += b"\0"
    return sum(struct.unpack("!%dH" % (len(b) // 2), b))

def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s

def seg(src, dst, sp, dp, seq, ack, flags, data):
    tcp_len = 20 + len(data)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + tcp_len, 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", 0xFFFF - fold(csum_words(ip))) + ip[12:]
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0) + data
    pseudo = src + dst + struct.pack("!BBH", 0, 6, tcp_len)
    c = 0xFFFF - fold(csum_words(pseudo) + csum_words(tcp))
    return ip + tcp[:16] + struct.pack("!H", c) + tcp[18:]

SYN, ACK, PSH = 0x02, 0x10, 0x08
with open(path, "wb") as f:
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
    def put(i, d):
        out.extend(struct.pack("<IIII", 1_700_000_000 + i // 1_000_000, i % 1_000_000, len(d), len(d)))
        out.extend(d)
    isn_c, isn_s = 1000, 5000
    put(0, seg(cli, srv, cport, sport, isn_c, 0, SYN, b""))
    put(1, seg(srv, cli, sport, cport, isn_s, isn_c + 1, SYN | ACK, b""))
    put(2, seg(cli, srv, cport, sport, isn_c + 1, isn_s + 1, ACK, b""))
    seq = isn_c + 1
    for i in range(3, n):
        if i % 2:
            put(i, seg(cli, srv, cport, sport, seq & 0xFFFFFFFF, isn_s + 1, PSH | ACK, payload))
            seq += len(payload)
        else:
            put(i, seg(srv, cli, sport, cport, isn_s + 1, seq & 0xFFFFFFFF, ACK, b""))
        if len(out) > 1 << 22:
            f.write(out)
            out.clear()
    f.write(out)
PY
echo "capture: $segments segments, $(( $(stat -c %s "$cap") / 1048576 )) MiB"

# Peak RSS from GNU time where it exists, else from Python's wait4.
measure() {
  if [ -x /usr/bin/time ] && /usr/bin/time -v true 2>/dev/null; then
    /usr/bin/time -v "$@" 2>"$dir/time.txt" >"$dir/out.txt"
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$dir/time.txt" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time.txt")
  else
    read -r secs rss_kb < <(python3 - "$dir/out.txt" "$@" <<'PY'
import os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
t = time.monotonic()
pid = os.fork()
if pid == 0:
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 1)
    os.execv(argv[0], argv)
_, status, ru = os.wait4(pid, 0)
print(f"{time.monotonic() - t:.2f} {ru.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
PY
)
  fi
}

measure "$bin" import "$cap"
head -n 1 "$dir/out.txt"
lines=$(wc -l < "$dir/out.txt")
rss_mb=$(( rss_kb / 1024 ))
echo "import (ladder): ${secs} s, peak RSS ${rss_mb} MB, ${lines} lines of output (budget ${budget_mb} MB)"
status=0
if [ "$rss_mb" -gt "$budget_mb" ]; then
  echo "OVER BUDGET: ladder import took ${rss_mb} MB" >&2
  status=1
fi
if [ "${TCPCRAFT_IMPORT_JSON:-1}" = 1 ]; then
  measure "$bin" import --json "$cap"
  rss_mb=$(( rss_kb / 1024 ))
  echo "import --json: ${secs} s, peak RSS ${rss_mb} MB (no budget yet: every event's JSON is built in memory)"
fi
exit $status
