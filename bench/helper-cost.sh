#!/usr/bin/env bash
# What a tcpcraft-link session costs (spawn + hello, open, watch = the port claim, close) and the helper's CPU
# while hping3 floods another port at ~100k pps, for one or two helper binaries in the same run, inside a network
# namespace this script creates (unshare -n, lo only). Needs root, setcap, setpriv, hping3.
#   sudo ./bench/helper-cost.sh                                  # this tree's debug helper
#   sudo ./bench/helper-cost.sh before=/path/to/old/tcpcraft-link after=target/debug/tcpcraft-link
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${TCPCRAFT_IN_BENCH_NS:-}" != 1 ]; then
  command -v hping3 >/dev/null || { apt-get install -y -qq hping3 >/dev/null 2>&1 || echo "note: no hping3, no flood figure" >&2; }
  [ $# -gt 0 ] || { cargo build --bin tcpcraft-link >&2; set -- "now=target/debug/tcpcraft-link"; }
  exec unshare -n env TCPCRAFT_IN_BENCH_NS=1 "$0" "$@"
fi
ip link set lo up
exec python3 bench/helper_cost.py "$@"
