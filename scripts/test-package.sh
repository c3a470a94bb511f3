#!/usr/bin/env bash
# The packaging test: builds the .deb and the tarball (dev profile, reusing the debug build) with
# scripts/package-linux.sh, installs each into a fresh root the way a user's machine would get it, and checks
# that only the helper holds capabilities, that the desktop file validates and that every file is in place.
#
#   ./scripts/test-package.sh                           # as root (setcap needs it); CI=true makes non-root fail
#   TCPCRAFT_PACKAGE_PROFILE=release ./scripts/test-package.sh    # test the release packages instead
#
# The .deb is unpacked with `dpkg-deb -x` into an empty directory and its own postinst (from `dpkg-deb -e`) is run
# with DPKG_ROOT pointing there, as dpkg does for an install into another root.
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
# util-linux: setpriv, to run the installers as an unprivileged user.
PACKAGES=(dpkg-dev desktop-file-utils libcap2-bin util-linux)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
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
cleanup() {
    if [ -n "$RAMFS" ]; then umount "$RAMFS" 2>/dev/null || true; fi
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

# Checks for an installed tree: PREFIX is where bin/ and share/ went; EXEC is what Exec= must say.
check_install() {
    local what=$1 prefix=$2 exec=$3
    local gui="$prefix/bin/tcpcraft" helper="$prefix/bin/tcpcraft-link"
    local desktop="$prefix/share/applications/tcpcraft.desktop"
    local icon="$prefix/share/icons/hicolor/256x256/apps/tcpcraft.png"

    for f in "$gui" "$helper"; do
        [[ -f "$f" && -x "$f" ]] || fail "$what: $f is missing or not executable"
        [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || fail "$what: $f is not an ELF executable"
    done
    ok "$what: both binaries installed (tcpcraft, tcpcraft-link)"

    local got
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
    # The binary itself works: the bundled presets print without a display or privileges.
    "$gui" presets | grep -q normal-open || fail "$what: '$gui presets' does not list normal-open"
    ok "$what: README installed; '$gui presets' runs"
}

# --- the .deb -------------------------------------------------------------------------------------------------
echo "== .deb: control fields"
field() { dpkg-deb --field "$DEB" "$1"; }
[ "$(field Package)" = tcpcraft ] || fail ".deb: Package is '$(field Package)'"
[ "$(field Section)" = net ] || fail ".deb: Section is '$(field Section)', want net"
field Depends | grep -qw libcap2-bin || fail ".deb: Depends '$(field Depends)' lacks libcap2-bin (setcap)"
field Depends | grep -qw libc6 || fail ".deb: Depends '$(field Depends)' lacks the shared-library deps (\$auto)"
field Recommends | grep -qw nftables || fail ".deb: Recommends '$(field Recommends)' lacks nftables"
ok ".deb: Package tcpcraft, Section net, Depends $(field Depends), Recommends $(field Recommends)"

echo "== .deb: dpkg-deb -x into a fresh root, then its own postinst with DPKG_ROOT"
ROOT="$WORK/deb-root"
CONTROL="$WORK/deb-control"
mkdir -p "$ROOT"
dpkg-deb -x "$DEB" "$ROOT"
dpkg-deb -e "$DEB" "$CONTROL"
[ -x "$CONTROL/postinst" ] || fail ".deb: the control area has no executable postinst (maintainer-scripts)"
ok ".deb: control area has postinst"
[ -z "$(getcap -r "$ROOT" 2>/dev/null)" ] || fail ".deb: files have capabilities before postinst ran"
DPKG_ROOT="$ROOT" "$CONTROL/postinst" configure || fail ".deb: postinst configure exited $?"
ok ".deb: postinst configure succeeded"
check_install ".deb" "$ROOT/usr" tcpcraft
DPKG_ROOT="$ROOT" "$CONTROL/postinst" configure >/dev/null || fail ".deb: a second postinst configure (upgrade) failed"
[ "$(caps_of "$ROOT/usr/bin/tcpcraft-link")" = "$WANT_CAPS" ] || fail ".deb: capabilities lost on re-configure"
ok ".deb: postinst is idempotent (re-configure on upgrade)"

echo "== .deb: postinst when setcap cannot work"
# Not allowed to set capabilities (an unprivileged user): a clear message and a non-zero exit.
NOPRIV="$WORK/deb-root-nobody"
mkdir -p "$NOPRIV/usr/bin"
cp "$ROOT/usr/bin/tcpcraft" "$NOPRIV/usr/bin/tcpcraft-link"
chown -R nobody "$NOPRIV"
if out=$(DPKG_ROOT="$NOPRIV" setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
    "$CONTROL/postinst" configure 2>&1); then
    fail ".deb: postinst succeeded although setcap could not run: $out"
fi
grep -q 'setcap cap_net_raw,cap_net_admin+eip /usr/bin/tcpcraft-link' <<<"$out" ||
    fail ".deb: postinst failed without saying how to fix it: $out"
ok ".deb: postinst fails clearly when setcap fails (and prints the fix)"
# A filesystem without xattrs (ramfs): the install goes on, with a warning that says how to fix it.
RAMFS="$WORK/ramfs"
mkdir -p "$RAMFS"
if mount -t ramfs tcpcraft-ramfs "$RAMFS" 2>/dev/null; then
    mkdir -p "$RAMFS/usr/bin"
    cp "$ROOT/usr/bin/tcpcraft" "$RAMFS/usr/bin/tcpcraft-link"
    out=$(DPKG_ROOT="$RAMFS" "$CONTROL/postinst" configure 2>&1) ||
        fail ".deb: postinst failed on a filesystem without xattrs (it must warn, not fail): $out"
    grep -q 'no extended attribute support' <<<"$out" || fail ".deb: no warning on a filesystem without xattrs: $out"
    umount "$RAMFS"
    RAMFS=
    ok ".deb: on a filesystem without xattrs postinst warns, says how to fix it, and does not fail the install"
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
dpkg_root() { dpkg --root="$DROOT" --force-script-chrootless --force-depends --log=/dev/null "$@"; }
dpkg_root -i "$DEB" >"$WORK/dpkg.log" 2>&1 || fail ".deb: dpkg -i into $DROOT failed: $(cat "$WORK/dpkg.log")"
got=$(getcap -r "$DROOT" 2>/dev/null | sed "s|^$DROOT/||" | tr -s ' ' | paste -sd' ' -)
[ "$got" = "usr/bin/tcpcraft-link cap_net_admin,cap_net_raw=eip" ] ||
    fail ".deb: after dpkg -i, files with capabilities are '$got', want only usr/bin/tcpcraft-link"
dpkg_root -r tcpcraft >"$WORK/dpkg.log" 2>&1 || fail ".deb: dpkg -r failed: $(cat "$WORK/dpkg.log")"
[ ! -e "$DROOT/usr/bin/tcpcraft-link" ] || fail ".deb: dpkg -r left usr/bin/tcpcraft-link behind"
ok ".deb: dpkg -i runs postinst (capabilities on the helper only) and dpkg -r removes everything"

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
"$T/install.sh" "$PREFIX" || fail "tarball: install.sh $PREFIX exited $?"
check_install "tarball" "$PREFIX" "$PREFIX/bin/tcpcraft"

echo "== tarball: install.sh into a user's prefix, unprivileged"
UPREFIX="$WORK/user-prefix"
install -d -o nobody "$UPREFIX"
chmod -R a+rX "$X"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$T/install.sh" "$UPREFIX" 2>&1) ||
    fail "tarball: unprivileged install.sh failed: $out"
grep -q "sudo setcap cap_net_raw,cap_net_admin+eip $UPREFIX/bin/tcpcraft-link" <<<"$out" ||
    fail "tarball: unprivileged install.sh does not print the setcap command: $out"
[ -z "$(getcap -r "$UPREFIX" 2>/dev/null)" ] || fail "tarball: an unprivileged install left capabilities"
ok "tarball: an unprivileged install copies the files and prints the one setcap command to run"

echo "== packaging test passed in $(($(date +%s) - START)) s ($(basename "$DEB") $(stat -c %s "$DEB") bytes," \
    "$(basename "$TAR") $(stat -c %s "$TAR") bytes; $PROFILE profile)"
echo "package: $passed passed, 0 failed"
