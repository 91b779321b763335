import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
REQUIRE_ALL = os.environ.get("REQUIRE_ALL") == "1"


def require(condition: bool, what: str) -> None:
    """Skip when a tool is missing on a user's machine; fail when REQUIRE_ALL=1 (CI)."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"REQUIRE_ALL=1 but {what} is missing")
    pytest.skip(f"{what} is missing")


def sample_dirs() -> list[Path]:
    return sorted(p for p in SAMPLES.iterdir() if (p / "truth.json").is_file()) if SAMPLES.is_dir() else []


@pytest.fixture(scope="session")
def node_ready() -> None:
    require(shutil.which("node") is not None and (ROOT / "viewer" / "node_modules" / "gltf-validator").is_dir(),
            "node with viewer/node_modules (cd viewer && npm ci)")


@pytest.fixture(scope="session")
def chromium_ready() -> None:
    import importlib.util

    has_playwright = importlib.util.find_spec("playwright") is not None
    require(has_playwright and shutil.which("chromium") is not None, "playwright and /usr/bin/chromium")
