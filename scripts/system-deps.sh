#!/usr/bin/env bash
# Debian packages the tests need: a real OCI registry (docker-registry), an OCI
# client (skopeo) and a real browser (chromium). Installed only when missing and
# only when running as root; otherwise the script says what to install.
set -euo pipefail
missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v psql >/dev/null 2>&1 || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "[setup] installing Debian packages: ${missing[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  else
    echo "[setup] missing Debian packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
fi
# PostgreSQL must be accepting connections on 127.0.0.1:5432 for the PostgreSQL half
# of the storage tests and for the end-to-end tests.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "[setup] starting PostgreSQL" >&2
  version="$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)"
  if [ -n "$version" ]; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -q -h 127.0.0.1 -p 5432 || { echo "[setup] PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
fi
