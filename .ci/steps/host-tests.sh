#!/usr/bin/env bash
# CI step: the README's set-up and test command on this Debian 12 machine, against Debian 12's
# libtorch 1.13 (CPU): libtorch-dev with OpenBLAS and gloo's headers (c10d), the default dataset,
# Chromium for the bench report's test and python3-torch for the tests of the published .pt buffers
# (with CI=true a missing one fails them), tmux for the terminal test of the CLI (likewise) and
# clang-format for the lint, installed from the
# machine's own apt sources when missing. Then the lint: eslint, prettier and clang-format (npm run lint).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  packages=(libtorch-dev libopenblas0-pthread libgloo-dev dataset-fashion-mnist chromium python3-torch clang-format tmux)
  missing=()
  for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} with apt-get"
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
      || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
  fi
fi
echo "libtorch $(dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null || echo '(not from Debian)'), node $(node --version), npm $(npm --version)"
npm install --no-audit --no-fund   # builds the addon against the libtorch found, and the TypeScript
npm test
npm run -s lint
