#!/usr/bin/env bash
# Windows, for real, on Linux: cross-builds tcpcraft for x86_64-pc-windows-gnu and, under Wine, checks what can be
# checked without Windows. Installs what it needs (Debian/Ubuntu; CI runs it as root after the Linux tests).
#   1. the .exe files: no Npcap import (wpcap.dll is loaded at run time), tcpcraft.exe is a GUI-subsystem exe;
#   2. the command line: `run normal-open`, every lab's reference solution, a sweep of the simulated host, and raw
#      mode without Npcap naming Npcap;
#   3. the window: tcpcraft.exe with no arguments under Xvfb, screenshot checked for content;
#   4. the installer: packaging/windows/tcpcraft.nsi built with makensis, installed silently, first run, uninstall;
#   5. the library's unit tests that need no raw sockets (wire, preset, exchange, i18n, pcap).
# Not tested here: raw sending and capture through Npcap (there is no Npcap under Wine).
# Artifacts (screenshot, installer, logs) go to target/windows-check/.
# Usage: ./scripts/windows-check.sh        (CARGO_TARGET_DIR is honoured; WINDOWS_CHECK_SKIP=unit,installer,window
#        skips parts when iterating locally; CI skips nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)
T=x86_64-pc-windows-gnu
OUT=target/windows-check
SKIP=",${WINDOWS_CHECK_SKIP:-},"
if [ "${CI:-}" = true ] && [ "$SKIP" != ",," ]; then
  echo "!!! CI=true: WINDOWS_CHECK_SKIP is not allowed" >&2
  exit 1
fi
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
declare -a TIMES=()
phase_start=$START
# Records how long the phase that just ended took.
phase() {
  local now
  now=$(date +%s)
  TIMES+=("$(printf '%-34s %4ss' "$1" $((now - phase_start)))")
  phase_start=$now
}
die() {
  echo "!!! windows-check: $*" >&2
  exit 1
}
# Free space, in MiB, on the file system holding a path (0 when df cannot tell).
free_mib() { df -P -BM "$1" 2>/dev/null | awk 'NR == 2 {sub("M", "", $4); print $4 + 0}' || echo 0; }
# As free_mib, in GiB with one decimal, for messages.
free_gib() { awk -v m="$(free_mib "$1")" 'BEGIN {printf "%.1f", m / 1024}'; }
# The cross-build, the Wine prefix and the installer need room; a full disk makes Wine exit 1 with no output at
# all (its writes fail before it can say why), so say it plainly first.
NEED_MIB=6144
for d in . /tmp; do
  got=$(free_mib "$d")
  [ "${got:-0}" -ge "$NEED_MIB" ] || die "only $(free_gib "$d") GiB free for $d; the Windows check needs $((NEED_MIB / 1024)) GiB"
done

# --- system packages and the Rust target --------------------------------------------------------------------
# gcc-mingw-w64-x86-64: the linker (and objdump) for the target, and the compiler of the test-only Wine shim.
# wine64, wine: runs the .exe files. nsis: makensis. xvfb, xdotool, imagemagick: the window check and the
# installer's icon. libgl1-mesa-dri: OpenGL (llvmpipe) for the window under Xvfb. python3: reads cargo's JSON.
PACKAGES=(gcc-mingw-w64-x86-64 wine64 wine nsis xvfb xdotool imagemagick libgl1-mesa-dri python3)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
    die "missing packages ${missing[*]} and no root or sudo to install them"
  fi
  echo "== installing ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
rustup target list --installed | grep -qx "$T" || rustup target add "$T"
# Debian's wine64 package puts the 64-bit loader outside PATH; `wine` alone wants wine32 for some helpers.
WINE=$(command -v wine64 || true)
[ -n "$WINE" ] || { [ -x /usr/lib/wine/wine64 ] && WINE=/usr/lib/wine/wine64; } || WINE=$(command -v wine)
WINESERVER=$(command -v wineserver || echo /usr/lib/wine/wineserver64)
echo "== $("$WINE" --version) ($WINE)"
phase "packages and target"

