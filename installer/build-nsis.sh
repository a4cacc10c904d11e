#!/usr/bin/env bash
# Builds the Windows installer target/packages/Tintype_<version>_x64-setup.exe (installer/
# tintype.nsi) around a Windows build of tintype.exe: MSVC on a Windows runner
# (.github/workflows/release.yml) or MinGW here (installer/check-windows.sh). Needs makensis
# (NSIS 3: Debian's nsis, or NSIS on Windows). Prints the installer's path.
# Usage: installer/build-nsis.sh path/to/tintype.exe
set -euo pipefail
exe=$(realpath "$1")
cd "$(dirname "$0")/.."
# makensis on Windows is a native program: give it C:/… paths, not Git Bash's /c/….
native() { if command -v cygpath >/dev/null; then cygpath -m "$1"; else echo "$1"; fi; }
makensis=$(command -v makensis || echo "/c/Program Files (x86)/NSIS/makensis.exe")
version=$(cargo pkgid | sed 's/.*[#@]//')
mkdir -p target/packages
out=$PWD/target/packages/Tintype_${version}_x64-setup.exe
"$makensis" -V2 -DVERSION="$version" -DEXE="$(native "$exe")" -DROOT="$(native "$PWD")" -DOUT="$(native "$out")" \
  installer/tintype.nsi >&2
echo "$out"
