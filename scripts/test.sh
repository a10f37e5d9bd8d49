#!/usr/bin/env bash
# Set up and run the whole test suite on both engines, and the console's browser tests. The suite
# starts a real Neo4j 5.26 (built from Maven Central artefacts by scripts/neo4j-server.sh), waits
# for it, and stops it at the end; set JIEDUI_TEST_NEO4J_URI to use a server that is already
# running instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
# The console's browser tests drive Debian's Chromium headless (with a Chinese font for screenshots).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! fc-list :lang=zh | grep -q .; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null
    else
        echo "The browser tests need Chromium, its driver and a Chinese font: apt-get install chromium chromium-driver fonts-noto-cjk" >&2
    fi
fi
exec .venv/bin/python -m pytest "$@"
