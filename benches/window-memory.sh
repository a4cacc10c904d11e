#!/usr/bin/env bash
# The window's memory with a folder of large scans (Debian: xvfb, xdotool, imagemagick,
# mesa-vulkan-drivers). Makes COUNT copies of a 6000×4000 scan, opens them in the window under
# Xvfb, waits until every one is colorized (the process goes idle), and prints the time taken
# and the peak and final resident memory.
#   benches/window-memory.sh [BINARY] [COUNT]
set -euo pipefail
bin=${1:-target/release/tintype}
count=${2:-40}
work=$(mktemp -d)
Xvfb :96 -screen 0 1280x800x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb ${app:-} 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir "$work/scans"
convert "$(dirname "$0")/../assets/samples/walt-whitman.jpg" -resize '6000x4000!' -quality 90 "$work/scans/scan-0.jpg"
for i in $(seq 1 $((count - 1))); do cp "$work/scans/scan-0.jpg" "$work/scans/scan-$i.jpg"; done
export DISPLAY=:96 XDG_RUNTIME_DIR=$work TINTYPE_CONFIG_DIR=$work/config
sleep 1
start=$(date +%s)
"$bin" "$work/scans" >"$work/log" 2>&1 &
app=$!
# Idle: under 0.2 s of CPU time in each of three 2-second spells.
idle=0
prev=0
while sleep 2; do
  ticks=$(awk '{print $14 + $15}' "/proc/$app/stat")
  if [ $((ticks - prev)) -lt 20 ]; then idle=$((idle + 1)); else idle=0; fi
  prev=$ticks
  [ $idle -ge 3 ] && break
done
peak=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$app/status")
now=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$app/status")
echo "$count scans: $(($(date +%s) - start - 6)) s, peak RSS $peak MiB, at the end $now MiB"
