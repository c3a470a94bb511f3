#!/usr/bin/env bash
# Launches the real app under Xvfb, runs a preset on the simulated link, and writes a PNG of the screen.
# Usage: ./scripts/screenshot.sh [PRESET] [OUT.png]     (needs xvfb, imagemagick, libgl1-mesa-dri)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-normal-open}
out=${2:-assets/screenshot.png}
bin=${TCPCRAFT_BIN:-target/debug/tcpcraft}
[ -x "$bin" ] || cargo build
display=:$((90 + RANDOM % 9))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $app $xvfb 2>/dev/null || true' EXIT
sleep 1
# A fresh config dir, so the picture does not depend on this machine's saved state.
export XDG_CONFIG_HOME=$(mktemp -d) XDG_DATA_HOME=$(mktemp -d)
DISPLAY=$display LIBGL_ALWAYS_SOFTWARE=1 "$bin" gui --run "$preset" &
app=$!
sleep "${WAIT:-6}"
kill -0 "$app" || { echo "the app exited early" >&2; exit 1; }
DISPLAY=$display import -window root "$out"
echo "wrote $out"
