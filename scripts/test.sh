#!/usr/bin/env bash
# The whole test suite: installs what it needs (Debian/Ubuntu), then format, lints and every test.
# Usage: ./scripts/test.sh        (CI=true makes any skipped test a failure)
set -euo pipefail
cd "$(dirname "$0")/.."

# --- system packages the tests use -------------------------------------------------------------------------
# python3-scapy: the byte-for-byte oracle for the wire layer.
# iproute2, nftables, tcpdump, tshark: network-namespace tests and capture checks.
# util-linux: unshare, nsenter and setpriv for the namespace and privilege tests.
PACKAGES=(python3-scapy iproute2 nftables tcpdump tshark util-linux)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else SUDO=(none); fi
  if [ "${SUDO[0]:-}" = none ]; then
    echo "!!! missing packages ${missing[*]} and no root or sudo to install them: tests that need them will skip" >&2
  else
    echo "== installing ${missing[*]}"
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# --- toolchain components -----------------------------------------------------------------------------------
for c in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
done

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings
echo "== cargo test"
# Raw-socket tests record that they really ran (inside their own network namespaces) in target/raw-tests-ran.
rm -rf target/raw-tests-ran
cargo test --locked --all-targets --no-fail-fast 2>&1 | tee target/test.log
# Doc tests run separately (--all-targets skips them).
cargo test --locked --doc

if grep -q '\*\*\* SKIPPED' target/test.log; then
  echo "!!! some tests were skipped (see *** SKIPPED lines above)" >&2
fi

# Every test that enters a network namespace must have left its marker; under CI a missing one fails the run.
missing_raw=0
for t in $(grep -ho 'netns::enter("[A-Za-z0-9_:]*")' tests/*.rs tests/*/*.rs | sed 's/.*("\(.*\)")/\1/' | sort -u); do
  if [ ! -f "target/raw-tests-ran/$t" ]; then
    echo "!!! raw-socket test did not run: $t" >&2
    missing_raw=1
  fi
done
ran=$(ls target/raw-tests-ran 2>/dev/null | wc -l)
echo "== raw-socket tests that ran in their own network namespaces: $ran"
if [ "$missing_raw" = 1 ] && [ "${CI:-}" = true ]; then
  echo "!!! CI=true: raw-socket tests must run (CI runs as root)" >&2
  exit 1
fi
# Packaging: the .deb and the tarball from the debug build, installed into fresh roots (helper alone gets
# capabilities, desktop file validates). Needs root; under CI=true it must run.
echo "== packaging test"
./scripts/test-package.sh
echo "== all tests passed"
