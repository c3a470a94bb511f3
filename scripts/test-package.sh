#!/usr/bin/env bash
# The packaging test: builds the .deb and the tarball (dev profile, reusing the debug build) with
# scripts/package-linux.sh, installs each into a fresh root the way a user's machine would get it, and checks
# that only the helper holds capabilities, that the helper is locked to the group tcpcraft (root:tcpcraft 0750, as
# Wireshark's dumpcap: outsiders get "Permission denied", a member completes a handshake with a kernel listener in
# a network namespace), that dpkg-statoverride is honoured, that the desktop file validates and that every file is
# in place.
#
#   ./scripts/test-package.sh                           # as root (setcap needs it); CI=true makes non-root fail
#   TCPCRAFT_PACKAGE_PROFILE=release ./scripts/test-package.sh    # test the release packages instead
#
# The .deb is unpacked with `dpkg-deb -x` into an empty directory and its own postinst (from `dpkg-deb -e`) is run
# with DPKG_ROOT pointing there, as dpkg does for an install into another root; then dpkg itself installs it into
# an empty database with --root. Each root gets the base /etc/passwd and /etc/group every Debian system has, and
# the group is created in that root (its gid is looked up there, never on this system). The tarball's install.sh
# creates the group on this system; the test deletes it again when it was not there before.
set -euo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)
PROFILE=${TCPCRAFT_PACKAGE_PROFILE:-dev}

passed=0
ok() {
    passed=$((passed + 1))
    echo "  ok  $*"
}
fail() {
    echo "!!! packaging test FAILED: $*" >&2
    echo "package: $passed passed, 1 failed" >&2
    exit 1
}

if [ "$(id -u)" -ne 0 ]; then
    if [ "${CI:-}" = true ]; then fail "must run as root under CI (setcap needs CAP_SETFCAP)"; fi
    echo "*** SKIPPED packaging test: run it as root (setcap needs CAP_SETFCAP)" >&2
    exit 0
fi

