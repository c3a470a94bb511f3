#!/usr/bin/env bash
# Benchmarks against nmap, hping3, nping, Scapy and a bare send loop of our own, all measured in ONE run, inside a
# network namespace this script creates (unshare -n, lo only): nothing leaves the machine. Prints every figure and
# the ratios, for tcpcraft in-process (root) and through a setcap'd tcpcraft-link copy run as nobody, and ends with
# one `RATIOS key=value ...` line (bench/median.sh takes the median of several runs from those lines).
# Usage: sudo ./bench/run-all.sh            (needs root, nmap, hping3, nping, python3-scapy, setcap, setpriv, rustc;
#                                            builds --release into ${CARGO_TARGET_DIR:-target})
#        sudo TCPCRAFT_BENCH_BIN=DIR ./bench/run-all.sh   (use the tcpcraft and tcpcraft-link already built in DIR)
# Not a test: it reports numbers and asserts only that the sweeps classify every port correctly.
# The sweep and send figures run at --rate 1000000, the ceiling every face holds (src/limits.rs MAX_PPS).
set -euo pipefail
cd "$(dirname "$0")/.."
bindir=${TCPCRAFT_BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release}
if [ "${TCPCRAFT_IN_BENCH_NS:-}" != 1 ]; then
  [ -n "${TCPCRAFT_BENCH_BIN:-}" ] || cargo build --release --bin tcpcraft --bin tcpcraft-link >&2
  exec unshare -n env TCPCRAFT_IN_BENCH_NS=1 "$0" "$@"
fi
ip link set lo up
py=/usr/bin/python3
rate=1000000
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
ratio() { echo "$1 / ($2 + 0.000001)" | bc -l; }

work=$(mktemp -d /tmp/tcpcraft-bench.XXXXXX)
chmod 755 "$work"
# The bare loop: std-only Rust, built with plain rustc (not part of the cargo workspace or its tests).
rustc -O --edition 2021 -o "$work/bare_loop" bench/bare_loop.rs
# The helper path as a user sees it: both binaries copied where nobody can run them, the helper with its file
# capabilities, the CLI run as nobody without any (as tests/common/helper.rs installs them).
cp "$bindir/tcpcraft" "$bindir/tcpcraft-link" "$work/"
chmod 755 "$work/tcpcraft" "$work/tcpcraft-link"
setcap cap_net_raw,cap_net_admin+eip "$work/tcpcraft-link"
bin="$work/tcpcraft"
as_nobody() {
  (cd "$work" && TCPCRAFT_LINK="$work/tcpcraft-link" HOME="$work" \
    setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all -- "$@")
}

# Three listeners: 22, 80, 8080 (and 8080 is also the handshake target).
$py - <<'PY' &
import socket, time, threading
ls = []
for p in (22, 80, 8080):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", p)); s.listen(4096); ls.append(s)
def acc(s):
    while True:
        c, _ = s.accept(); c.close()
for s in ls: threading.Thread(target=acc, args=(s,), daemon=True).start()
time.sleep(3600)
PY
listeners=$!
trap 'kill $listeners 2>/dev/null || true; rm -rf "$work"' EXIT
sleep 0.5

# check_sweep FILE LABEL: every port open or closed, and exactly 22, 80 and 8080 open.
check_sweep() {
  local open closed open_ports
  open=$(grep -c '"verdict":"open"' "$1" || true)
  closed=$(grep -c '"verdict":"closed"' "$1" || true)
  open_ports=$(grep '"verdict":"open"' "$1" | sed 's/.*"port":\([0-9]*\).*/\1/' | tr '\n' ' ')
  printf "  %s: open: %s(%s open, %s closed, misclassified: %s)\n" "$2" "$open_ports" "$open" "$closed" $((65535 - open - closed))
  if [ "$open_ports" != "22 80 8080 " ] || [ $((open + closed)) != 65535 ]; then
    echo "*** $2 sweep misclassified ports" >&2
    exit 1
  fi
}

sweep_args=(sweep half-open --target 127.0.0.1 --ports 1-65535 --link raw --rate $rate --yes --retries 1 --wait 200 --json)
echo "== 1. full half-open sweep of 127.0.0.1, 65,535 ports, 3 listeners"
t0=$(now); $bin "${sweep_args[@]}" > "$work/sweep.json"; t1=$(now)
ours=$(secs $t0 $t1)
t0=$(now); as_nobody "$bin" "${sweep_args[@]}" > "$work/sweep-helper.json"; t1=$(now)
ours_helper=$(secs $t0 $t1)
t0=$(now); nmap -n -sS -p- -T5 127.0.0.1 -oG "$work/nmap.gnmap" >/dev/null; t1=$(now)
nmap_s=$(secs $t0 $t1)
nmap_open=$(grep -o '[0-9]*/open' "$work/nmap.gnmap" | tr '\n' ' ')
t0=$(now); timeout 300 hping3 --scan 1-65535 -S 127.0.0.1 >"$work/hping-scan.txt" 2>&1 || true; t1=$(now)
hping_s=$(secs $t0 $t1)
printf "tcpcraft sweep:          %.3f s\n" "$ours"
check_sweep "$work/sweep.json" "in-process"
printf "tcpcraft via helper:     %.3f s\n" "$ours_helper"
check_sweep "$work/sweep-helper.json" "via tcpcraft-link"
printf "nmap -sS -T5:            %.3f s  (open: %s)\n" "$nmap_s" "$nmap_open"
printf "hping3 --scan:           %.3f s\n" "$hping_s"
sweep_nmap=$(ratio "$ours" "$nmap_s")
sweep_nmap_helper=$(ratio "$ours_helper" "$nmap_s")
printf "ratio tcpcraft/nmap: %.2f (helper %.2f)   tcpcraft/hping3: %.2f\n" "$sweep_nmap" "$sweep_nmap_helper" \
  "$(ratio "$ours" "$hping_s")"

