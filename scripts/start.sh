#!/usr/bin/env bash
# Quick start, part 1: install what is missing, generate the demo (keys, signed
# images in OCI layouts, catalog, config) on first run, and start the portal:
# frontend on http://localhost:3000, backend on http://localhost:7007.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$RESIDENCY_ROOT"
bash scripts/install.sh
node packages/signing-kit/bin/generate-demo.js --dir "$RESIDENCY_ROOT/.demo"
exec npx backstage-cli repo start \
  --config "$RESIDENCY_ROOT/app-config.yaml" \
  --config "$RESIDENCY_ROOT/.demo/app-config.demo.yaml" "$@"
