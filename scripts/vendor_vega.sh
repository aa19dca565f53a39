#!/usr/bin/env bash
# Build .dvc/plots/offline.html: DVC's plot page with vega, vega-lite and vega-embed
# inlined (the versions DVC's default page loads from a CDN), so `dvc plots show`
# renders without internet. Needs npm (the npm registry) only when re-vendoring.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent vega@5.20.2 vega-lite@5.2.0 vega-embed@6.18.2 >/dev/null && for f in *.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done)
out=.dvc/plots/offline.html
mkdir -p "$(dirname "$out")"
{
  echo '<!DOCTYPE html>'
  echo '<html>'
  echo '<head>'
  echo '    {refresh_tag}'
  echo '    <meta charset="utf-8">'
  echo '    <title>PatNav — DVC plots</title>'
  echo '    <!-- vega 5.20.2, vega-lite 5.2.0, vega-embed 6.18.2 (BSD-3-Clause, University of Washington Interactive Data Lab), inlined by scripts/vendor_vega.sh -->'
  for js in vega-5.20.2/package/build/vega.min.js vega-lite-5.2.0/package/build/vega-lite.min.js vega-embed-6.18.2/package/build/vega-embed.min.js; do
    printf '    <script type="text/javascript">\n'
    cat "$tmp/$js"
    printf '\n    </script>\n'
  done
  echo '    <style>table { border-spacing: 15px; } body { font-family: sans-serif; }</style>'
  echo '</head>'
  echo '<body>'
  echo '    {plot_divs}'
  echo '</body>'
  echo '</html>'
} > "$out"
echo "wrote $out ($(wc -c < "$out") bytes)"
