#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install the project with its pinned dependencies.
# Safe to run again: it only installs what is missing or changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e ".[test]"
# The console's and the API documentation's front-end assets, from the npm registry, served
# locally (no CDN at run time).
npm ci --prefix front --no-audit --no-fund --silent
mkdir -p api/web/static/vendor
cp front/node_modules/htmx.org/dist/htmx.min.js api/web/static/vendor/
cp front/node_modules/swagger-ui-dist/swagger-ui-bundle.js front/node_modules/swagger-ui-dist/swagger-ui.css \
  api/web/static/vendor/
