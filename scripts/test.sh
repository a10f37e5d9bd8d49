#!/usr/bin/env bash
# Set up and run the whole test suite on both engines, and the console's browser tests. The suite
# runs on two pytest-xdist workers; each starts its own real Neo4j 5.26 (built from Maven Central
# artefacts by scripts/neo4j-server.sh, on ports 7688 and 7689), waits for it, and stops it at the
# end. Set JIEDUI_TEST_NEO4J_URI to use a server that is already running instead: the suite then
# runs in one process, since parallel workers would wipe each other's data on one database.
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
# Whole files to a worker, the long ones first (tests/conftest.py): each file's tests run in their
# order, as in one process, and its module fixtures are set up once. Arguments given here come
# after, so `-n 0` runs in one process.
parallel=(-n 2 --dist loadfile --no-loadscope-reorder)
if [[ -n "${JIEDUI_TEST_NEO4J_URI:-}" ]]; then
    parallel=()
fi
exec .venv/bin/python -m pytest "${parallel[@]}" "$@"
