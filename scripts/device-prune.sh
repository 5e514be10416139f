#!/bin/bash
# Makes the project's production node_modules small enough to travel with the working tree to a
# machine without network access (a GPU machine with a transfer limit, 64 MiB for ours):
#   bash scripts/device-prune.sh [folder]      (default .device/node_modules, git-ignored)
# When the folder does not exist it is filled first with the production dependencies only
# (npm ci --omit=dev --ignore-scripts in a scratch copy of package.json and package-lock.json: the
# addon is compiled on the target machine). Then it drops what Node never loads at run time
# (source maps, type declarations, TypeScript sources, browser bundles, JSON schemas) and
# libvips (sharp), which only image-folder datasets load, on first use.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
nm=${1:-$root/.device/node_modules}
if [ ! -d "$nm" ]; then
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  cp "$root/package.json" "$root/package-lock.json" "$stage/"
  (cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null)
  mkdir -p "$(dirname "$nm")"
  mv "$stage/node_modules" "$nm"
  echo "staged the production dependencies in $nm: $(du -sh "$nm" | cut -f1)"
fi
[ -d "$nm/cmake-js" ] || { echo "$nm does not look like the project's production node_modules (no cmake-js)" >&2; exit 1; }
find "$nm" \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete
rm -rf "$nm/@img" "$nm/zod/src" "$nm/vega-lite/src" "$nm/vega-lite/build/src"
rm -f "$nm"/vega/build/{vega.js,vega.min.js,vega-core.js,vega-core.min.js,vega.module.js,vega-schema.json} \
      "$nm"/vega-lite/build/{vega-lite.min.js,vega-lite-schema.json}
du -sh "$nm" | sed 's/^/after pruning: /'
