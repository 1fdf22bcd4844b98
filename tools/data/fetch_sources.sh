#!/usr/bin/env bash
# Downloads the packages the mini-VTAB sources come from into a scratch folder and rebuilds every committed
# file under sa2vp-zoo/src/main/resources/org/sa2vp/zoo/minivtab/ (see docs/DATA.md). Needs a Debian 12 apt
# source, the npm registry, and Debian's python3-pil + python3-numpy. CI never runs this: it reads the
# committed files only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work/debs" "$work/root"
cd "$work/debs"
apt-get download python3-sklearn=1.2.1+dfsg-1 python3-skimage=0.19.3-8 opencv-doc=4.6.0+dfsg-12
for deb in *.deb; do dpkg -x "$deb" "$work/root"; done
cd "$work"
npm pack emoji-datasource-twitter@16.0.0
mkdir -p "$work/emoji" && tar xzf emoji-datasource-twitter-16.0.0.tgz -C "$work/emoji"
/usr/bin/python3 "$here/make_minivtab_sources.py" \
    --system-root "$work/root" \
    --emoji-package "$work/emoji/package" \
    --out "$repo/sa2vp-zoo/src/main/resources/org/sa2vp/zoo/minivtab"
