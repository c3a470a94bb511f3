#!/bin/bash
# Lets tcpcraft capture on macOS without root: creates group access_bpf, adds you to it, and installs ChmodBPF
# with a launchd job that gives that group read/write on /dev/bpf* at every boot (and runs it once now).
# If Wireshark's ChmodBPF is already installed you do not need this: it uses the same group.
#
#   sudo ./packaging/macos/install-chmodbpf.sh              # install, for the user who ran sudo
#   sudo ./packaging/macos/install-chmodbpf.sh --uninstall  # remove the job and the script (keeps the group)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GROUP=access_bpf
LABEL=org.tcpcraft.ChmodBPF
SCRIPT_DIR="/Library/Application Support/tcpcraft"
PLIST="/Library/LaunchDaemons/$LABEL.plist"

[ "$(uname -s)" = Darwin ] || { echo "install-chmodbpf.sh: this is for macOS" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "install-chmodbpf.sh: run it with sudo" >&2; exit 1; }

if [ "${1:-}" = --uninstall ]; then
    launchctl bootout "system/$LABEL" 2>/dev/null || true
    rm -f "$PLIST" "$SCRIPT_DIR/ChmodBPF"
    rmdir "$SCRIPT_DIR" 2>/dev/null || true
    echo "removed $PLIST and $SCRIPT_DIR/ChmodBPF; /dev/bpf* go back to root only at the next boot"
    exit 0
fi

# The user to add: the one who ran sudo, else whoever is logged in at the console.
user=${SUDO_USER:-$(stat -f %Su /dev/console)}
if ! dseditgroup -o read "$GROUP" >/dev/null 2>&1; then
    dseditgroup -o create -r "tcpcraft/Wireshark BPF capture" "$GROUP"
    echo "created group $GROUP"
fi
dseditgroup -o edit -a "$user" -t user "$GROUP"
echo "added $user to $GROUP"

install -d -o root -g wheel -m 755 "$SCRIPT_DIR"
install -o root -g wheel -m 755 "$HERE/ChmodBPF" "$SCRIPT_DIR/ChmodBPF"
install -o root -g wheel -m 644 "$HERE/$LABEL.plist" "$PLIST"
launchctl bootout "system/$LABEL" 2>/dev/null || true
launchctl bootstrap system "$PLIST" # RunAtLoad: runs ChmodBPF now, and at every boot
echo "installed $PLIST; /dev/bpf* now:"
ls -l /dev/bpf0
echo "log out and back in (group membership is read at login), then start tcpcraft"
