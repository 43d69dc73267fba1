#!/usr/bin/env bash
# Installs the Debian packages Qt needs (offscreen tests, Xvfb screenshots) when missing.
# Usage: scripts/system_deps.sh [--xvfb]
# Qt's xcb plugin under Xvfb also needs libxcb-icccm4 and libxcb-keysyms1 (Qt's own
# error message wrongly blames libxcb-cursor0); without fonts-dejavu-core text renders
# as empty boxes with no warning.
set -eu
pkgs="libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 fonts-dejavu-core
xvfb libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
libxcb-render-util0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-xfixes0
time"  # GNU time: benchmarks/memory_peak.py reads the peak memory from time -v
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "nndesk: Qt needs these system packages, and this machine has no apt-get:$missing" >&2
    echo "nndesk: install their equivalents with your package manager, then run again." >&2
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    echo "nndesk: Qt needs these system packages:$missing" >&2
    echo "nndesk: run 'sudo apt-get install -y$missing' and try again." >&2
    exit 1
fi
echo "nndesk: installing system packages for Qt:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
