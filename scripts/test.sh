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
# step "title" command...: runs one step, prints its wall-clock and CPU seconds (CPU above
# wall: it used both cores), and keeps going when it fails (the run's exit status records
# it, in $reports/steps.txt, which also works for steps run in a background subshell).
# Sets last_rc.
steps_file="$reports/steps.txt"
cpu_now() { # sets cpu_now_s: user + system seconds of the finished children of this shell
  local f="$reports/.times.$BASHPID" u s us ss
  times >"$f" # a builtin, no subshell: a subshell would not see this shell's children
  { read -r _ _ && read -r u s; } <"$f"
  rm -f "$f"
  us="${u#*m}" ss="${s#*m}" # "1m2.345s" -> "2.345s"
  cpu_now_s=$((${u%%m*} * 60 + 10#${us%%.*} + ${s%%m*} * 60 + 10#${ss%%.*}))
}
step() {
  local title="$1" t0=$SECONDS c0 rc=0
  cpu_now
  c0=$cpu_now_s
  shift
  echo
  echo "=== $title"
  "$@" || rc=$?
  cpu_now
  local dt=$((SECONDS - t0)) cpu=$((cpu_now_s - c0)) outcome="ok"
  [ "$rc" -eq 0 ] || outcome="FAILED (exit $rc)"
  echo "=== ${title%% (*}: $outcome in ${dt} s (cpu ${cpu} s)"
  printf '%5d s  (cpu %4d s)  %s%s\n' "$dt" "$cpu" "${title%% (*}" \
    "$([ "$rc" -eq 0 ] || echo '  FAILED')" >>"$steps_file"
  last_rc=$rc
}

# tsc keeps one core busy for about a minute; lint and formatting do not need its output and
# run on the other core meanwhile. The API reports read tsc's declarations and follow it.
# Both lanes write logs, printed once both are done.
echo
echo "=== type check and API reports | lint and formatting (side by side; logs follow)"
(
  step "type check (tsc; also writes the declarations to dist-types/ for package builds and API reports)" \
    npx tsc
  if [ "$last_rc" -eq 0 ]; then touch "$reports/types-fresh"; fi
  step "API reports (report.api.md of every published package match the code)" \
    npm run --silent build:api-reports:ci
) >"$reports/types.log" 2>&1 &
types_lane=$!
(
  step "lint (backstage-cli repo lint)" \
    npx backstage-cli repo lint
  step "formatting (prettier --check)" \
    npx prettier --check .
) >"$reports/lint-format.log" 2>&1 &
lint_lane=$!
wait "$types_lane" "$lint_lane" || true
cat "$reports/types.log" "$reports/lint-format.log"
# The install test builds packages from these declarations; fresh ones need no second tsc.
if [ -f "$reports/types-fresh" ]; then export RESIDENCY_TYPES_FRESH=1; fi

# The sequencer starts the files known to be slow first, also without Jest's timing cache.
# RESIDENCY_JEST_WORKERS overrides the number of Jest workers (backstage-cli: 2 on up to 3
# cores, else cores - 1).
step "unit and integration tests (jest, SQLite + PostgreSQL + docker-registry)" \
  npx backstage-cli repo test --watchAll=false --testSequencer="$RESIDENCY_ROOT/scripts/jest-sequencer.js" \
  ${RESIDENCY_JEST_WORKERS:+--maxWorkers="$RESIDENCY_JEST_WORKERS"} \
  --json --outputFile="$reports/jest.json"

export RESIDENCY_INSTALL_TEST_REMOVE_LATER="$reports/remove-later.txt"
step "install test (packed tarballs in a Backstage app and the CLI outside the tree)" \
  bash scripts/install-test/run.sh
# Its temp folder goes away at low priority while the e2e tests run.
remover=""
if [ -s "$RESIDENCY_INSTALL_TEST_REMOVE_LATER" ]; then
  xargs -d '\n' nice -n 19 rm -rf -- <"$RESIDENCY_INSTALL_TEST_REMOVE_LATER" &
  remover=$!
fi

step "end-to-end tests (Playwright, Chromium)" \
  env PLAYWRIGHT_JSON_OUTPUT_NAME="$reports/e2e.json" \
  npx playwright test --config e2e/playwright.config.ts --reporter=list,json

if [ -n "$remover" ]; then wait "$remover" || true; fi

echo
echo "=== time per step (total $((SECONDS - suite_start)) s; lint and formatting ran beside type check and API reports)"
cat "$steps_file"
if grep -q 'FAILED$' "$steps_file"; then status=1; fi
node scripts/summarize-tests.js "$reports" || status=1
exit "$status"
