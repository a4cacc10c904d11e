#!/usr/bin/env bash
# Makes every icon file from assets/icon/tintype.svg: PNGs for Linux desktops, .ico for
# Windows, .icns for macOS, and the Windows installer's sidebar picture. Installs its tools
# (Debian: librsvg2-bin, icoutils, icnsutils, imagemagick) when they are missing. The results
# are committed; run again after editing the SVG.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }
if ! need rsvg-convert || ! need icotool || ! need png2icns || ! need convert; then
  apt-get update -qq && apt-get install -y -qq librsvg2-bin icoutils icnsutils imagemagick
fi

src=assets/icon/tintype.svg
out=assets/icon
mkdir -p "$out/png"
for size in 16 24 32 48 64 128 256 512 1024; do
  rsvg-convert -w "$size" -h "$size" "$src" -o "$out/png/tintype-$size.png"
done
icotool -c -o "$out/tintype.ico" "$out"/png/tintype-{16,24,32,48,64,128,256}.png
png2icns "$out/tintype.icns" "$out"/png/tintype-{16,32,128,256,512,1024}.png >/dev/null
# The welcome and finish pages' 164 × 314 bitmap (installer/tintype.nsi), on the dark theme's grey.
convert -size 164x314 xc:'#1b1b1b' "$out/png/tintype-128.png" -geometry +18+60 -composite \
  -fill '#dddddd' -font DejaVu-Sans -pointsize 20 -gravity north -annotate +0+200 Tintype \
  -type TrueColor BMP3:"$out/installer-sidebar.bmp"
echo "icons written to $out"