echo "== 2. raw send rate of crafted SYNs to closed ports (50,001 ports, whole process)"
n=200000
send_args=(sweep rst-closed-port --target 127.0.0.1 --ports 10000-60000 --link raw --rate $rate --yes --retries 0 --wait 0 --csv)
t0=$(now); $bin "${send_args[@]}" > /dev/null; t1=$(now)
ours_pps=$(echo "50001 / $(secs $t0 $t1)" | bc -l)
t0=$(now); as_nobody "$bin" "${send_args[@]}" > /dev/null; t1=$(now)
helper_pps=$(echo "50001 / $(secs $t0 $t1)" | bc -l)
t0=$(now); "$work/bare_loop" 127.0.0.1 10000 60000 64 > "$work/bare.txt"; t1=$(now)
bare_pps=$(echo "50001 / $(secs $t0 $t1)" | bc -l)
hping_out=$(timeout -s INT 5 hping3 --flood -S -p 9 127.0.0.1 2>&1 | tail -3 || true)
hping_sent=$(echo "$hping_out" | grep -o '[0-9]* packets transmitted' | grep -o '^[0-9]*' || echo 0)
hping_pps=$(echo "$hping_sent / 5" | bc -l)
t0=$(now); nping --tcp -p 9 --flags syn --rate 10000000 -c $n -q 127.0.0.1 >/dev/null 2>&1 || true; t1=$(now)
nping_pps=$(echo "$n / $(secs $t0 $t1)" | bc -l)
printf "tcpcraft: %.0f pps   via helper: %.0f pps   bare loop: %.0f pps (%s)\n" "$ours_pps" "$helper_pps" "$bare_pps" "$(cat "$work/bare.txt")"
printf "hping3 --flood: %.0f pps   nping: %.0f pps\n" "$hping_pps" "$nping_pps"
pps_hping=$(ratio "$ours_pps" "$hping_pps")
pps_hping_helper=$(ratio "$helper_pps" "$hping_pps")
pps_bare=$(ratio "$ours_pps" "$bare_pps")
pps_bare_helper=$(ratio "$helper_pps" "$bare_pps")
printf "ratio tcpcraft/hping3: %.2f (helper %.2f)   tcpcraft/nping: %.2f   tcpcraft/bare loop: %.2f (helper %.2f)\n" \
  "$pps_hping" "$pps_hping_helper" "$(ratio "$ours_pps" "$nping_pps")" "$pps_bare" "$pps_bare_helper"
printf "(the rate ceiling, %s pps, is %.2f of hping3's rate)\n" "$rate" "$(ratio $rate "$hping_pps")"

echo "== 3. crafted handshake (normal-open, accept() confirmed by the listener), median of 100"
rm -f "$work/hs.txt"
for i in $(seq 100); do
  $bin run normal-open --target 127.0.0.1:8080 --link raw --json \
    | $py -c 'import json,sys; v=json.load(sys.stdin); e=[x for x in v["events"] if x["origin"]=="crafted"]; assert v["verdict"]=="pass"; print(e[-1]["t_us"]-e[0]["t_us"])' >> "$work/hs.txt"
done
ours_us=$(sort -n "$work/hs.txt" | sed -n 50p)
scapy_us=$($py - <<'PY'
import time, statistics, random
from scapy.all import conf, IP, TCP, sr1, send, L3RawSocket
conf.L3socket = L3RawSocket
conf.verb = 0
t = []
for i in range(100):
    sport = random.randint(20000, 60000)
    a = time.perf_counter()
    sa = sr1(IP(dst="127.0.0.1")/TCP(sport=sport, dport=8080, flags="S", seq=1000), timeout=2)
    send(IP(dst="127.0.0.1")/TCP(sport=sport, dport=8080, flags="A", seq=1001, ack=sa[TCP].seq + 1))
    t.append((time.perf_counter() - a) * 1e6)
print(int(statistics.median(t)))
PY
)
hs_scapy=$(ratio "$scapy_us" "$ours_us")
printf "tcpcraft median: %s us   Scapy median: %s us   ratio Scapy/tcpcraft: %.1fx\n" "$ours_us" "$scapy_us" "$hs_scapy"
printf "RATIOS sweep_nmap=%.3f sweep_nmap_helper=%.3f pps_hping=%.3f pps_hping_helper=%.3f pps_bare=%.3f pps_bare_helper=%.3f hs_scapy=%.1f sweep_s=%.3f sweep_helper_s=%.3f nmap_s=%.3f pps=%.0f helper_pps=%.0f bare_pps=%.0f hping_pps=%.0f\n" \
  "$sweep_nmap" "$sweep_nmap_helper" "$pps_hping" "$pps_hping_helper" "$pps_bare" "$pps_bare_helper" "$hs_scapy" \
  "$ours" "$ours_helper" "$nmap_s" "$ours_pps" "$helper_pps" "$bare_pps" "$hping_pps"