# --- cross-build (debug: enough for Wine; the installer packs the same binaries, see below) -------------------
# Prints the executables cargo built, one per line, from its JSON messages (no globbing of hashed names).
executables() {
  python3 -c '
import json, sys
for line in sys.stdin:
    if not line.startswith("{"):
        continue
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["target"]["name"], "test" if m["profile"]["test"] else "bin", m["executable"])
'
}
echo "== cargo build --target $T --bins (debug)"
cargo build --locked --target "$T" --bins --message-format=json-render-diagnostics >"$OUT/build.json"
APP_EXE=$(executables <"$OUT/build.json" | awk '$1 == "tcpcraft" && $2 == "bin" {print $3}')
LINK_EXE=$(executables <"$OUT/build.json" | awk '$1 == "tcpcraft-link" && $2 == "bin" {print $3}')
{ [ -f "$APP_EXE" ] && [ -f "$LINK_EXE" ]; } || die "cargo did not report tcpcraft.exe and tcpcraft-link.exe"
ls -l "$APP_EXE" "$LINK_EXE"
phase "cross-build (debug bins)"

# --- 1. imports and subsystem ---------------------------------------------------------------------------------
for exe in "$APP_EXE" "$LINK_EXE"; do
  name=$(basename "$exe")
  imports=$(x86_64-w64-mingw32-objdump -p "$exe" | sed -n 's/^[[:space:]]*DLL Name: //p')
  echo "== $name imports: $(sort -uf <<<"$imports" | tr '\n' ' ')"
  if grep -qiE '^(packet|wpcap)\.dll$' <<<"$imports"; then
    echo "$imports" >&2
    die "$name imports Npcap's DLLs at load time: it would not start on a machine without Npcap"
  fi
done
subsystem=$(x86_64-w64-mingw32-objdump -p "$APP_EXE" | awk '$1 == "Subsystem" {print $2}')
if [ "$subsystem" != 00000002 ]; then
  x86_64-w64-mingw32-objdump -p "$APP_EXE" | grep -E 'Subsystem|DLL Name' >&2
  die "tcpcraft.exe has subsystem $subsystem, not 2 (Windows GUI): a double-click would open a console window"
fi
echo "== tcpcraft.exe: subsystem 2 (Windows GUI)"
phase "imports and subsystem"

# --- Wine: a fresh prefix, and the ProcessPrng shim when Wine lacks it -----------------------------------------
export WINEPREFIX WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" # no Mono/Gecko download prompts
WINEPREFIX=$(mktemp -d /tmp/tcpcraft-wine.XXXXXX)
XVFB_PID=
cleanup() {
  # Only what this script started: the prefix's wineserver (and its processes), our Xvfb, the temp prefix.
  WINEPREFIX=$WINEPREFIX "$WINESERVER" -k 2>/dev/null || true
  if [ -n "$XVFB_PID" ]; then kill "$XVFB_PID" 2>/dev/null || true; fi
  rm -rf "$WINEPREFIX"
}
trap cleanup EXIT
unset DISPLAY # headless unless a step sets it
timeout 300 "$WINE" wineboot --init >/dev/null 2>&1 || die "wineboot failed in $WINEPREFIX"
"$WINESERVER" -w
SYS32=$WINEPREFIX/drive_c/windows/system32
# Rust's std imports ProcessPrng from bcryptprimitives.dll (Windows 10+ has it). Wine 8 has no such DLL: then a
# test-only shim (tests/wine/bcryptprimitives.c) goes into this throwaway prefix's system32, standing in for the
# missing OS part. It is never shipped: the installer packs the cargo-built .exe files only.
wine_dll=$(find /usr/lib/x86_64-linux-gnu/wine /usr/lib/wine /opt/wine* -name bcryptprimitives.dll -path '*x86_64-windows*' 2>/dev/null | head -n 1 || true)
if [ -n "$wine_dll" ] && x86_64-w64-mingw32-objdump -p "$wine_dll" | grep -q '\] ProcessPrng$'; then
  echo "== Wine has ProcessPrng ($wine_dll): no shim"
else
  echo "== Wine lacks ProcessPrng: test-only shim tests/wine/bcryptprimitives.c into the prefix's system32"
  x86_64-w64-mingw32-gcc -shared -O2 -Wall -Werror -o "$SYS32/bcryptprimitives.dll" \
    tests/wine/bcryptprimitives.c tests/wine/bcryptprimitives.def -ladvapi32
fi
phase "wine prefix and shim"

