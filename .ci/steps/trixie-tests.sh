#!/usr/bin/env bash
# CI step: the full build and test suite against libtorch 2.x, as Debian 13 ("trixie") packages it
# (libtorch-dev 2.6), in a Debian 13 root made with mmdebstrap and entered with chroot. The host
# system stays as it is: its apt sources and packages are not touched (mmdebstrap itself is
# installed from the host's own Debian 12 sources when missing), and everything mounted for the
# chroot is unmounted on exit.
# The root is cached in $CI_CACHE/trixie-root and reused by later runs on the same machine; a root
# that lacks a package of TRIXIE_PACKAGES gets it installed, a half-made one is made again.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/steps/debian-apt.sh

root=$CI_CACHE/trixie-root
[ "$(id -u)" = 0 ] || { echo "this step needs root (mmdebstrap and chroot)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
bash .ci/steps/trixie-root.sh   # made already when .ci/run started it in the background

mounts=()
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
bind() { mkdir -p "$2" && mount --bind "$1" "$2" && mounts+=("$2"); }
mkdir -p "$root/proc" "$root/sys" "$root/dev"
mount -t proc proc "$root/proc" && mounts+=("$root/proc")
mount -t sysfs sys "$root/sys" && mounts+=("$root/sys")
bind /dev "$root/dev"
# a bind of /dev leaves out the file systems mounted under it: pseudo-terminals (tmux in the
# terminal test, apt's log) and shared memory come in on their own
bind /dev/pts "$root/dev/pts"
bind /dev/shm "$root/dev/shm"
# The root reaches the network as the host does: its resolver, its certificate authorities (a
# proxy that inspects TLS has its own, which the host trusts), its proxy and npm registry settings.
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
net_env=()
host_ca=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
if [ -f "$host_ca" ]; then
  mkdir -p "$root/build" && cp -L "$host_ca" "$root/build/host-ca.crt"
  net_env+=(NODE_EXTRA_CA_CERTS=/build/host-ca.crt npm_config_cafile=/build/host-ca.crt)
fi
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  [ -z "${!v:-}" ] || net_env+=("$v=${!v}")
done
registry=$(npm config get registry 2>/dev/null || true)
[ -z "$registry" ] || net_env+=("npm_config_registry=$registry")

in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 CI="${CI:-}" DEBIAN_FRONTEND=noninteractive "${net_env[@]}" "$@"; }

# Packages added to TRIXIE_PACKAGES since the root was made.
missing=()
for p in "${TRIXIE_PACKAGES[@]}"; do
  in_root dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} in the Debian 13 root"
  in_root apt-get update -q >/dev/null
  in_root apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# The project's files as git sees them (tracked, and new files not ignored), without the host's
# build outputs and node_modules; npm's download cache is shared with the host's.
work=$root/build/trajmatch
rm -rf "$work" && mkdir -p "$work"
git ls-files -z --cached --others --exclude-standard \
  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$work"
npm_cache=$(npm config get cache 2>/dev/null || echo "$HOME/.npm")
mkdir -p "$npm_cache" && bind "$npm_cache" "$root/build/npm-cache"

echo "in the Debian 13 root: node $(in_root node --version), npm $(in_root npm --version), libtorch $(in_root dpkg-query -W -f='${Version}' libtorch-dev)"
# The whole suite but test/package: that one packs the project and installs it into a new project,
# which builds the addon a second time (minutes) to check npm's packaging, not the libtorch; the
# host's step runs it.
in_root sh -c 'cd /build/trajmatch && npm install --no-audit --no-fund --cache /build/npm-cache && npm_config_cache=/build/npm-cache npm test -- --testPathIgnorePatterns /test/package/'