# --- system packages ------------------------------------------------------------------------------------------
# dpkg-dev: dpkg-shlibdeps for cargo-deb; desktop-file-utils: desktop-file-validate; libcap2-bin: setcap, getcap;
# util-linux: setpriv, to run the installers as an unprivileged user, and unshare for a network namespace;
# passwd: groupadd; iproute2: ip, to bring lo up in that namespace; python3: the kernel listener there.
PACKAGES=(dpkg-dev desktop-file-utils libcap2-bin util-linux passwd iproute2)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
command -v python3 >/dev/null || missing+=(python3-minimal)
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- build ----------------------------------------------------------------------------------------------------
./scripts/package-linux.sh --profile "$PROFILE"
case "$PROFILE" in release) OUT=target/package ;; dev | debug) OUT=target/package/dev ;; *) OUT=target/package/$PROFILE ;; esac
debs=("$OUT"/tcpcraft_*.deb)
tars=("$OUT"/tcpcraft-*-linux.tar.gz)
[[ ${#debs[@]} -eq 1 && -f "${debs[0]}" ]] || fail "expected one .deb in $OUT, found: ${debs[*]}"
[[ ${#tars[@]} -eq 1 && -f "${tars[0]}" ]] || fail "expected one tarball in $OUT, found: ${tars[*]}"
DEB=$(realpath "${debs[0]}")
TAR=$(realpath "${tars[0]}")
echo "== testing $DEB and $TAR"

# --- a scratch directory on a filesystem that can hold file capabilities (security.capability xattr) --------
WORK=
for base in "${TMPDIR:-/tmp}" /var/tmp "$PWD/target"; do
    [[ -d "$base" && -w "$base" ]] || continue
    d=$(mktemp -d "$base/tcpcraft-pkgtest.XXXXXX")
    cp /bin/true "$d/xattr-probe"
    if setcap cap_net_raw+ep "$d/xattr-probe" 2>/dev/null && [ -n "$(getcap "$d/xattr-probe")" ]; then
        rm -f "$d/xattr-probe"
        WORK=$d
        break
    fi
    echo "  note: $base cannot hold file capabilities (no xattrs), trying the next place"
    rm -rf "$d"
done
[ -n "$WORK" ] || fail "no writable directory (TMPDIR, /var/tmp, target/) supports file capabilities"
RAMFS=
# install.sh, run as root, creates the group on this system: remove it again if this test made it.
GROUP=tcpcraft
HOST_GROUP_WAS_THERE=false
if getent group "$GROUP" >/dev/null; then HOST_GROUP_WAS_THERE=true; fi
cleanup() {
    if [ -n "$RAMFS" ]; then umount "$RAMFS" 2>/dev/null || true; fi
    if [ "$HOST_GROUP_WAS_THERE" = false ] && getent group "$GROUP" >/dev/null; then groupdel "$GROUP" || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
chmod 755 "$WORK" # the unprivileged-user checks below walk into it
echo "== scratch directory: $WORK"

# The capabilities of one file as "cap_a,cap_b=flags" with the names sorted, or "" when it has none.
caps_of() {
    local out
    out=$(getcap "$1")
    [ -n "$out" ] || return 0
    out=${out#"$1"}
    out=${out# }
    local names=${out%%=*} flags=${out#*=}
    echo "$(tr ',' '\n' <<<"$names" | sort | paste -sd, -)=$flags"
}
WANT_CAPS="cap_net_admin,cap_net_raw=eip"

# The base files of a root, as base-passwd gives every Debian system: postinst looks users and groups up there.
seed_root() {
    mkdir -p "$1/etc"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$1/etc/group"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' \
        >"$1/etc/passwd"
}
# The gid of the group tcpcraft in a root's /etc/group ("" when it has none).
gid_in() { awk -F: -v g="$GROUP" '$1 == g { print $3; exit }' "$1/etc/group"; }
# Owner, group and mode of a file, numeric (names would be looked up on this system, not in the root).
owner_mode() { stat -c '%u:%g %a' "$1"; }

# Runs PROGRAM ARGS... as nobody (uid and gid 65534), without capabilities of its own. GROUPS is "" (no
# supplementary groups) or a numeric gid to be a member of.
as_nobody() {
    local groups=$1
    shift
    local g=(--clear-groups)
    [ -z "$groups" ] || g=(--groups="$groups")
    # Through env(1): setpriv's own execve can still pass root's CAP_DAC_OVERRIDE check (a root-only 0700 file
    # runs), while env already runs as the user without capabilities, so its execve gets the kernel's real verdict.
    setpriv --reuid=65534 --regid=65534 "${g[@]}" --inh-caps=-all -- env "$@"
}

# Who may run HELPER: nobody outside the group gets "Permission denied"; nobody in the group GID runs it.
check_group_lock() {
    local what=$1 helper=$2 gid=$3 out
    if out=$(as_nobody "" "$helper" --version 2>&1 </dev/null); then
        fail "$what: a user outside the group $GROUP ran $helper: $out"
    fi
    grep -q 'Permission denied' <<<"$out" || fail "$what: outside the group, running $helper did not say 'Permission denied': $out"
    ok "$what: a user outside the group $GROUP gets 'Permission denied' running the helper"
    out=$(as_nobody "$gid" "$helper" --version 2>&1 </dev/null) ||
        fail "$what: a member of $GROUP (gid $gid) could not run $helper: $out"
    grep -q 'tcpcraft-link' <<<"$out" || fail "$what: '$helper --version' as a member printed: $out"
    ok "$what: a member of the group $GROUP (gid $gid) runs it: $out"
}

# Checks for an installed tree: PREFIX is where bin/ and share/ went; EXEC is what Exec= must say; GID is the
# numeric gid of the group tcpcraft the helper must belong to (root:GID, mode 0750).
check_install() {
    local what=$1 prefix=$2 exec=$3 gid=$4
    local gui="$prefix/bin/tcpcraft" helper="$prefix/bin/tcpcraft-link" got
    local desktop="$prefix/share/applications/tcpcraft.desktop"
    local icon="$prefix/share/icons/hicolor/256x256/apps/tcpcraft.png"

    for f in "$gui" "$helper"; do
        [[ -f "$f" && -x "$f" ]] || fail "$what: $f is missing or not executable"
        [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || fail "$what: $f is not an ELF executable"
    done
    ok "$what: both binaries installed (tcpcraft, tcpcraft-link)"

    [ -n "$gid" ] || fail "$what: the group $GROUP does not exist"
    got=$(owner_mode "$helper")
    [ "$got" = "0:$gid 750" ] || fail "$what: $helper is '$got' (uid:gid mode), want root:$GROUP = '0:$gid 750'"
    ok "$what: helper is root:$GROUP (0:$gid) mode 0750"
    got=$(owner_mode "$gui")
    [ "$got" = "0:0 755" ] || fail "$what: $gui is '$got' (uid:gid mode), want '0:0 755'"
    check_group_lock "$what" "$helper" "$gid"

    got=$(caps_of "$helper")
    [ "$got" = "$WANT_CAPS" ] || fail "$what: getcap $helper says '${got:-no capabilities}', want $WANT_CAPS"
    ok "$what: helper has $got"
    got=$(caps_of "$gui")
    [ -z "$got" ] || fail "$what: the GUI $gui has capabilities '$got': it must have none"
    ok "$what: the GUI (tcpcraft) has no capabilities"
    got=$(getcap -r "$prefix" 2>/dev/null | sed "s|^$prefix/||" | cut -d' ' -f1 | paste -sd' ' -)
    [ "$got" = "bin/tcpcraft-link" ] || fail "$what: files with capabilities are '$got', want only bin/tcpcraft-link"
    got=$(find "$prefix" -perm /6000 -printf '%P ')
    [ -z "$got" ] || fail "$what: setuid/setgid files: $got"
    ok "$what: no other file has capabilities, nothing is setuid or setgid"

    desktop-file-validate "$desktop" || fail "$what: desktop-file-validate $desktop reported the errors above"
    grep -qx "Exec=$exec" "$desktop" || fail "$what: $desktop does not say Exec=$exec"
    grep -qx "Icon=tcpcraft" "$desktop" || fail "$what: $desktop does not say Icon=tcpcraft"
    ok "$what: desktop file validates (Exec=$exec, Icon=tcpcraft)"

    [ -f "$icon" ] || fail "$what: icon $icon is missing"
    # PNG signature, then the IHDR width and height (big-endian u32 at bytes 16 and 20) must match the folder.
    [ "$(head -c 8 "$icon" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$what: $icon is not a PNG"
    local wh
    wh=$(od -An -tu1 -j16 -N8 "$icon" | awk '{print $1*16777216+$2*65536+$3*256+$4 "x" $5*16777216+$6*65536+$7*256+$8}')
    [ "$wh" = 256x256 ] || fail "$what: $icon is $wh, but it sits in hicolor/256x256"
    ok "$what: icon is a 256x256 PNG at share/icons/hicolor/256x256/apps/tcpcraft.png"

    [ -s "$prefix/share/doc/tcpcraft/README.md" ] || fail "$what: share/doc/tcpcraft/README.md is missing"
    # The binary itself works, for anyone: the bundled presets print without a display or privileges.
    as_nobody "" "$gui" presets | grep -q normal-open || fail "$what: '$gui presets' as nobody does not list normal-open"
    ok "$what: README installed; '$gui presets' runs as a user outside the group"
}

# --- the .deb -------------------------------------------------------------------------------------------------
echo "== .deb: control fields"
field() { dpkg-deb --field "$DEB" "$1"; }
[ "$(field Package)" = tcpcraft ] || fail ".deb: Package is '$(field Package)'"
[ "$(field Section)" = net ] || fail ".deb: Section is '$(field Section)', want net"
field Depends | grep -qw libcap2-bin || fail ".deb: Depends '$(field Depends)' lacks libcap2-bin (setcap)"
field Depends | grep -qw passwd || fail ".deb: Depends '$(field Depends)' lacks passwd (groupadd)"
field Depends | grep -qw libc6 || fail ".deb: Depends '$(field Depends)' lacks the shared-library deps (\$auto)"
field Recommends | grep -qw nftables || fail ".deb: Recommends '$(field Recommends)' lacks nftables"
ok ".deb: Package tcpcraft, Section net, Depends $(field Depends), Recommends $(field Recommends)"

echo "== .deb: dpkg-deb -x into a fresh root, then its own postinst with DPKG_ROOT"
ROOT="$WORK/deb-root"
CONTROL="$WORK/deb-control"
mkdir -p "$ROOT"
seed_root "$ROOT"
dpkg-deb -x "$DEB" "$ROOT"
dpkg-deb -e "$DEB" "$CONTROL"
[ -x "$CONTROL/postinst" ] || fail ".deb: the control area has no executable postinst (maintainer-scripts)"
ok ".deb: control area has postinst"
[ -z "$(getcap -r "$ROOT" 2>/dev/null)" ] || fail ".deb: files have capabilities before postinst ran"
[ "$(owner_mode "$ROOT/usr/bin/tcpcraft-link")" = "0:0 750" ] ||
    fail ".deb: unpacked, the helper is '$(owner_mode "$ROOT/usr/bin/tcpcraft-link")', want root-only '0:0 750'"
ok ".deb: as unpacked (before postinst) the helper is root:root 0750"
out=$(DPKG_ROOT="$ROOT" "$CONTROL/postinst" configure 2>&1) || fail ".deb: postinst configure failed: $out"
grep -qF "sudo usermod -aG $GROUP \$USER" <<<"$out" || fail ".deb: a first install does not say how to join: $out"
GID=$(gid_in "$ROOT")
[ -n "$GID" ] || fail ".deb: postinst did not create the group $GROUP in $ROOT/etc/group"
if [ "$HOST_GROUP_WAS_THERE" = false ] && getent group "$GROUP" >/dev/null; then
    fail ".deb: postinst with DPKG_ROOT created $GROUP on this system instead of in the root"
fi
ok ".deb: postinst configure created the system group $GROUP (gid $GID) in the root's /etc/group, and said how to join"
check_install ".deb" "$ROOT/usr" tcpcraft "$GID"
out=$(DPKG_ROOT="$ROOT" "$CONTROL/postinst" configure 1.0 2>&1) ||
    fail ".deb: a second postinst configure (upgrade) failed: $out"
[ "$(caps_of "$ROOT/usr/bin/tcpcraft-link")" = "$WANT_CAPS" ] || fail ".deb: capabilities lost on re-configure"
[ "$(owner_mode "$ROOT/usr/bin/tcpcraft-link")" = "0:$GID 750" ] || fail ".deb: owner or mode changed on re-configure"
[ "$(grep -c "^$GROUP:" "$ROOT/etc/group")" = 1 ] || fail ".deb: re-configure added the group again"
ok ".deb: postinst is idempotent (re-configure on upgrade: one group, same owner, mode and capabilities)"

echo "== .deb: postinst when the owner, mode or capabilities cannot be set"
# Not allowed to chown or set capabilities (an unprivileged user, in a root that already has the group): a clear
# message and a non-zero exit.
NOPRIV="$WORK/deb-root-nobody"
mkdir -p "$NOPRIV/usr/bin"
seed_root "$NOPRIV"
echo "$GROUP:x:999:" >>"$NOPRIV/etc/group"
cp "$ROOT/usr/bin/tcpcraft" "$NOPRIV/usr/bin/tcpcraft-link"
chown -R nobody "$NOPRIV"
if out=$(DPKG_ROOT="$NOPRIV" setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
    "$CONTROL/postinst" configure 2>&1); then
    fail ".deb: postinst succeeded although it could not chown or setcap: $out"
fi
want="sudo chown root:$GROUP /usr/bin/tcpcraft-link && sudo chmod 0750 /usr/bin/tcpcraft-link"
want+=" && sudo setcap cap_net_raw,cap_net_admin+eip /usr/bin/tcpcraft-link"
grep -qF "$want" <<<"$out" || fail ".deb: postinst failed without saying how to fix it: $out"
ok ".deb: postinst fails clearly when it may not set owner and capabilities (and prints the fix)"
# A filesystem without xattrs (ramfs): the install goes on, with a warning that says how to fix it.
RAMFS="$WORK/ramfs"
mkdir -p "$RAMFS"
if mount -t ramfs tcpcraft-ramfs "$RAMFS" 2>/dev/null; then
    mkdir -p "$RAMFS/usr/bin"
    seed_root "$RAMFS"
    cp "$ROOT/usr/bin/tcpcraft" "$RAMFS/usr/bin/tcpcraft-link"
    out=$(DPKG_ROOT="$RAMFS" "$CONTROL/postinst" configure 2>&1) ||
        fail ".deb: postinst failed on a filesystem without xattrs (it must warn, not fail): $out"
    grep -q 'no extended attribute support' <<<"$out" || fail ".deb: no warning on a filesystem without xattrs: $out"
    [ "$(owner_mode "$RAMFS/usr/bin/tcpcraft-link")" = "0:$(gid_in "$RAMFS") 750" ] ||
        fail ".deb: without xattrs the helper is not root:$GROUP 0750: $(owner_mode "$RAMFS/usr/bin/tcpcraft-link")"
    umount "$RAMFS"
    RAMFS=
    ok ".deb: on a filesystem without xattrs postinst warns, says how to fix it, does not fail the install, and" \
        "still locks the helper to the group"
else
    RAMFS=
    echo "  note: cannot mount a ramfs here, so the no-xattr path of postinst was not exercised"
fi

echo "== .deb: dpkg itself installs and removes it in an empty root (it runs postinst with DPKG_ROOT set)"
# An empty dpkg database, so the dependencies (libc6, libcap2-bin) are absent there: --force-depends.
# --force-script-chrootless runs the maintainer scripts on this system's tools instead of chrooting.
DROOT="$WORK/dpkg-root"
mkdir -p "$DROOT/var/lib/dpkg/updates" "$DROOT/var/lib/dpkg/info"
touch "$DROOT/var/lib/dpkg/status"
seed_root "$DROOT"
dpkg_root() {
    dpkg --root="$DROOT" --force-script-chrootless --force-depends --log=/dev/null "$@" >"$WORK/dpkg.log" 2>&1 ||
        fail ".deb: dpkg $* (root $DROOT) failed: $(cat "$WORK/dpkg.log")"
}
DHELPER="$DROOT/usr/bin/tcpcraft-link"
dpkg_root -i "$DEB"
got=$(getcap -r "$DROOT" 2>/dev/null | sed "s|^$DROOT/||" | tr -s ' ' | paste -sd' ' -)
[ "$got" = "usr/bin/tcpcraft-link cap_net_admin,cap_net_raw=eip" ] ||
    fail ".deb: after dpkg -i, files with capabilities are '$got', want only usr/bin/tcpcraft-link"
DGID=$(gid_in "$DROOT")
[ -n "$DGID" ] || fail ".deb: dpkg -i did not create the group $GROUP in $DROOT/etc/group"
[ "$(owner_mode "$DHELPER")" = "0:$DGID 750" ] ||
    fail ".deb: after dpkg -i the helper is '$(owner_mode "$DHELPER")', want root:$GROUP '0:$DGID 750'"
ok ".deb: dpkg -i runs postinst: the helper alone has $WANT_CAPS, and is root:$GROUP (gid $DGID in that root) 0750"
check_group_lock ".deb (dpkg --root)" "$DHELPER" "$DGID"

echo "== .deb: a member of $GROUP completes a handshake with a kernel listener, in a network namespace"
# The installed CLI runs as nobody, with or without the group; it spawns the installed helper, whose file
# capabilities do the raw work. The listener is this system's kernel, in a fresh namespace that has only lo.
cat >"$WORK/handshake.sh" <<'SCRIPT'
set -euo pipefail
gui=$1 helper=$2 groups=$3 port=$4 work=$5
ip link set lo up
rm -f "$work/listening"
python3 -c 'import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
open(sys.argv[2], "w").close()
time.sleep(30)' "$port" "$work/listening" &
listener=$!
trap 'kill "$listener" 2>/dev/null || true' EXIT
for _ in $(seq 200); do
    [ ! -e "$work/listening" ] || break
    sleep 0.05
done
[ -e "$work/listening" ] || { echo "the listener on 127.0.0.1:$port did not start" >&2; exit 1; }
g=(--clear-groups)
[ -z "$groups" ] || g=(--groups="$groups")
setpriv --reuid=65534 --regid=65534 "${g[@]}" --inh-caps=-all -- \
    env TCPCRAFT_LINK="$helper" HOME="$work" "$gui" send -S -p "$port" --link raw --wait 1000 --json 127.0.0.1
SCRIPT
# Prints the CLI's JSON on stdout, its messages on stderr; fails when the CLI fails. GROUPS: "" or a gid.
handshake() { unshare -n -- bash "$WORK/handshake.sh" "$DROOT/usr/bin/tcpcraft" "$DHELPER" "$1" 8080 "$WORK"; }
# Whether the JSON on stdin has a SYN-ACK from the peer.
syn_ack() {
    python3 -c 'import json, sys
v = json.load(sys.stdin)
sys.exit(0 if any(e.get("origin") == "peer" and e.get("flags") == ["SYN", "ACK"] for e in v["events"]) else 1)'
}
out=$(handshake "$DGID" 2>"$WORK/handshake.err") ||
    fail ".deb: as a member of $GROUP, 'tcpcraft send -S --link raw' failed: $(cat "$WORK/handshake.err") $out"
syn_ack <<<"$out" || fail ".deb: as a member of $GROUP, no SYN-ACK from the kernel listener: $out $(cat "$WORK/handshake.err")"
grep -q 'via tcpcraft-link' <<<"$out" || fail ".deb: the raw link did not go through the helper: $out"
ok ".deb: a member of $GROUP sends a SYN through the installed helper and gets the kernel listener's SYN-ACK"
if out=$(handshake "" 2>&1); then fail ".deb: a user outside $GROUP sent raw packets: $out"; fi
# The CLI explains instead of passing on the bare EACCES: who may run the helper, and the usermod command. (The
# group's name is looked up in this machine's /etc/group, not the scratch root's, so it is not checked here.)
grep -q 'may run .*tcpcraft-link, and you are not in it' <<<"$out" && grep -q 'sudo usermod -aG' <<<"$out" ||
    fail ".deb: outside $GROUP, the CLI did not say who may run the helper and how to join: $out"
ok ".deb: a user outside $GROUP cannot send raw, and the CLI says how to join the group"

echo "== .deb: dpkg-statoverride is honoured"
dpkg-statoverride --root "$DROOT" --update --add root root 0700 /usr/bin/tcpcraft-link ||
    fail ".deb: dpkg-statoverride --root $DROOT --add failed"
dpkg_root -i "$DEB"
[ "$(owner_mode "$DHELPER")" = "0:0 700" ] ||
    fail ".deb: with the override 'root root 0700', reinstalling left the helper '$(owner_mode "$DHELPER")'"
[ "$(caps_of "$DHELPER")" = "$WANT_CAPS" ] || fail ".deb: with an override, the helper lost its capabilities"
if out=$(as_nobody "$DGID" "$DHELPER" --version 2>&1 </dev/null); then
    fail ".deb: the override 'root root 0700' still lets the group $GROUP run the helper: $out"
fi
ok ".deb: with 'dpkg-statoverride --add root root 0700' the reinstalled helper is 0:0 0700 with its capabilities," \
    "and the group may no longer run it"
dpkg-statoverride --root "$DROOT" --remove /usr/bin/tcpcraft-link || fail ".deb: dpkg-statoverride --remove failed"
dpkg_root -i "$DEB"
[ "$(owner_mode "$DHELPER")" = "0:$DGID 750" ] ||
    fail ".deb: with the override removed, reinstalling left the helper '$(owner_mode "$DHELPER")'"
[ "$(caps_of "$DHELPER")" = "$WANT_CAPS" ] || fail ".deb: after the override was removed, the helper has no capabilities"
ok ".deb: with the override removed, a reinstall makes the helper root:$GROUP 0750 again"

dpkg_root -P tcpcraft
[ ! -e "$DHELPER" ] || fail ".deb: dpkg -P left usr/bin/tcpcraft-link behind"
left=$(find "$DROOT" -path "$DROOT/var/lib/dpkg" -prune -o -path "$DROOT/etc" -prune -o -type f -print)
[ -z "$left" ] || fail ".deb: dpkg -P left files: $left"
[ "$(gid_in "$DROOT")" = "$DGID" ] || fail ".deb: purging removed the group $GROUP (it is meant to stay)"
ok ".deb: dpkg -P removes every file and keeps the group $GROUP (as wireshark-common keeps its group)"

# --- the tarball ----------------------------------------------------------------------------------------------
echo "== tarball: layout"
X="$WORK/tar"
mkdir -p "$X"
tar -C "$X" -xzf "$TAR"
top=$(basename "$TAR" .tar.gz)
T="$X/$top"
for f in bin/tcpcraft bin/tcpcraft-link share/applications/tcpcraft.desktop \
    share/icons/hicolor/256x256/apps/tcpcraft.png install.sh README.md INSTALL; do
    [ -e "$T/$f" ] || fail "tarball: $top/$f is missing"
done
ok "tarball: $top/ has bin/, share/applications, share/icons, install.sh, README.md, INSTALL"

echo "== tarball: install.sh into a temporary prefix, as root"
PREFIX="$WORK/prefix"
out=$("$T/install.sh" "$PREFIX" 2>&1) || fail "tarball: install.sh $PREFIX failed: $out"
grep -qF "sudo usermod -aG $GROUP \$USER" <<<"$out" || fail "tarball: install.sh does not say how to join $GROUP: $out"
HGID=$(getent group "$GROUP" | cut -d: -f3)
[ -n "$HGID" ] || fail "tarball: install.sh as root did not create the group $GROUP"
ok "tarball: install.sh as root created (or kept) the system group $GROUP (gid $HGID) and says how to join it"
check_install "tarball" "$PREFIX" "$PREFIX/bin/tcpcraft" "$HGID"
out=$("$T/install.sh" "$PREFIX" 2>&1) || fail "tarball: install.sh a second time (upgrade) failed: $out"
[ "$(owner_mode "$PREFIX/bin/tcpcraft-link") $(caps_of "$PREFIX/bin/tcpcraft-link")" = "0:$HGID 750 $WANT_CAPS" ] ||
    fail "tarball: after a second install.sh the helper is $(owner_mode "$PREFIX/bin/tcpcraft-link")"
[ "$(grep -c "^$GROUP:" /etc/group)" = 1 ] || fail "tarball: a second install.sh added the group again"
ok "tarball: install.sh is idempotent (one group, same owner, mode and capabilities)"

echo "== tarball: install.sh into a user's prefix, unprivileged"
UPREFIX="$WORK/user-prefix"
install -d -o nobody "$UPREFIX"
chmod -R a+rX "$X"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$T/install.sh" "$UPREFIX" 2>&1) ||
    fail "tarball: unprivileged install.sh failed: $out"
for want in "sudo groupadd --system $GROUP" "sudo chown root:$GROUP $UPREFIX/bin/tcpcraft-link" \
    "sudo chmod 0750 $UPREFIX/bin/tcpcraft-link" "sudo setcap cap_net_raw,cap_net_admin+eip $UPREFIX/bin/tcpcraft-link" \
    "sudo usermod -aG $GROUP \$USER"; do
    grep -qF "$want" <<<"$out" || fail "tarball: unprivileged install.sh does not print '$want': $out"
done
[ -z "$(getcap -r "$UPREFIX" 2>/dev/null)" ] || fail "tarball: an unprivileged install left capabilities"
[ "$(stat -c '%u %a' "$UPREFIX/bin/tcpcraft-link")" = "65534 755" ] ||
    fail "tarball: unprivileged, the helper is '$(stat -c '%u %a' "$UPREFIX/bin/tcpcraft-link")', want '65534 755'"
ok "tarball: an unprivileged install copies the files (helper 0755, no capabilities) and prints the sudo commands" \
    "(group, chown, chmod, setcap, usermod)"

echo "== packaging test passed in $(($(date +%s) - START)) s ($(basename "$DEB") $(stat -c %s "$DEB") bytes," \
    "$(basename "$TAR") $(stat -c %s "$TAR") bytes; $PROFILE profile)"
echo "package: $passed passed, 0 failed"
