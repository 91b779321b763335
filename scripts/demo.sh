#!/usr/bin/env bash
# Installs room3d and builds the 3D scene of a sample photo; prints where the page is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
sample="${1:-samples/bedroom_01}"
.venv/bin/room3d build "$sample/photo.png" --grounding "$sample/grounding.qwen3.json" -o "out/$(basename "$sample")" --force
