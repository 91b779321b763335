"""The committed viewer bundle is what viewer/src builds to (so the page never ships stale code)."""

import json
import subprocess

from tests.conftest import ROOT


def test_bundle_is_fresh(node_ready, tmp_path):
    viewer = ROOT / "viewer"
    command = json.loads((viewer / "package.json").read_text())["scripts"]["build"].split()
    assert command[0] == "esbuild"
    command = [str(viewer / "node_modules" / ".bin" / "esbuild")] + [
        f"--outfile={tmp_path / 'bundle.js'}" if part.startswith("--outfile=") else part for part in command[1:]]
    subprocess.run(command, cwd=viewer, check=True, capture_output=True, timeout=120)
    built = (tmp_path / "bundle.js").read_bytes()
    assert built == (viewer / "dist" / "room3d-viewer.js").read_bytes(), \
        "viewer/dist is stale: run `npm run build` in viewer/ and commit the bundle"
