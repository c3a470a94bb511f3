#!/usr/bin/env bash
# Builds the Linux packages: the .deb (cargo-deb, metadata in Cargo.toml) and a tarball with install.sh
# (packaging/linux/tarball/). Release builds land in target/package/, other profiles in target/package/PROFILE/
# (a dev build is for tests, not for shipping).
#
#   ./scripts/package-linux.sh                   # release build (about 6 minutes cold on 2 cores)
#   ./scripts/package-linux.sh --profile dev     # reuse the debug build; also TCPCRAFT_PACKAGE_PROFILE=dev
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=${TCPCRAFT_PACKAGE_PROFILE:-release}
while [ $# -gt 0 ]; do
    case "$1" in
    --profile)
        PROFILE=${2:?--profile needs a value: release or dev}
        shift 2
        ;;
    --profile=*)
        PROFILE=${1#--profile=}
        shift
        ;;
    -h | --help)
        sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "package-linux.sh: unknown argument '$1' (try --help)" >&2
        exit 2
        ;;
    esac
done

TARGET_DIR=${CARGO_TARGET_DIR:-target}
case "$PROFILE" in
release) OUT="$TARGET_DIR/package" BIN_DIR="$TARGET_DIR/release" ;;
dev | debug) PROFILE=dev OUT="$TARGET_DIR/package/dev" BIN_DIR="$TARGET_DIR/debug" ;;
*) OUT="$TARGET_DIR/package/$PROFILE" BIN_DIR="$TARGET_DIR/$PROFILE" ;;
esac

# --- tools ----------------------------------------------------------------------------------------------------
# dpkg-shlibdeps (dpkg-dev) computes the shared-library Depends ($auto in Cargo.toml).
if ! command -v dpkg-shlibdeps >/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
        echo "package-linux.sh: dpkg-shlibdeps is missing: install dpkg-dev" >&2
        exit 1
    fi
    echo "== installing dpkg-dev"
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null
fi
# Pinned, because cargo-deb says it will stop accepting the dev profile some day (3.8.0 only warns).
CARGO_DEB_VERSION=3.8.0
if ! cargo deb --version >/dev/null 2>&1; then
    echo "== cargo install cargo-deb $CARGO_DEB_VERSION"
    cargo install cargo-deb --locked --version "$CARGO_DEB_VERSION"
fi

# --- build ----------------------------------------------------------------------------------------------------
echo "== cargo build --profile $PROFILE --bins"
cargo build --locked --profile "$PROFILE" --bins

VERSION=$(cargo pkgid | sed 's/.*[@#]//')
ARCH=$(uname -m)
mkdir -p "$OUT"
rm -f "$OUT"/tcpcraft_*.deb "$OUT"/tcpcraft-*-linux.tar.gz

# --- .deb -----------------------------------------------------------------------------------------------------
echo "== cargo deb --profile $PROFILE"
deb=$(cargo deb --no-build --profile "$PROFILE" --output "$OUT/" | tail -n 1)
[ -f "$deb" ] || {
    echo "package-linux.sh: cargo deb did not report a .deb (got '$deb')" >&2
    exit 1
}

# --- tarball --------------------------------------------------------------------------------------------------
name="tcpcraft-$VERSION-$ARCH-linux"
stage="$OUT/stage"
rm -rf "$stage"
root="$stage/$name"
install -d "$root/bin" "$root/share/applications" "$root/share/icons/hicolor/256x256/apps"
install -m 755 "$BIN_DIR/tcpcraft" "$BIN_DIR/tcpcraft-link" "$root/bin/"
if command -v strip >/dev/null; then strip "$root/bin/tcpcraft" "$root/bin/tcpcraft-link"; fi
install -m 644 assets/tcpcraft.desktop "$root/share/applications/"
install -m 644 assets/icon.png "$root/share/icons/hicolor/256x256/apps/tcpcraft.png"
install -m 644 README.md packaging/linux/tarball/INSTALL "$root/"
install -m 755 packaging/linux/tarball/install.sh "$root/"
# Same bytes for the same commit: sorted, owned by root, dated at the last commit.
epoch=$(git log -1 --format=%ct 2>/dev/null || date +%s)
tarball="$OUT/$name.tar.gz"
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -cf - "$name" |
    gzip -9n >"$tarball"
rm -rf "$stage"

echo "== packages ($PROFILE profile)"
for f in "$deb" "$tarball"; do
    printf '  %s  %s bytes\n' "$f" "$(stat -c %s "$f")"
done