# Runs a Windows program under Wine with a time limit; stdout+stderr to $OUT/NAME.log, returns its exit code.
wrun() {
  local name=$1
  shift
  local rc=0
  timeout 300 "$WINE" "$@" >"$OUT/$name.log" 2>&1 || rc=$?
  tr -d '\r' <"$OUT/$name.log" >"$OUT/$name.log.tmp" && mv "$OUT/$name.log.tmp" "$OUT/$name.log"
  return "$rc"
}
# Fails with the log when a run's exit code or output is not what was expected.
expect() {
  local name=$1 want_rc=$2 got_rc=$3 needle=$4
  if [ "$got_rc" != "$want_rc" ] || ! grep -qF -- "$needle" "$OUT/$name.log"; then
    sed 's/^/    /' "$OUT/$name.log" >&2
    if [ ! -s "$OUT/$name.log" ]; then
      echo "    (no output at all; Wine fails so when it cannot write. Free: $(free_gib .) GiB here, $(free_gib /tmp) GiB in /tmp)" >&2
    fi
    die "$name: exit code $got_rc (want $want_rc), output must contain '$needle'"
  fi
  echo "   ok  $name (exit $got_rc, '$needle')"
}

# --- 2. the command line under Wine ---------------------------------------------------------------------------
echo "== command line under Wine"
rc=0 && wrun version "$APP_EXE" --version || rc=$?
expect version 0 "$rc" "tcpcraft "
rc=0 && wrun run-normal-open "$APP_EXE" run normal-open || rc=$?
expect run-normal-open 0 "$rc" "verdict: PASS"
labs=0
for lab in presets/labs/*.ron; do
  name=lab-$(basename "$lab" .ron)
  rc=0 && wrun "$name" "$APP_EXE" lab check "$lab" --solution --json --seed 1 || rc=$?
  expect "$name" 0 "$rc" '"pass":true'
  labs=$((labs + 1))
done
[ "$labs" -gt 0 ] || die "no labs found in presets/labs"
# The simulated host (192.0.2.10) listens on 22, 80, 443 and 8080; every other port answers with a RST.
rc=0 && wrun sweep "$APP_EXE" sweep half-open --target 192.0.2.10 --ports 1-1024,8080 --link sim --csv --seed 1 || rc=$?
expect sweep 0 "$rc" "192.0.2.10,8080,open"
open=$(grep -c ',open' "$OUT/sweep.log" || true)
closed=$(grep -c ',closed' "$OUT/sweep.log" || true)
{ [ "$open" = 4 ] && [ "$closed" = 1021 ]; } || die "sweep: $open open (want 4), $closed closed (want 1021); see $OUT/sweep.log"
echo "   ok  sweep: 1025 ports, $open open, $closed closed"
# Raw mode without Npcap: refused, naming Npcap and how to get it.
rc=0 && wrun raw-without-npcap "$APP_EXE" run normal-open --link raw --target 192.0.2.10:80 || rc=$?
[ "$rc" != 0 ] || die "raw mode without Npcap exited 0: $(cat "$OUT/raw-without-npcap.log")"
expect raw-without-npcap "$rc" "$rc" "Npcap"
grep -qF "npcap.com" "$OUT/raw-without-npcap.log" || die "raw mode without Npcap does not say where to get it"
echo "   ok  raw mode without Npcap: exit $rc, says: $(grep -m1 -F Npcap "$OUT/raw-without-npcap.log")"
phase "command line, $labs labs, sweep, raw"

# --- 3. the window --------------------------------------------------------------------------------------------
if [[ $SKIP != *,window,* ]]; then
  echo "== the window under Xvfb"
  for n in $(seq 90 120); do [ -e "/tmp/.X$n-lock" ] || break; done
  export DISPLAY=:$n
  Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp >"$OUT/xvfb.log" 2>&1 &
  XVFB_PID=$!
  for _ in $(seq 50); do xdotool getmouselocation >/dev/null 2>&1 && break; sleep 0.2; done
  import -window root "$OUT/blank.png"
  blank_colours=$(identify -format '%k' "$OUT/blank.png")
  # A wineserver still up from the headless runs above keeps its desktop on Wine's null display driver, and the
  # window would never reach X: end that session first, so the app starts one on this display.
  "$WINESERVER" -k 2>/dev/null || true
  "$WINESERVER" -w 2>/dev/null || true
  # No arguments: what a double-click does.
  "$WINE" "$APP_EXE" >"$OUT/window.log" 2>&1 &
  app_pid=$!
  found=
  for _ in $(seq 360); do
    found=$(xdotool search --onlyvisible --name tcpcraft 2>/dev/null | head -n 1 || true)
    [ -n "$found" ] && break
    kill -0 "$app_pid" 2>/dev/null || break
    sleep 0.5
  done
  if [ -z "$found" ]; then
    cat "$OUT/window.log" >&2
    kill -0 "$app_pid" 2>/dev/null && die "no visible window named tcpcraft within 180 s (the app is still running)"
    rc=0 && wait "$app_pid" || rc=$?
    die "the app exited with code $rc before showing a window named tcpcraft"
  fi
  echo "   window $found: '$(xdotool getwindowname "$found")', geometry $(xdotool getwindowgeometry "$found" | sed -n 's/.*Geometry: //p')"
  sleep "${WINDOW_SETTLE:-5}" # the first frames (fonts, GL context) before the picture
  kill -0 "$app_pid" 2>/dev/null || { cat "$OUT/window.log" >&2; die "the app exited after opening its window"; }
  import -window root "$OUT/window.png"
  colours=$(identify -format '%k' "$OUT/window.png")
  stddev=$(identify -format '%[fx:standard_deviation]' "$OUT/window.png")
  echo "   screenshot $OUT/window.png: $colours colours (blank screen: $blank_colours), std dev $stddev"
  [ "$colours" -ge 64 ] || die "the screenshot has $colours colours: the window drew (almost) nothing"
  python3 -c "import sys; sys.exit(0 if float('$stddev') > 0.02 else 1)" || die "the screenshot is nearly uniform"
  "$WINESERVER" -k 2>/dev/null || true
  wait "$app_pid" 2>/dev/null || true
  phase "window under Xvfb" # Xvfb stays up for the installer's Npcap notice
fi

# --- 4. the installer -----------------------------------------------------------------------------------------
# Built from the debug binaries tested above (scripts/package-windows.sh --profile dev): a release cross-build
# would add minutes of CI time, and what is tested here (the installer's files, shortcut, registry entry, Npcap
# notice in silent mode, uninstall, and that the installed app runs) does not depend on the profile. The
# release installer is `./scripts/package-windows.sh`, the same script and .nsi with the release .exe files.
if [[ $SKIP != *,installer,* ]]; then
  echo "== installer"
  SETUP=$(./scripts/package-windows.sh --profile dev --out "$OUT" 2>"$OUT/package-windows.log") ||
    { cat "$OUT/package-windows.log" >&2; die "scripts/package-windows.sh failed"; }
  echo "   built $SETUP ($(du -h "$SETUP" | cut -f1))"
  rc=0 && wrun install "$SETUP" /S || rc=$?
  [ "$rc" = 0 ] || die "the silent install exited $rc: $(cat "$OUT/install.log")"
  "$WINESERVER" -w
  user_dir=$(find "$WINEPREFIX/drive_c/users" -mindepth 1 -maxdepth 1 -type d ! -name Public | head -n 1)
  inst=$user_dir/AppData/Local/Programs/tcpcraft
  for f in tcpcraft.exe tcpcraft-link.exe uninstall.exe; do
    [ -f "$inst/$f" ] || die "installed file missing: $inst/$f"
  done
  installed=$(find "$inst" -mindepth 1 -printf '%P\n' | sort)
  extra=$(grep -vxE 'tcpcraft\.exe|tcpcraft-link\.exe|uninstall\.exe' <<<"$installed" || true)
  [ -z "$extra" ] || die "the install folder holds unexpected files: $extra"
  lnk="$user_dir/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/tcpcraft.lnk"
  [ -f "$lnk" ] || die "no Start-menu shortcut at $lnk"
  reg=$("$WINE" reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\tcpcraft' /v UninstallString 2>/dev/null | tr -d '\r' || true)
  grep -qi 'uninstall.exe' <<<"$reg" || die "no uninstall entry in the registry: $reg"
  echo "   ok  installed into ${inst#"$WINEPREFIX/"}: $(tr '\n' ' ' <<<"$installed")+ Start-menu shortcut + uninstall entry"
  rc=0 && wrun installed-run-normal-open "$inst/tcpcraft.exe" run normal-open || rc=$?
  expect installed-run-normal-open 0 "$rc" "verdict: PASS"
  # _?= keeps the uninstaller in place and makes Wine wait for it.
  rc=0 && wrun uninstall "$inst/uninstall.exe" /S "_?=C:\\users\\$(basename "$user_dir")\\AppData\\Local\\Programs\\tcpcraft" || rc=$?
  [ "$rc" = 0 ] || die "the silent uninstall exited $rc"
  { [ ! -e "$inst/tcpcraft.exe" ] && [ ! -e "$inst/tcpcraft-link.exe" ] && [ ! -e "$lnk" ]; } ||
    die "the uninstaller left tcpcraft.exe, tcpcraft-link.exe or the shortcut behind"
  echo "   ok  uninstalled silently: the programs and the shortcut are gone"
  # The Npcap notice, interactive (this prefix has no Npcap): Return on Welcome and on the folder page starts the
  # install, and the notice is a new window named "tcpcraft Setup" that appears while installing.
  if [ -n "$XVFB_PID" ]; then
    "$WINE" "$SETUP" >"$OUT/install-interactive.log" 2>&1 &
    setup_pid=$!
    before=
    for _ in $(seq 60); do
      before=$(xdotool search --onlyvisible --name '^tcpcraft Setup' 2>/dev/null || true)
      [ -n "$before" ] && break
      sleep 0.5
    done
    [ -n "$before" ] || die "the interactive installer showed no window within 30 s"
    xdotool key Return
    sleep 2
    before=$(xdotool search --name '^tcpcraft Setup' 2>/dev/null || true)
    xdotool key Return
    notice=
    for _ in $(seq 240); do
      notice=$(xdotool search --onlyvisible --name '^tcpcraft Setup' 2>/dev/null | grep -vxF "$before" | head -n 1 || true)
      [ -n "$notice" ] && break
      sleep 0.5
    done
    import -window root "$OUT/installer-npcap-notice.png"
    [ -n "$notice" ] || die "no Npcap notice within 120 s of starting an interactive install without Npcap (see $OUT/installer-npcap-notice.png)"
    echo "   ok  interactive install without Npcap shows the Npcap notice ($OUT/installer-npcap-notice.png)"
    "$WINESERVER" -k 2>/dev/null || true
    wait "$setup_pid" 2>/dev/null || true
  fi
  phase "installer build, install, run, uninstall"
fi
if [ -n "$XVFB_PID" ]; then
  kill "$XVFB_PID" 2>/dev/null || true
  wait "$XVFB_PID" 2>/dev/null || true
  XVFB_PID=
fi
unset DISPLAY

# --- 5. unit tests under Wine ---------------------------------------------------------------------------------
if [[ $SKIP != *,unit,* ]]; then
  echo "== cargo test --lib --no-run --target $T, then the no-raw-socket modules under Wine"
  cargo test --locked --lib --no-run --target "$T" --message-format=json-render-diagnostics >"$OUT/test-build.json"
  TEST_EXE=$(executables <"$OUT/test-build.json" | awk '$1 == "tcpcraft" && $2 == "test" {print $3}')
  [ -f "$TEST_EXE" ] || die "cargo did not report the library's test executable"
  phase "cross-build (lib tests)"
  rc=0 && wrun unit-tests "$TEST_EXE" wire:: preset:: exchange:: i18n:: pcap:: || rc=$?
  summary=$(grep -E '^test result:' "$OUT/unit-tests.log" || true)
  if [ "$rc" != 0 ] || [ -z "$summary" ]; then
    grep -E '^test .* FAILED$|^failures:|panicked' "$OUT/unit-tests.log" >&2 || tail -n 40 "$OUT/unit-tests.log" >&2
    die "unit tests under Wine: exit $rc; ${summary:-no summary}"
  fi
  passed=$(sed -n 's/.* \([0-9]*\) passed.*/\1/p' <<<"$summary")
  [ "$passed" -gt 0 ] || die "unit tests under Wine: none ran"
  echo "   ok  $summary"
  phase "unit tests under Wine"
fi

echo "== windows-check timings"
printf '   %s\n' "${TIMES[@]}"
echo "   total $(($(date +%s) - START))s"
echo "== windows-check passed (artifacts in $OUT)"
