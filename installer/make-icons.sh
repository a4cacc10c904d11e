#!/usr/bin/env bash
# Makes every icon file from assets/icon/tintype.svg: PNGs for Linux desktops, .ico for
# Windows, .icns for macOS. Installs its tools (Debian: librsvg2-bin, icoutils, icnsutils)
# when they are missing. The results are committed; run again after editing the SVG.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }
if ! need rsvg-convert || ! need icotool || ! need png2icns; then
  apt-get update -qq && apt-get install -y -qq librsvg2-bin icoutils icnsutils
fi

src=assets/icon/tintype.svg
out=assets/icon
mkdir -p "$out/png"
for size in 16 24 32 48 64 128 256 512 1024; do
  rsvg-convert -w "$size" -h "$size" "$src" -o "$out/png/tintype-$size.png"
done
icotool -c -o "$out/tintype.ico" "$out"/png/tintype-{16,24,32,48,64,128,256}.png
png2icns "$out/tintype.icns" "$out"/png/tintype-{16,32,128,256,512,1024}.png >/dev/null
echo "icons written to $out"
