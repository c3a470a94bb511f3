#!/usr/bin/env bash
# Installs tcpcraft from this tarball: copies bin/ and share/ into PREFIX (default /usr/local). As root it also
# locks the privileged helper to the group tcpcraft, like Wireshark's dumpcap: it creates the system group,
# makes bin/tcpcraft-link root:tcpcraft mode 0750 and gives it, and only it, cap_net_raw,cap_net_admin+eip.
# Members of the group (sudo usermod -aG tcpcraft $USER, then log in again) may send raw packets. The GUI never
# gets capabilities.
#
#   sudo ./install.sh                  # into /usr/local
#   ./install.sh ~/.local              # per user: files only (0755, no capabilities); prints the sudo commands
#   DESTDIR=/tmp/stage ./install.sh /usr    # staged install (no group, no setcap: run those on the final system)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PREFIX=${1:-/usr/local}
DESTDIR=${DESTDIR:-}
CAPS=cap_net_raw,cap_net_admin+eip
GROUP=tcpcraft

case "$PREFIX" in
-h | --help)
    sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
/*) ;;
*)
    echo "install.sh: PREFIX must be an absolute path, got '$PREFIX'" >&2
    exit 2
    ;;
esac

ROOT="$DESTDIR$PREFIX"
HELPER="$ROOT/bin/tcpcraft-link"

install -d "$ROOT/bin" "$ROOT/share/applications" "$ROOT/share/icons/hicolor/256x256/apps" \
    "$ROOT/share/doc/tcpcraft"
install -m 755 "$HERE/bin/tcpcraft" "$ROOT/bin/tcpcraft"
install -m 755 "$HERE/bin/tcpcraft-link" "$HELPER"
install -m 644 "$HERE/share/icons/hicolor/256x256/apps/tcpcraft.png" "$ROOT/share/icons/hicolor/256x256/apps/"
install -m 644 "$HERE/README.md" "$ROOT/share/doc/tcpcraft/"
# The menu entry starts the GUI by absolute path, so it works when PREFIX/bin is not on PATH (e.g. ~/.local).
sed "s|^Exec=tcpcraft\$|Exec=$PREFIX/bin/tcpcraft|" "$HERE/share/applications/tcpcraft.desktop" \
    >"$ROOT/share/applications/tcpcraft.desktop"
chmod 644 "$ROOT/share/applications/tcpcraft.desktop"
echo "installed tcpcraft into $ROOT (to uninstall, delete these files):"
for f in bin/tcpcraft bin/tcpcraft-link share/applications/tcpcraft.desktop \
    share/icons/hicolor/256x256/apps/tcpcraft.png share/doc/tcpcraft/README.md; do
    echo "  $ROOT/$f"
done

# Menus pick the entry up sooner with this (optional) tool.
if [ -z "$DESTDIR" ] && command -v update-desktop-database >/dev/null; then
    update-desktop-database -q "$ROOT/share/applications" || true
fi

TARGET="$PREFIX/bin/tcpcraft-link"
FIX="sudo setcap $CAPS $TARGET"
JOIN="sudo usermod -aG $GROUP \$USER"
# What root has to run when this script could not: the group, the owner and mode, then the capabilities (in
# that order: chown clears file capabilities), then joining the group.
fix_steps() {
    echo "  getent group $GROUP >/dev/null || sudo groupadd --system $GROUP"
    echo "  sudo chown root:$GROUP $TARGET"
    echo "  sudo chmod 0750 $TARGET"
    echo "  $FIX"
    echo "  $JOIN    # then log out and in again"
}
if [ -n "$DESTDIR" ]; then
    echo "DESTDIR is set: no group and no capabilities given. On the target system run:"
    fix_steps
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "not root: the helper has no capabilities yet, so the app uses the simulated lab host."
    echo "To enable raw mode run:"
    fix_steps
    exit 0
fi
if ! command -v setcap >/dev/null; then
    echo "install.sh: setcap not found: install libcap2-bin (Debian/Ubuntu) or libcap (others), then run: $FIX" >&2
    exit 1
fi
if ! getent group "$GROUP" >/dev/null; then
    if command -v groupadd >/dev/null; then
        groupadd --system "$GROUP"
    elif command -v addgroup >/dev/null; then
        addgroup -S "$GROUP" 2>/dev/null || addgroup --system "$GROUP"
    else
        echo "install.sh: neither groupadd nor addgroup found: create the system group $GROUP, then run:" >&2
        fix_steps >&2
        exit 1
    fi
    echo "created the system group $GROUP"
fi
chown "root:$GROUP" "$HELPER"
chmod 0750 "$HELPER"
if ! err=$(setcap "$CAPS" "$HELPER" 2>&1); then
    case "$err" in
    *"not supported"* | *"Not supported"*)
        echo "install.sh: WARNING: $err" >&2
        echo "install.sh: the filesystem under $PREFIX has no extended attributes, so the helper cannot hold" >&2
        echo "install.sh: capabilities and the app uses the simulated lab host. Install to a PREFIX on ext4," >&2
        echo "install.sh: xfs or btrfs (e.g. /usr/local) for raw mode." >&2
        exit 0
        ;;
    *)
        echo "install.sh: setcap $CAPS $HELPER failed: $err" >&2
        exit 1
        ;;
    esac
fi
echo "gave $HELPER $CAPS, owner root:$GROUP, mode 0750 (the GUI, $ROOT/bin/tcpcraft, has none)"
echo "only members of the group $GROUP may send raw packets. To join, run:"
echo "  $JOIN"
echo "then log out and in again."
