#!/usr/bin/env bash
# Vendor the front-end assets (Leaflet, folium's plugins, Bootstrap, Font Awesome, Chart.js,
# GeographicLib's geodesic routines)
# into static/vendor/ so that every page works on an intranet with no internet access.
#
# Every package is fetched from the npm registry with `npm pack` at an exact, pinned version
# and its tarball is checked against the pinned sha512 integrity before anything is copied.
# Only the built dist files (minified JS/CSS), the images/fonts that the CSS references
# (found by parsing url(...) in the copied CSS) and each package's licence are kept.
# Source maps are not vendored, and the trailing `sourceMappingURL` comments are stripped so
# browser dev tools do not request missing .map files.
#
# Two files are not on npm:
#   * leaflet.awesome.rotate.min.css (folium's own `.fa-rotate-1 … .fa-rotate-360` classes)
#     is generated here; its licence is folium's, taken from the pinned folium wheel (PyPI).
#   * bootstrap-glyphicons.css (folium loads Bootstrap 3.0.0's glyphicons-only CSS for the
#     default Awesome Markers icon prefix "glyphicon") is cut out of bootstrap@3.4.1's
#     dist/css/bootstrap.css (the @font-face + .glyphicon rules) with its fonts.
#
# Usage:  scripts/vendor_assets.sh            (needs npm, python3 with pip, tar, unzip)
# Result: static/vendor/<package>/... , static/vendor/SHA256SUMS
# To bump a package: change its version AND integrity below (`npm view PKG@VER dist.integrity`),
# update the URL map in geodata/assets.py if folium changed its CDN URL, rerun, run the tests.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/static/vendor"
PYTHON="${PYTHON:-python3}"

FOLIUM_VERSION="0.20.0"
FOLIUM_WHEEL_SHA256="f0bc2a92acde20bca56367aa5c1c376c433f450608d058daebab2fc9bf8198bf"

# spec | sha512 integrity (as published in the npm registry)
PACKAGES=(
  "leaflet@1.9.3|sha512-iB2cR9vAkDOu5l3HAay2obcUHZ7xwUBBjph8+PGtmW/2lYhbLizWtG7nTeYht36WfOslixQF9D/uSIzhZgGMfQ=="
  "jquery@3.7.1|sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg=="
  "bootstrap@5.2.2|sha512-dEtzMTV71n6Fhmbg4fYJzQsw1N29hJKO1js5ackCgIpDcGid2ETMGC6zwSYw09v05Y+oRdQ9loC54zB1La3hHQ=="
  "bootstrap@3.4.1|sha512-yN5oZVmRCwe5aKwzRj6736nSmKDX7pLYwsXiCj/EYmo16hODaBiT4En5btW/jhBF/seV+XMx3aYwukYC3A49DA=="
  "@fortawesome/fontawesome-free@6.2.0|sha512-CNR7qRIfCwWHNN7FnKUniva94edPdyQzil/zCwk3v6k4R6rR2Fr8i4s3PM7n/lyfPA6Zfko9z5WDzFxG9SW1uQ=="
  "drmonty-leaflet-awesome-markers@2.0.2|sha512-g508pdnnHQr9l4kU6McvJzcSd0w1FvHFlZZCYc4oT+zjwYJi1qtj0fFBFEWMKoNfHK4UcBya1eccyjKfu4chjQ=="
  "leaflet.awesome-markers@2.0.5|sha512-Ne/xDjkGyaujwNVVkv2tyXQUV0ZW7gZ0Mo0FuQY4jp2qWrvXi0hwDBvmZyF/8YOvybyMabTMM/mFWCTd1jZIQA=="
  "leaflet.markercluster@1.1.0|sha512-eI+XkCiLiHwCC3uZ4/n4+Vq3rXcqEHN2lhHRVG1WVziy/3Q0TTipWkzEa1zO0dKZI2AnI5ppFDWrOjnQ7MJLKQ=="
  # leaflet-draw: not 1.0.3/1.0.4, they break rectangle drawing ("type is not defined", upstream #1026)
  "leaflet-draw@1.0.2|sha512-iCcbXE9okhwznoTXjxVjoGFoKeiWGsgmWPKrPAeHUvtWZWK4t6YF6815D13wZoMxX2UM6tOmD7/VofCxx3S0+w=="
  "leaflet.fullscreen@3.0.0|sha512-81wWSUXz1ZtdneR0v5eJDWXUSx+Zo5J50WXWeydG/UcILfIEAgz/iOjZSi3p00Z9MJ/FC/P5i3CgdYuEAos0yQ=="
  "leaflet-measure@2.1.7|sha512-IvoHIoVTIQSXUgaNnAMF17qXFB+dF5ICdwmY8BHyq/Hh33/xeGqQUUYlz0pRMzFN9NUcjsT6JBhCr1ia0CG5ug=="
  "chart.js@4.6.1|sha512-hJyniucsFmq//EvXYvJ6c6mahPoI3kaxdjVH8awTaJ/fDNWeSqqqArixMJWkWNN6fcYvPU3HneSANFNYtRi61g=="
  # geographiclib-geodesic: Karney's ellipsoidal polygon area in the browser, the same as pyproj's on the server
  "geographiclib-geodesic@2.2.0|sha512-cIedo9VTYb0DFufodgibDmVfsWe9EASqb/kUByl09xc6PZYvLvlc89BHCThtGTPf2OII/zWJGxsR3Uz6O7QOVw=="
)

