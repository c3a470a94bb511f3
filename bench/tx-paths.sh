#!/usr/bin/env bash
# The kernel's send paths on loopback, and whether the host's own TCP stack sees what they send: for each mode of
# bench/tx_paths.c, the rate and how many RSTs the kernel sent back (a SYN to a closed port gets one if it was
# received). Run twice: as the namespace comes (a local source on lo is a martian for AF_PACKET frames), and with
# accept_local and route_localnet set, so AF_PACKET frames are received too. Inside a namespace this script creates
# (unshare -n, lo only): nothing leaves the machine.
# Usage: sudo ./bench/tx-paths.sh        (needs root and gcc)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${TCPCRAFT_IN_BENCH_NS:-}" != 1 ]; then
  exec unshare -n env TCPCRAFT_IN_BENCH_NS=1 "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d /tmp/tcpcraft-txpaths.XXXXXX)
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/tx_paths" bench/tx_paths.c
rsts() { awk '/^Tcp:/{n++; if (n==1) for (i=1;i<=NF;i++) if ($i=="OutRsts") c=i; if (n==2) print $c}' /proc/net/snmp; }
run_all() {
  for m in 2 0 1 3 4; do
    before=$(rsts)
    line=$("$work/tx_paths" "$m")
    echo "  $line   RSTs sent back: $(( $(rsts) - before ))"
  done
}
echo "== as the namespace comes"
run_all
for k in route_localnet accept_local; do sysctl -qw "net.ipv4.conf.lo.$k=1" "net.ipv4.conf.all.$k=1"; done
echo "== with accept_local and route_localnet on lo (AF_PACKET frames received by the host's own stack)"
run_all
timeout -s INT 3 hping3 --flood -S -p 9 127.0.0.1 2>&1 | grep -o '[0-9]* packets transmitted' \
  | awk '{printf "  hping3 --flood: %.0f pps\n", $1 / 3}' || true
