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

step() { echo; echo "=== $1"; }

step "type check (tsc; also writes the declarations to dist-types/ for package builds and API reports)"
npx tsc || status=1

step "API reports (report.api.md of every published package match the code)"
npm run --silent build:api-reports:ci || status=1

step "lint (backstage-cli repo lint)"
npx backstage-cli repo lint || status=1

step "formatting (prettier --check)"
npx prettier --check . || status=1

step "unit and integration tests (jest, SQLite + PostgreSQL + docker-registry)"
npx backstage-cli repo test --watchAll=false --json --outputFile="$reports/jest.json" || status=1

step "install test (packed tarballs in a Backstage app and the CLI outside the tree)"
bash scripts/install-test/run.sh || status=1

step "end-to-end tests (Playwright, Chromium)"
PLAYWRIGHT_JSON_OUTPUT_NAME="$reports/e2e.json" \
  npx playwright test --config e2e/playwright.config.ts --reporter=list,json || status=1

node scripts/summarize-tests.js "$reports" || status=1
exit "$status"
