#!/usr/bin/env bash
# Builds the Linux package target/debian/tintype_<version>_<arch>.deb from a clean checkout:
# installs its tool (cargo-deb, pinned) when missing, builds the release binary, packs it
# with the built-in model, the samples, the icon and the desktop entry (see
# [package.metadata.deb] in Cargo.toml). Prints the package's path.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DEB_VERSION=3.8.0
if ! cargo deb --version 2>/dev/null | grep -qF "$CARGO_DEB_VERSION"; then
  cargo install cargo-deb --version "=$CARGO_DEB_VERSION" --locked >&2
fi
cargo build --release --locked >&2
cargo deb --no-build --locked --strip >&2
ls -t target/debian/tintype_*.deb | head -n 1