for tool in npm tar unzip sha256sum "$PYTHON"; do
  command -v "$tool" >/dev/null || { echo "vendor_assets: '$tool' is required" >&2; exit 1; }
done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
OUT="$TMP/out"          # staging tree; replaces static/vendor/*/ only when everything worked
mkdir -p "$OUT" "$TMP/tgz" "$TMP/src"

log() { echo "vendor_assets: $*" >&2; }

# ---------------------------------------------------------------- fetch + verify + unpack
# SRC[<spec>] = unpacked package directory
declare -A SRC
for entry in "${PACKAGES[@]}"; do
  spec="${entry%%|*}"
  want="${entry#*|}"
  log "npm pack $spec"
  tgz_name="$(cd "$TMP/tgz" && npm pack "$spec" --silent --ignore-scripts --pack-destination "$TMP/tgz" | tail -n 1)"
  tgz="$TMP/tgz/$tgz_name"
  [[ -f "$tgz" ]] || { log "npm pack $spec produced no tarball"; exit 1; }
  got="sha512-$("$PYTHON" -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode())' "$tgz")"
  if [[ "$got" != "$want" ]]; then
    log "integrity mismatch for $spec: expected $want, got $got"
    exit 1
  fi
  dir="$TMP/src/${tgz_name%.tgz}"
  mkdir -p "$dir"
  tar -xzf "$tgz" -C "$dir" --warning=no-unknown-keyword
  SRC[$spec]="$dir/package"
done

# ---------------------------------------------------------------- helpers
# css_refs FILE: print the relative url(...) targets of a CSS file (no data:, no #fragment-only,
# query/fragment stripped); fail on an absolute http(s) or protocol-relative URL.
css_refs() {
  "$PYTHON" - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
seen = set()
for raw in re.findall(r"url\(\s*([^)]*?)\s*\)", text):
    url = raw.strip("'\"")
    if not url or url.startswith(("data:", "#")):
        continue
    if re.match(r"^(?:[a-z]+:)?//", url, re.I):
        sys.exit(f"external url in {sys.argv[1]}: {url}")
    url = re.split(r"[?#]", url, maxsplit=1)[0]
    if url not in seen:
        seen.add(url)
        print(url)
PY
}

# put SRC_FILE DEST_REL: copy one file into the staging tree.
put() {
  local src="$1" rel="$2"
  [[ -f "$src" ]] || { log "missing file in package: $src"; exit 1; }
  mkdir -p "$(dirname "$OUT/$rel")"
  cp "$src" "$OUT/$rel"
}

# put_css SRC_CSS DEST_REL: copy a CSS file plus every file its url(...)s reference,
# keeping the same relative layout so the references resolve.
put_css() {
  local src="$1" rel="$2" ref
  put "$src" "$rel"
  while IFS= read -r ref; do
    [[ -n "$ref" ]] || continue
    put "$(dirname "$src")/$ref" "$(dirname "$rel")/$ref"
  done < <(css_refs "$src")
}

