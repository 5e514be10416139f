#!/usr/bin/env bash
# CI: the Debian 13 ("trixie") root the libtorch 2.6 step runs in, made with mmdebstrap from
# TRIXIE_PACKAGES (debian-apt.sh) and cached in $CI_CACHE/trixie-root for later runs on the machine.
#   trixie-root.sh tools   only installs mmdebstrap on the host (from its own Debian 12 sources)
#   trixie-root.sh         makes the root unless a complete one is cached
# .ci/run makes it in the background while the host's tests run: it is network and disk, not CPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/steps/debian-apt.sh

root=$CI_CACHE/trixie-root
[ "$(id -u)" = 0 ] || { echo "the Debian 13 root needs root (mmdebstrap and chroot)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
[ ! -f "$root/.trajmatch-ci-complete" ] || exit 0
if ! command -v mmdebstrap >/dev/null; then
  apt-get install -y -q --no-install-recommends mmdebstrap >/dev/null \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends mmdebstrap >/dev/null; }
fi
[ "${1:-}" != tools ] || exit 0
echo "making a Debian 13 root in $root (once per machine)"
rm -rf "$root.partial" && mkdir -p "$CI_CACHE"
# Built beside the final place and renamed when complete: an interrupted run leaves no half root.
mmdebstrap --quiet --variant=apt --components=main \
  --include="$(IFS=,; echo "${TRIXIE_PACKAGES[*]}")" \
  trixie "$root.partial" "$DEBIAN_MIRROR"
touch "$root.partial/.trajmatch-ci-complete"
rm -rf "$root" && mv "$root.partial" "$root"
