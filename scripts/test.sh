#!/usr/bin/env bash
# Set up and run the whole test suite on both engines. The suite starts a real Neo4j 5.26
# (built from Maven Central artefacts by scripts/neo4j-server.sh), waits for it, and stops it at
# the end; set JIEDUI_TEST_NEO4J_URI to use a server that is already running instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
