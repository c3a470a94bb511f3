#!/usr/bin/env bash
# The screenshot set a UI change is checked with: the real app under Xvfb, as an unprivileged user with no desktop
# portal (as on a lab machine), in both languages, both themes and two window sizes: the first start, a
# normal-open run with its notes, and the step editor (a click on step 3, at CLICK_STEP3_<W>x<H>=X,Y).
# Usage: ./scripts/screenshots.sh [OUT_DIR]     (needs xvfb, xdotool, imagemagick, libgl1-mesa-dri; run as root
# to drop to nobody, or as any user to run as yourself)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/screenshots}
bin=$(realpath "${TCPCRAFT_BIN:-target/debug/tcpcraft}")
[ -x "$bin" ] || cargo build
mkdir -p "$out"
out=$(realpath "$out")
as_user=()
if [ "$(id -u)" = 0 ]; then as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups); chmod 777 "$out"; fi

shot() { # SIZE LANG THEME NAME [gui args...]
  local size=$1 lang=$2 theme=$3 name=$4; shift 4
  local display=:$((70 + RANDOM % 20)) home
  home=$(mktemp -d); chmod 777 "$home"
  Xvfb "$display" -screen 0 "${size}x24" -nolisten tcp >/dev/null 2>&1 &
  local xvfb=$!
  sleep 1
  # No D-Bus session, no portal: what a shared lab machine gives an unprivileged user.
  env -i PATH=/usr/bin:/bin HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
    DISPLAY="$display" LIBGL_ALWAYS_SOFTWARE=1 LANG=C.UTF-8 \
    "${as_user[@]}" "$bin" gui --lang "$lang" --theme "$theme" "$@" >/dev/null 2>&1 &
  local app=$!
  sleep "${WAIT:-5}"
  if [ "$name" = editor ]; then
    local var="CLICK_STEP3_${size}" xy
    : "${CLICK_STEP3_1024x700:=60,615}" "${CLICK_STEP3_1920x1080:=185,951}"
    xy=${!var:-}
    # The step list is at the bottom of the preset column: scroll it into view first.
    DISPLAY=$display xdotool mousemove "${xy%,*}" 400 click --repeat 15 --delay 30 5
    sleep 0.5
    if [ -n "$xy" ]; then
      DISPLAY=$display xdotool mousemove "${xy%,*}" "${xy#*,}" click 1
      sleep 1.5
    fi
  fi
  kill -0 "$app" 2>/dev/null || { echo "!!! the app exited early ($size $lang $theme $name)" >&2; kill $xvfb; return 1; }
  DISPLAY=$display import -window root "$out/$name-$lang-$theme-$size.png"
  kill $app $xvfb 2>/dev/null || true
  wait $app $xvfb 2>/dev/null || true
  rm -rf "$home"
  echo "wrote $out/$name-$lang-$theme-$size.png"
}

for size in ${SIZES:-1024x700 1920x1080}; do
  for lang in ${LANGS:-en ko}; do
    for theme in ${THEMES:-dark light}; do
      for kind in ${KINDS:-first-start run editor}; do
        case $kind in
          first-start) shot "$size" "$lang" "$theme" first-start ;;
          *) shot "$size" "$lang" "$theme" "$kind" --run normal-open ;;
        esac
      done
    done
  done
done
