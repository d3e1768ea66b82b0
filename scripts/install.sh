#!/usr/bin/env bash
# Installs the npm workspace when package-lock.json changed since the last install.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$RESIDENCY_ROOT"
stamp=node_modules/.residency-lock-hash
want="$(sha256sum package-lock.json 2>/dev/null | cut -d' ' -f1 || true)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ -z "$want" ]; then
  echo "[setup] installing npm dependencies (first run: a few minutes)" >&2
  # `npm install`, not `npm ci`: the registry reachable here lacks some platform-specific
  # optional packages (@swc/core-darwin-*, @rollup/rollup-*), which `npm ci` refuses to
  # skip; `npm install` follows package-lock.json and skips them.
  npm install --no-audit --no-fund --loglevel=error >&2
  sha256sum package-lock.json | cut -d' ' -f1 > "$stamp"
fi