# ---------------------------------------------------------------- copy the dist files
s="${SRC[leaflet@1.9.3]}"
put "$s/dist/leaflet.js" leaflet/leaflet.js
put_css "$s/dist/leaflet.css" leaflet/leaflet.css
# L.Icon.Default loads these from JS (path detected from the CSS), not via url(...)
put "$s/dist/images/marker-icon-2x.png" leaflet/images/marker-icon-2x.png
put "$s/dist/images/marker-shadow.png" leaflet/images/marker-shadow.png
put "$s/LICENSE" leaflet/LICENSE

s="${SRC[jquery@3.7.1]}"
put "$s/dist/jquery.min.js" jquery/jquery.min.js
put "$s/LICENSE.txt" jquery/LICENSE

s="${SRC[bootstrap@5.2.2]}"
put "$s/dist/js/bootstrap.bundle.min.js" bootstrap/js/bootstrap.bundle.min.js
put_css "$s/dist/css/bootstrap.min.css" bootstrap/css/bootstrap.min.css
put "$s/LICENSE" bootstrap/LICENSE

# Glyphicons (Bootstrap 3) for Awesome Markers' default prefix "glyphicon": the @font-face and
# .glyphicon* rules of bootstrap 3.4.1's CSS, which is what bootstrap-glyphicons.css held.
s="${SRC[bootstrap@3.4.1]}"
mkdir -p "$TMP/glyph"
{
  echo "/*! Glyphicons Halflings rules extracted from Bootstrap v3.4.1 dist/css/bootstrap.css"
  echo " * (c) 2011-2019 Twitter, Inc., MIT licence (see LICENSE); font by glyphicons.com,"
  echo " * included in Bootstrap with its author's permission. */"
  awk '/^@font-face \{/{p=1} /^\* \{/{p=0} p' "$s/dist/css/bootstrap.css"
} > "$TMP/glyph/bootstrap-glyphicons.css"
grep -q '^\.glyphicon-menu-up:before' "$TMP/glyph/bootstrap-glyphicons.css" \
  || { log "glyphicons extraction from bootstrap@3.4.1 failed"; exit 1; }
cp -r "$s/dist/fonts" "$TMP/fonts"   # = ../fonts as seen from the CSS
put_css "$TMP/glyph/bootstrap-glyphicons.css" bootstrap-glyphicons/css/bootstrap-glyphicons.css
put "$s/LICENSE" bootstrap-glyphicons/LICENSE

s="${SRC[@fortawesome/fontawesome-free@6.2.0]}"
put_css "$s/css/all.min.css" fontawesome-free/css/all.min.css
put "$s/LICENSE.txt" fontawesome-free/LICENSE

# Awesome Markers 2.0.2 (exact upstream dist that folium loads); that npm mirror ships no
# licence file, so the upstream MIT text is taken from the leaflet.awesome-markers package.
s="${SRC[drmonty-leaflet-awesome-markers@2.0.2]}"
put "$s/js/leaflet.awesome-markers.min.js" leaflet.awesome-markers/leaflet.awesome-markers.min.js
put_css "$s/css/leaflet.awesome-markers.css" leaflet.awesome-markers/leaflet.awesome-markers.css
put "${SRC[leaflet.awesome-markers@2.0.5]}/LICENSE" leaflet.awesome-markers/LICENSE

s="${SRC[leaflet.markercluster@1.1.0]}"
put "$s/dist/leaflet.markercluster.js" leaflet.markercluster/leaflet.markercluster.js
put_css "$s/dist/MarkerCluster.css" leaflet.markercluster/MarkerCluster.css
put_css "$s/dist/MarkerCluster.Default.css" leaflet.markercluster/MarkerCluster.Default.css
put "$s/MIT-LICENCE.txt" leaflet.markercluster/LICENSE

s="${SRC[leaflet-draw@1.0.2]}"
put "$s/dist/leaflet.draw.js" leaflet-draw/leaflet.draw.js
put_css "$s/dist/leaflet.draw.css" leaflet-draw/leaflet.draw.css
# The npm tarball has no licence file; this is upstream Leaflet.draw's MIT-LICENSE.md.
cat > "$OUT/leaflet-draw/LICENSE" <<'EOF'
Copyright 2012-2016 Jacob Toye and Leaflet

