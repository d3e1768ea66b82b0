#!/usr/bin/env bash
# Quick start, part 2: install what is missing and run every test: type check,
# lint, formatting, unit and integration tests (SQLite and PostgreSQL, a real OCI registry),
# API reports, the out-of-tree install test (scripts/install-test/run.sh), then the
# end-to-end tests in Chromium. Ends with one summary line.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$RESIDENCY_ROOT"
bash scripts/install.sh
bash scripts/system-deps.sh

export CI=true
export BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING="${BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING:-postgresql://postgres@127.0.0.1:5432}"
reports="$RESIDENCY_ROOT/.test-reports"
rm -rf "$reports" && mkdir -p "$reports"
status=0
suite_start=$SECONDS

# step "title" command...: runs one step, prints how long it took, and keeps going when it
# fails (the run's exit status records it). The closing table lists every step's seconds.
timings=()
step() {
  local title="$1" t0=$SECONDS rc=0
  shift
  echo
  echo "=== $title"
  "$@" || rc=$?
  local dt=$((SECONDS - t0)) outcome="ok"
  [ "$rc" -eq 0 ] || { outcome="FAILED (exit $rc)"; status=1; }
  echo "=== ${title%% (*}: $outcome in ${dt} s"
  timings+=("$(printf '%5d s  %s%s' "$dt" "${title%% (*}" "$([ "$rc" -eq 0 ] || echo '  FAILED')")")
}

step "type check (tsc; also writes the declarations to dist-types/ for package builds and API reports)" \
  npx tsc

step "API reports (report.api.md of every published package match the code)" \
  npm run --silent build:api-reports:ci

step "lint (backstage-cli repo lint)" \
  npx backstage-cli repo lint

step "formatting (prettier --check)" \
  npx prettier --check .

step "unit and integration tests (jest, SQLite + PostgreSQL + docker-registry)" \
  npx backstage-cli repo test --watchAll=false --json --outputFile="$reports/jest.json"

step "install test (packed tarballs in a Backstage app and the CLI outside the tree)" \
  bash scripts/install-test/run.sh

step "end-to-end tests (Playwright, Chromium)" \
  env PLAYWRIGHT_JSON_OUTPUT_NAME="$reports/e2e.json" \
  npx playwright test --config e2e/playwright.config.ts --reporter=list,json

echo
echo "=== time per step (total $((SECONDS - suite_start)) s)"
printf '%s\n' "${timings[@]}"
node scripts/summarize-tests.js "$reports" || status=1
exit "$status"
