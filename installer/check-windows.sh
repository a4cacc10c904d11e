#!/usr/bin/env bash
# Checks the Windows build without Windows: cross-compiles it (x86_64-pc-windows-gnu, MinGW),
# then under Wine colorizes the samples and a broken file with the built-in model and checks
# that the pictures are the Linux build's pixel for pixel and that the broken file is reported
# by name while the others are written; then, laid out as installed, where it finds the
# built-in model and puts downloaded ones; then it builds the installer around it
# (installer/build-nsis.sh), installs it silently, runs the installed program and uninstalls
# it. TESTS=1 also runs the test suite under Wine; with WINDOW=1 it opens the window on Xvfb,
# opens a second photo as Explorer would (handed to that window) and takes a screenshot
# ($out/window.png). The release workflow builds the program with MSVC on a Windows runner and
# the same installer around it; this catches what breaks either early.
# Debian: apt install gcc-mingw-w64-x86-64 wine64 nsis imagemagick (xvfb xdotool for WINDOW=1).
# Usage: installer/check-windows.sh [out-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-target/windows-check}")
target=x86_64-pc-windows-gnu
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
cargo build --release --locked
cargo build --release --locked --target "$target"
exe=target/$target/release/tintype.exe
wine=$(command -v wine64 || echo /usr/lib/wine/wine64)

rm -rf "$out"; mkdir -p "$out/in"
export WINEPREFIX="$out/wineprefix" WINEDEBUG=-all
# Wine before 9 lacks bcryptprimitives.dll, which Rust's standard library imports; a stand-in
# beside the exe (for Wine only, never shipped) answers its one function.
shim=$(dirname "$exe")/bcryptprimitives.dll
if ! "$wine" "$exe" --version >/dev/null 2>&1; then
  x86_64-w64-mingw32-gcc -shared -O2 -o "$shim" installer/wine/bcryptprimitives.c -ladvapi32
fi
"$wine" "$exe" --version

