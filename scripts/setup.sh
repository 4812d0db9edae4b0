#!/usr/bin/env bash
# Installs everything flickrspider and its tests need, from the project's own files:
#   - Debian packages: redis-server (scrapy-redis tests), chromium (report test)
#   - a virtualenv (default ./.venv, or $VENV) with requirements-dev.txt and the package itself
# Usage: bash scripts/setup.sh            (idempotent; re-run after pulling)
#        SKIP_SYSTEM=1 bash scripts/setup.sh   (Python only, e.g. without root)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

if [ "${SKIP_SYSTEM:-0}" != 1 ]; then
  missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
pip_install() {
  # This machine's pip config names local package folders that may not exist: hide that noise.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  return "${PIPESTATUS[0]}"
}
pip_install --upgrade pip
pip_install -r requirements-dev.txt
pip_install --no-deps -e .
echo "setup: done ($VENV)"
