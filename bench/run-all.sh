#!/usr/bin/env bash
# Benchmarks against nmap, hping3, nping and Scapy, all measured in ONE run, inside a network namespace this
# script creates (unshare -n, lo only): nothing leaves the machine. Prints every figure and the ratios.
# Usage: sudo ./bench/run-all.sh            (needs root, nmap, hping3, nping, python3-scapy; builds --release)
# Not a test: it reports numbers and asserts only correctness of the sweep.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${TCPCRAFT_IN_BENCH_NS:-}" != 1 ]; then
  cargo build --release --bin tcpcraft >&2
  exec unshare -n env TCPCRAFT_IN_BENCH_NS=1 "$0" "$@"
fi
ip link set lo up
bin=target/release/tcpcraft
py=/usr/bin/python3
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }

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
trap 'kill $listeners 2>/dev/null || true' EXIT
sleep 0.5

echo "== 1. full half-open sweep of 127.0.0.1, 65,535 ports, 3 listeners"
t0=$(now); $bin sweep half-open --target 127.0.0.1 --ports 1-65535 --link raw --rate 1000000 --yes --retries 1 --wait 200 --json > /tmp/tc-sweep.json; t1=$(now)
ours=$(secs $t0 $t1)
open=$(grep -c '"verdict":"open"' /tmp/tc-sweep.json || true)
closed=$(grep -c '"verdict":"closed"' /tmp/tc-sweep.json || true)
open_ports=$(grep '"verdict":"open"' /tmp/tc-sweep.json | sed 's/.*"port":\([0-9]*\).*/\1/' | tr '\n' ' ')
t0=$(now); nmap -n -sS -p- -T5 127.0.0.1 -oG /tmp/nmap.gnmap >/dev/null; t1=$(now)
nmap_s=$(secs $t0 $t1)
nmap_open=$(grep -o '[0-9]*/open' /tmp/nmap.gnmap | tr '\n' ' ')
t0=$(now); timeout 300 hping3 --scan 1-65535 -S 127.0.0.1 >/tmp/hping-scan.txt 2>&1 || true; t1=$(now)
hping_s=$(secs $t0 $t1)
printf "tcpcraft sweep: %.3f s  (open: %s; %s open, %s closed, misclassified: %s)\n" "$ours" "$open_ports" "$open" "$closed" $((65535 - open - closed))
printf "nmap -sS -T5:   %.3f s  (open: %s)\n" "$nmap_s" "$nmap_open"
printf "hping3 --scan:  %.3f s\n" "$hping_s"
printf "ratio tcpcraft/nmap: %.2f   tcpcraft/hping3: %.2f\n" "$(echo "$ours / $nmap_s" | bc -l)" "$(echo "$ours / $hping_s" | bc -l)"

echo "== 2. raw send rate of crafted SYNs to closed ports"
n=200000
t0=$(now); $bin sweep rst-closed-port --target 127.0.0.1 --ports 10000-60000 --link raw --rate 100000000 --yes --retries 0 --wait 0 --csv > /dev/null; t1=$(now)
ours_pps=$(echo "50001 / $(secs $t0 $t1)" | bc -l)
hping_out=$(timeout -s INT 5 hping3 --flood -S -p 9 127.0.0.1 2>&1 | tail -3 || true)
hping_sent=$(echo "$hping_out" | grep -o '[0-9]* packets transmitted' | grep -o '^[0-9]*' || echo 0)
hping_pps=$(echo "$hping_sent / 5" | bc -l)
t0=$(now); nping --tcp -p 9 --flags syn --rate 10000000 -c $n -q 127.0.0.1 >/dev/null 2>&1 || true; t1=$(now)
nping_pps=$(echo "$n / $(secs $t0 $t1)" | bc -l)
printf "tcpcraft: %.0f pps   hping3 --flood: %.0f pps   nping: %.0f pps\n" "$ours_pps" "$hping_pps" "$nping_pps"
printf "ratio tcpcraft/hping3: %.2f   tcpcraft/nping: %.2f\n" "$(echo "$ours_pps / ($hping_pps + 0.001)" | bc -l)" "$(echo "$ours_pps / $nping_pps" | bc -l)"

echo "== 3. crafted handshake (normal-open, accept() confirmed by the listener), median of 100"
rm -f /tmp/tc-hs.txt
for i in $(seq 100); do
  $bin run normal-open --target 127.0.0.1:8080 --link raw --json \
    | $py -c 'import json,sys; v=json.load(sys.stdin); e=[x for x in v["events"] if x["origin"]=="crafted"]; assert v["verdict"]=="pass"; print(e[-1]["t_us"]-e[0]["t_us"])' >> /tmp/tc-hs.txt
done
ours_us=$(sort -n /tmp/tc-hs.txt | sed -n 50p)
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
printf "tcpcraft median: %s us   Scapy median: %s us   ratio Scapy/tcpcraft: %.1fx\n" "$ours_us" "$scapy_us" "$(echo "$scapy_us / $ours_us" | bc -l)"