Permission is hereby granted, free of charge, to any person obtaining
a copy of this software and associated documentation files (the
"Software"), to deal in the Software without restriction, including
without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to
permit persons to whom the Software is furnished to do so, subject to
the following conditions:

The above copyright notice and this permission notice shall be
included in all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE
LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION
OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION
WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
EOF

s="${SRC[leaflet.fullscreen@3.0.0]}"
put "$s/Control.FullScreen.js" leaflet.fullscreen/Control.FullScreen.js   # 3.0.0 ships no .min.js
put_css "$s/Control.FullScreen.css" leaflet.fullscreen/Control.FullScreen.css
put "$s/LICENSE" leaflet.fullscreen/LICENSE

s="${SRC[leaflet-measure@2.1.7]}"
put "$s/dist/leaflet-measure.min.js" leaflet-measure/leaflet-measure.min.js
put_css "$s/dist/leaflet-measure.css" leaflet-measure/leaflet-measure.css
put "$s/LICENSE" leaflet-measure/LICENSE

s="${SRC[chart.js@4.6.1]}"
put "$s/dist/chart.umd.min.js" chart.js/chart.umd.min.js
put "$s/LICENSE.md" chart.js/LICENSE

s="${SRC[geographiclib-geodesic@2.2.0]}"
put "$s/geographiclib-geodesic.min.js" geographiclib-geodesic/geographiclib-geodesic.min.js
put "$s/LICENSE.txt" geographiclib-geodesic/LICENSE

# folium's leaflet.awesome.rotate.min.css: one rotation class per degree (1..360).
mkdir -p "$OUT/leaflet.awesome.rotate"
{
  printf '/* leaflet.awesome.rotate.css from folium %s (MIT, see LICENSE) */\n' "$FOLIUM_VERSION"
  for d in $(seq 1 360); do
    printf '.fa-rotate-%d{-ms-transform:rotate(%ddeg);-webkit-transform:rotate(%ddeg);transform:rotate(%ddeg)}\n' "$d" "$d" "$d" "$d"
  done
} > "$OUT/leaflet.awesome.rotate/leaflet.awesome.rotate.min.css"
log "pip download folium==$FOLIUM_VERSION (for its licence)"
"$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
  -d "$TMP/wheel" "folium==$FOLIUM_VERSION" 2> >(grep -v "is ignored" >&2)
wheel="$(ls "$TMP"/wheel/folium-"$FOLIUM_VERSION"-*.whl)"
echo "$FOLIUM_WHEEL_SHA256  $wheel" | sha256sum -c --quiet - \
  || { log "sha256 mismatch for $wheel"; exit 1; }
unzip -q -o "$wheel" "folium-$FOLIUM_VERSION.dist-info/licenses/LICENSE.txt" -d "$TMP/wheel"
cp "$TMP/wheel/folium-$FOLIUM_VERSION.dist-info/licenses/LICENSE.txt" "$OUT/leaflet.awesome.rotate/LICENSE"

# ---------------------------------------------------------------- post-process + install
# Drop `sourceMappingURL` comments (the maps are not vendored).
find "$OUT" -type f \( -name '*.js' -o -name '*.css' \) -print0 | xargs -0 sed -i \
  -e 's#/\*[#@] sourceMappingURL=[^*]*\*/##g' \
  -e 's#^//[#@] sourceMappingURL=.*$##'
if grep -rl 'sourceMappingURL' "$OUT" --include='*.js' --include='*.css'; then
  log "sourceMappingURL left in the files above"; exit 1
fi

mkdir -p "$DEST"
# Replace every package folder; top-level files we do not generate (README.md) are kept.
find "$DEST" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
cp -r "$OUT"/. "$DEST"/
(cd "$DEST" && find . -type f ! -name SHA256SUMS ! -name README.md -printf '%P\n' | LC_ALL=C sort \
  | xargs sha256sum > SHA256SUMS)

log "done: $(du -sh --apparent-size "$DEST" | cut -f1) in $DEST"
(cd "$DEST" && du -s --apparent-size -B1 ./*/ | sort -k2 >&2)
