#!/usr/bin/env bash
# Installs room3d with everything its tests drive, then runs the whole test suite.
# REQUIRE_ALL=1 (set by CI) turns every "tool missing" skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
# screenshots of the browser tests (tests/test_serve.py, tests/test_viewer.py) land here (git-ignored)
export ROOM3D_ARTIFACTS="${ROOM3D_ARTIFACTS:-$PWD/test-artifacts}"
.venv/bin/python -m pytest "$@"
