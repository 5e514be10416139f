#!/bin/bash
# After ../shared/device/stage.sh: trims the staged production node_modules so that the working
# tree plus .device/ fit the GPU machine's 64 MiB transfer limit. It drops what Node never loads
# at run time (source maps, type declarations, TypeScript sources, browser bundles, JSON schemas)
# and libvips (sharp), which only image-file datasets load, on first use.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
nm="$root/.device/node_modules"
[ -d "$nm" ] || { echo "no $nm: run bash ../shared/device/stage.sh first" >&2; exit 1; }
find "$nm" \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete
rm -rf "$nm/@img" "$nm/zod/src" "$nm/vega-lite/src" "$nm/vega-lite/build/src"
rm -f "$nm"/vega/build/{vega.js,vega.min.js,vega-core.js,vega-core.min.js,vega.module.js,vega-schema.json} \
      "$nm"/vega-lite/build/{vega-lite.min.js,vega-lite-schema.json}
du -sh "$root/.device" | sed 's/^/staged after pruning: /'
