#!/usr/bin/env bash
# Checks the macOS build without a Mac, as far as that goes: type-checks the Metal build
# (aarch64-apple-darwin, --features metal) with its tests and benches, using zig as the C
# compiler (cargo-zigbuild: ring's C code wants a macOS C library's headers, which zig carries).
# It neither links (Apple's frameworks are not here) nor runs anything: the release workflow
# builds and packages the app on a macOS runner; this catches code that breaks that build early.
# Needs, online once: pip (the ziglang package) and cargo install (cargo-zigbuild).
# Usage: installer/check-macos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-apple-darwin
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
tools=target/macos-check-tools
if ! "$tools/venv/bin/python" -c 'import ziglang' 2>/dev/null; then
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install -q ziglang==0.17.1
fi
command -v cargo-zigbuild >/dev/null || cargo install --locked cargo-zigbuild@0.24.1
# cargo-zigbuild finds zig as `python3 -m ziglang`, through the venv first on PATH.
PATH="$PWD/$tools/venv/bin:$PATH" \
  cargo-zigbuild check --release --locked --target "$target" --features metal --all-targets
echo "the Metal build type-checks for $target (not linked, not run)"
