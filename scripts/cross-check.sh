#!/usr/bin/env bash
# Keeps the Windows and macOS code paths compiling: cargo check and clippy for each target, installing the
# targets with rustup when missing. Usage: ./scripts/cross-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=(x86_64-pc-windows-gnu aarch64-apple-darwin x86_64-apple-darwin)
installed=$(rustup target list --installed)
for t in "${TARGETS[@]}"; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
for t in "${TARGETS[@]}"; do
  echo "== cargo clippy --target $t"
  cargo clippy --locked --lib --bins --target "$t" -- -D warnings
done
echo "== cross-check passed for ${TARGETS[*]}"
