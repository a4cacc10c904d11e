#!/usr/bin/env bash
# Builds the .rpm (same files as the .deb) with cargo-generate-rpm, a crates.io tool; prints
# its path. Built and listed in CI; installing it needs an RPM-based system, which CI is not.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=0.21.1
if ! cargo generate-rpm --version 2>/dev/null | grep -qF "$VERSION"; then
  cargo install cargo-generate-rpm --version "=$VERSION" --locked >&2
fi
cargo build --release --locked >&2
# cargo-generate-rpm packs files as they are; strip the line tables as cargo-deb does.
mkdir -p target/rpm-staging
strip --strip-unneeded -o target/rpm-staging/tintype target/release/tintype
cargo generate-rpm >&2
ls -t target/generate-rpm/tintype-*.rpm | head -n 1
