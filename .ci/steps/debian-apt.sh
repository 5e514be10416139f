# Sourced by the CI steps: a private apt for Debian 13 ("trixie") that leaves the host's own apt
# configuration, sources and package state alone. Lists, downloaded .debs and state live under
# $CI_CACHE/apt-trixie, so a later run on the same machine reuses them.
#   trixie_apt update | download PKG... (into $TRIXIE_DEBS)
CI_CACHE=${TRAJMATCH_CI_CACHE:-$([ "$(id -u)" = 0 ] && echo /var/cache/trajmatch-ci || echo "${XDG_CACHE_HOME:-$HOME/.cache}/trajmatch-ci")}
DEBIAN_MIRROR=${TRAJMATCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
TRIXIE_APT=$CI_CACHE/apt-trixie
TRIXIE_DEBS=$TRIXIE_APT/archives

trixie_apt() {
  mkdir -p "$TRIXIE_APT/lists/partial" "$TRIXIE_DEBS/partial" "$TRIXIE_APT/cache" "$TRIXIE_APT/sources.list.d"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $DEBIAN_MIRROR trixie main contrib" \
    > "$TRIXIE_APT/sources.list"
  apt-get -q \
    -o Dir::Etc::SourceList="$TRIXIE_APT/sources.list" \
    -o Dir::Etc::SourceParts="$TRIXIE_APT/sources.list.d" \
    -o Dir::State::Lists="$TRIXIE_APT/lists" \
    -o Dir::State::Status=/dev/null \
    -o Dir::Cache="$TRIXIE_APT/cache" \
    -o Dir::Cache::Archives="$TRIXIE_DEBS" \
    -o APT::Architecture=amd64 \
    -o APT::Sandbox::User=root \
    -o Debug::NoLocking=1 \
    "$@"
}

# What the suite needs in Debian 13: Node and npm, the native build tools, libtorch 2.6 with
# OpenBLAS and gloo's headers (c10d), the default dataset, Chromium for the bench report's test and
# python3-torch for the .pt interop tests, tmux for the terminal test of the CLI. Add packages here.
TRIXIE_PACKAGES=(nodejs npm g++ cmake make ninja-build ca-certificates
  libtorch-dev libopenblas0-pthread libgloo-dev dataset-fashion-mnist chromium python3-torch tmux)
