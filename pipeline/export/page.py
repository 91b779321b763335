"""The one-file page: ``templates/page.html.j2`` with the viewer bundle, the scene JSON and the GLB inlined.

Everything that came from a model (labels) reaches the page only as JSON inside script elements, escaped so that
no ``<`` can close them, and the viewer puts it on screen with ``textContent``.
"""

from __future__ import annotations

import base64
import json
import re

from ..errors import UserError
from ..resources import read_viewer_bundle, templates_dir


def script_safe_json(value) -> str:
    """JSON text safe inside a ``<script>`` element: ``<``, ``>``, ``&`` and the JS line separators escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def render_page(scene_json: dict, glb: bytes, title: str) -> str:
    """The HTML text of the page for a scene (its manifest dict and its GLB bytes)."""
    import jinja2

    viewer_js = read_viewer_bundle()
    if re.search(r"</script|<!--", viewer_js, re.IGNORECASE):
        raise UserError("viewer bundle contains '</script' or '<!--' and cannot be inlined; rebuild it")
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), autoescape=True)
    template = environment.get_template("page.html.j2")
    return template.render(
        title=title,
        viewer_js=viewer_js,
        scene_json=script_safe_json(scene_json),
        glb_base64=base64.b64encode(glb).decode("ascii"),
    )
