#!/usr/bin/env bash
# Takes the README's screenshots of the real window under Xvfb (Debian: xvfb, xdotool,
# imagemagick, mesa-vulkan-drivers): the split view, the brush, side by side, the
# render-size sheet, and the crop frame on a scan with the scanner's lid around an askew print.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
out=docs/screenshots
mkdir -p "$out"
work=$(mktemp -d)
Xvfb :98 -screen 0 1400x900x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb ${app:-} 2>/dev/null || true; rm -rf "$work"' EXIT
export DISPLAY=:98 XDG_RUNTIME_DIR=$work TINTYPE_CONFIG_DIR=$work/config
sleep 1
# A flatbed scan: the portrait askew and off centre on the lid's grainy white.
convert assets/samples/walt-whitman.jpg -background 'rgb(243,242,236)' -rotate 3 -gravity northwest -splice 150x70 \
  -gravity southeast -splice 260x150 -attenuate 0.25 +noise Gaussian "$work/scan.jpg"
./target/release/tintype assets/samples/migrant-mother.jpg assets/samples/walt-whitman.jpg "$work/scan.jpg" \
  >"$work/log" 2>&1 &
app=$!
sleep 20  # the photos colorized
win=$(xdotool search --name 'Tintype$' | head -n 1)
shot() { import -window "$win" "$out/$1.png"; }
shot split
# The brush over the red smear on Migrant Mother's knee.
xdotool windowfocus --sync "$win" key b; sleep 0.5
xdotool mousemove 626 402 mousedown 1
for i in $(seq 1 12); do xdotool mousemove $((626 + i * 4)) $((402 - i * 2)); sleep 0.03; done
xdotool mouseup 1; sleep 2
shot brush
xdotool windowfocus --sync "$win" key Escape; sleep 0.5
xdotool mousemove 567 12 click 1; sleep 1          # Side by side
xdotool mousemove 120 135 click 1; sleep 2         # the second photo
shot side-by-side
xdotool mousemove 496 12 click 1; sleep 1          # back to Split
xdotool mousemove 985 173 click 1; sleep 40        # Compare render sizes…
shot render-sizes
xdotool windowfocus --sync "$win" key Escape; sleep 0.5
xdotool mousemove 120 197 click 1; sleep 1         # the scan
xdotool windowfocus --sync "$win" key c; sleep 0.5
xdotool mousemove 418 43 click 1; sleep 1          # Find the print
shot crop
echo "screenshots in $out"