cp assets/samples/*.jpg "$out/in/"
echo "not a picture" >"$out/in/broken.jpg"
set +e
"$wine" "$exe" colorize "$out/in" -o "$out/windows" 2>&1 | tee "$out/windows.log"
target/release/tintype colorize "$out/in" -o "$out/linux" >/dev/null 2>&1
set -e
grep -q 'broken.jpg: not a picture' "$out/windows.log"
for png in "$out"/linux/in/*.png; do
  name=$(basename "$png")
  differing=$(compare -metric AE "$png" "$out/windows/in/$name" null: 2>&1 || true)
  echo "$name: $differing pixels differ between the Windows and Linux builds"
  [ "$differing" = 0 ]
done
[ "$(ls "$out/windows/in" | wc -l)" = "$(ls assets/samples/*.jpg | wc -l)" ]

# The installed layout (installer/tintype.nsi's): the built-in model is found beside the
# program and shown as a plain path; downloaded models go to Local AppData, not the roaming
# profile.
mkdir -p "$out/install/models"
cp "$exe" "$out/install/"
[ ! -f "$shim" ] || cp "$shim" "$out/install/"
cp models/compact.safetensors "$out/install/models/"
"$wine" "$out/install/tintype.exe" models list | tee "$out/models.log"
grep -F 'AppData\Local\Tintype\data\models' "$out/models.log" >/dev/null
grep -F 'install\models\compact.safetensors' "$out/models.log" | grep -vF '\\?\' >/dev/null

# The installer (installer/tintype.nsi), run silently: the program, the built-in model and the
# samples land in Local AppData\Programs\Tintype with a Start menu entry, "Open with" for photos
# and an uninstall entry; the installed program colorizes a sample with the built-in model, as
# the Linux build does; the uninstaller takes all of that away and leaves the user's downloaded
# models where they are.
# Stripped, as a release's program is (MSVC keeps the line tables in a .pdb; MinGW, in the exe).
x86_64-w64-mingw32-strip -o "$out/tintype.exe" "$exe"
setup=$(installer/build-nsis.sh "$out/tintype.exe")
[ ! -f "$shim" ] || cp "$shim" "$WINEPREFIX/drive_c/windows/system32/"
"$wine" "$setup" /S
wineserver -w
unix() { winepath -u "$("$wine" cmd /c echo "$1" | tr -d '\r"')"; }  # (Wine quotes an argument with spaces)
installed=$(unix '%LOCALAPPDATA%\Programs\Tintype')
shortcut=$(unix '%APPDATA%\Microsoft\Windows\Start Menu\Programs\Tintype.lnk')
kept=$(unix '%LOCALAPPDATA%\Tintype\data\models')/downloaded.safetensors
for f in tintype.exe uninstall.exe LICENSE models/compact.safetensors models/compact.md samples/walt-whitman.jpg; do
  [ -f "$installed/$f" ] || { echo "the installer did not install $f"; exit 1; }
done
[ -f "$shortcut" ]
uninstall_key='HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\Tintype'
"$wine" reg query "$uninstall_key" /v QuietUninstallString | grep -F 'uninstall.exe" /S'
"$wine" reg query 'HKCU\Software\Classes\.jpg\OpenWithProgids' /v Tintype.Photo >/dev/null
"$wine" "$installed/tintype.exe" models list | grep -F 'Programs\Tintype\models\compact.safetensors'
"$wine" "$installed/tintype.exe" colorize "$installed/samples/walt-whitman.jpg" -o "$out/installed"
[ "$(compare -metric AE "$out/linux/in/walt-whitman.png" "$out/installed/walt-whitman.png" null: 2>&1 || true)" = 0 ]
mkdir -p "$(dirname "$kept")" && echo "a model the user downloaded" >"$kept"
"$wine" "$installed/uninstall.exe" /S
wineserver -w  # the uninstaller runs from a copy of itself in Temp
[ ! -e "$installed" ] || { echo "left behind:"; find "$installed"; exit 1; }
[ ! -e "$shortcut" ]
! "$wine" reg query "$uninstall_key" >/dev/null 2>&1
! "$wine" reg query 'HKCU\Software\Classes\.jpg\OpenWithProgids' /v Tintype.Photo >/dev/null 2>&1
[ -f "$kept" ]
echo "the installer installs, runs and uninstalls: $setup"

# TESTS=1: the test suite too, run under Wine, but for tests/app.rs (Wine gives wgpu no
# adapter for egui_kittest's offscreen rendering); about 10 minutes.
if [ "${TESTS:-0}" = 1 ]; then
  cargo test --release --locked --target "$target" --no-run
  [ ! -f "$shim" ] || cp "$shim" "$(dirname "$exe")/deps/"
  suites=()
  for t in tests/*.rs; do
    name=$(basename "$t" .rs)
    [ "$name" = app ] || suites+=(--test "$name")
  done
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine" cargo test --release --locked --target "$target" --lib "${suites[@]}"
fi

if [ "${WINDOW:-0}" = 1 ]; then
  Xvfb :93 -screen 0 1280x800x24 >/dev/null 2>&1 &
  xvfb=$!
  trap 'kill $xvfb 2>/dev/null || true' EXIT
  sleep 1
  DISPLAY=:93 "$wine" "$exe" assets/samples/walt-whitman.jpg >"$out/window.log" 2>&1 &
  sleep 40  # Wine's start, a failed first backend (see window.log), the sample colorized
  # A photo opened while the window is open (as Explorer's "Open with" does) is handed to it:
  # that process ends, and no second window opens.
  DISPLAY=:93 timeout 60 "$wine" "$exe" assets/samples/migrant-mother.jpg
  sleep 15
  [ "$(DISPLAY=:93 xdotool search --onlyvisible --name 'Tintype$' | wc -l)" = 1 ]
  win=$(DISPLAY=:93 xdotool search --onlyvisible --name 'Tintype$' | tail -n 1)
  DISPLAY=:93 import -window "$win" "$out/window.png"
  DISPLAY=:93 xdotool windowclose "$win" || true
  cat "$out/window.log"
  echo "window: $out/window.png"
fi
echo "the Windows build colorizes as the Linux build does"
