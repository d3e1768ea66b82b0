#!/usr/bin/env bash
# Residency benchmark (npm run bench): the real engine over an OCI layout and a real
# docker-registry on loopback. See bench/README.md. BENCH_N=<images> (default 200),
# BENCH_JSON=<file> to keep the measurements as JSON.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$RESIDENCY_ROOT"
exec node --expose-gc bench/run.js "$@"
