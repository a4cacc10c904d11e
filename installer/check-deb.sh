#!/usr/bin/env bash
# Checks a built .deb the way a user meets it: installs it into a throwaway root with dpkg,
# runs the installed program (version, the built-in model, a sample colorized offline),
# validates the desktop entry, checks that every shared library the running app maps is
# covered by Depends (or Recommends, for GPU drivers), then purges it and checks that nothing
# is left behind. Usage: installer/check-deb.sh path/to/tintype_*.deb
set -euo pipefail
deb=$(realpath "$1")
cd "$(dirname "$0")/.."

need=()
command -v desktop-file-validate >/dev/null || need+=(desktop-file-utils)
command -v Xvfb >/dev/null || need+=(xvfb)
command -v file >/dev/null || need+=(file)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

work=$(mktemp -d)
trap 'kill "${xvfb_pid:-}" "${app_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"

echo "== package fields"
dpkg-deb --field "$deb" Package Version Architecture Maintainer Depends Recommends
dpkg-deb --contents "$deb" | awk '{print $6}' | grep -qx './usr/share/tintype/samples/walt-whitman.jpg'
dpkg-deb --contents "$deb" | awk '{print $6}' | grep -qx './usr/share/tintype/models/compact.safetensors'

echo "== install into $root"
# The throwaway root has no other packages: its dependencies are checked below instead.
dpkg --root="$root" --force-depends --force-script-chrootless --log=/dev/null -i "$deb" >/dev/null
bin="$root/usr/bin/tintype"

echo "== installed program"
# Stripped: the line tables (most of target/release/tintype) are for development backtraces.
if readelf -S "$bin" | grep -qE '\.debug_(info|line) '; then echo "$bin carries debug sections: not stripped" >&2; exit 1; fi
"$bin" --version
"$bin" --version | grep -qF "tintype $(dpkg-deb --field "$deb" Version | sed 's/-[0-9]*$//')"
# The built-in model is the installed copy, not the source tree's.
HOME="$work/home" "$bin" models list | tee "$work/models.txt"
grep -qF "built in: $root/usr/share/tintype/models/compact.safetensors" "$work/models.txt"
HOME="$work/home" "$bin" colorize "$root/usr/share/tintype/samples/walt-whitman.jpg" -o "$work/out"
file "$work/out/walt-whitman.png" | grep -q 'PNG image data, 768 x 621'

echo "== desktop entry"
desktop-file-validate "$root/usr/share/applications/tintype.desktop"
grep -qx 'Exec=tintype %F' "$root/usr/share/applications/tintype.desktop"
test -f "$root/usr/share/icons/hicolor/256x256/apps/tintype.png"
test -f "$root/usr/share/icons/hicolor/scalable/apps/tintype.svg"

echo "== shared libraries the running app maps"
Xvfb :77 -screen 0 1280x800x24 >/dev/null 2>&1 &
xvfb_pid=$!
sleep 2
DISPLAY=:77 HOME="$work/home" XDG_RUNTIME_DIR="$work" "$bin" "$root/usr/share/tintype/samples/walt-whitman.jpg" >"$work/app.log" 2>&1 &
app_pid=$!
sleep 10
kill -0 "$app_pid" || { cat "$work/app.log"; echo "the app did not stay up" >&2; exit 1; }
awk '$6 ~ /\.so/ {print $6}' "/proc/$app_pid/maps" | sort -u >"$work/libs.txt"
kill "$app_pid"; wait "$app_pid" 2>/dev/null || true
python3 installer/check_depends.py "$deb" "$work/libs.txt"

echo "== purge"
dpkg --root="$root" --force-script-chrootless --log=/dev/null --purge tintype >/dev/null
left=$(find "$root" -mindepth 1 -not -path "$root/var" -not -path "$root/var/lib" -not -path "$root/var/lib/dpkg*")
if [ -n "$left" ]; then
  echo "left behind after purge:" >&2; echo "$left" >&2; exit 1
fi
echo "deb checks passed"
