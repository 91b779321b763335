"""Files of the checkout the package reads at run time: the jinja2 templates and the built viewer bundle."""

from __future__ import annotations

from pathlib import Path

from .errors import UserError

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
VIEWER_BUNDLE = ROOT / "viewer" / "dist" / "room3d-viewer.js"


def read_viewer_bundle() -> str:
    """The bundled Three.js viewer (built from ``viewer/src`` by ``npm run build`` in ``viewer/``)."""
    if not VIEWER_BUNDLE.is_file():
        raise UserError(f"viewer bundle missing: {VIEWER_BUNDLE} (install room3d from its checkout: pip install -e .)")
    return VIEWER_BUNDLE.read_text(encoding="utf-8")


def templates_dir() -> Path:
    if not TEMPLATES_DIR.is_dir():
        raise UserError(f"templates missing: {TEMPLATES_DIR} (install room3d from its checkout: pip install -e .)")
    return TEMPLATES_DIR
