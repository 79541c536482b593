#!/usr/bin/env bash
# The Swagger UI test (tests/test_swagger_ui.py) drives Chromium. `make test` runs this when no
# Chromium is on the PATH: Debian's package, as .ci/run always did.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Chromium is needed by the Swagger UI test: install it with your package manager." >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing Chromium (apt-get)"
$SUDO apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
  || { $SUDO apt-get update >/dev/null 2>&1 \
       && $SUDO apt-get install -y --no-install-recommends chromium >/dev/null; }
