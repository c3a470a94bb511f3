#!/usr/bin/env bash
# Builds the Windows installer on Linux: cross-builds tcpcraft.exe and tcpcraft-link.exe for x86_64-pc-windows-gnu
# and packs them with makensis (packaging/windows/tcpcraft.nsi). Prints the installer's path.
# Usage: ./scripts/package-windows.sh [--profile release|dev] [--out DIR]
#   default: release, into target/package/windows/ (dev: target/package/windows/dev/)
# Needs gcc-mingw-w64-x86-64, nsis and imagemagick (the icon), and `rustup target add x86_64-pc-windows-gnu`;
# ./scripts/windows-check.sh installs them and tests the result under Wine.
set -euo pipefail
cd "$(dirname "$0")/.."
T=x86_64-pc-windows-gnu
profile=release
out=
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--profile release|dev] [--out DIR]" >&2; exit 2 ;;
  esac
done
case "$profile" in
  release) dir=release; out=${out:-target/package/windows} ;;
  dev) dir=debug; out=${out:-target/package/windows/dev} ;;
  *) echo "profile must be release or dev" >&2; exit 2 ;;
esac
for tool in x86_64-w64-mingw32-strip makensis convert; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install gcc-mingw-w64-x86-64 nsis imagemagick)" >&2; exit 1; }
done

cargo build --locked --target "$T" --profile "$profile" --bins >&2
meta=$(cargo metadata --locked --format-version 1 --no-deps)
version=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["packages"][0]["version"])' "$meta")
target_dir=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["target_directory"])' "$meta")
bindir=$target_dir/$T/$dir
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Only the two programs go in: presets, labs, fonts and translations are built into tcpcraft.exe.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$bindir/tcpcraft.exe" "$bindir/tcpcraft-link.exe" "$stage/"
# Debug info stays out of the installer: a dev build's .exe is ~300 MB with it, ~10x less without, and LZMA on
# the full size takes many minutes.
x86_64-w64-mingw32-strip --strip-debug "$stage/tcpcraft.exe" "$stage/tcpcraft-link.exe"
convert assets/icon.png -define icon:auto-resize=256,64,48,32,16 "$stage/tcpcraft.ico"
setup=$out/tcpcraft-$version-x64-setup.exe
# -WX: any makensis warning fails the build.
makensis -V2 -WX -DBINDIR="$stage" -DVERSION="$version" -DOUTFILE="$setup" -DICON="$stage/tcpcraft.ico" \
  packaging/windows/tcpcraft.nsi >&2
echo "$setup"
