"""The one-file page: ``templates/page.html.j2`` with the viewer bundle, the scene JSON and the GLB inlined.

Everything that came from a model (labels) reaches the page only as JSON inside script elements, escaped so that
no ``<`` can close them, and the viewer puts it on screen with ``textContent``. The photo (for the photo view) is
inlined as a downscaled JPEG ``data:`` URL and the optional point cloud as base64 typed arrays.
"""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np

from ..errors import UserError
from ..records import PointCloud
from ..resources import read_viewer_bundle, templates_dir

#: Longest side (pixels) of the photo embedded in the page.
PHOTO_MAX_SIDE_PX = 1600
#: JPEG quality of the embedded photo.
PHOTO_JPEG_QUALITY = 85
#: At most this many points of a point cloud go into the page (an even subsample beyond that).
MAX_POINTS = 200_000


def script_safe_json(value) -> str:
    """JSON text safe inside a ``<script>`` element: ``<``, ``>``, ``&`` and the JS line separators escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def photo_data_url(rgb: np.ndarray, max_side_px: int = PHOTO_MAX_SIDE_PX) -> str:
    """The photo (H x W x 3 uint8) as a ``data:image/jpeg;base64,`` URL, downscaled to ``max_side_px`` at most."""
    from PIL import Image

    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"photo_rgb must be an HxWx3 uint8 array, got {rgb.dtype} {rgb.shape}")
    image = Image.fromarray(rgb)
    if max(image.size) > max_side_px:
        scale = max_side_px / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=PHOTO_JPEG_QUALITY, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def point_arrays_base64(cloud: PointCloud, max_points: int = MAX_POINTS) -> tuple[str, str]:
    """The cloud's positions (float32 little-endian x,y,z, world metres) and colours (uint8 r,g,b), base64;
    an even subsample of ``max_points`` when it has more. Points with a non-finite coordinate are dropped."""
    positions = np.asarray(cloud.positions_m, dtype=np.float32).reshape(-1, 3)
    colours = np.asarray(cloud.colors_rgb, dtype=np.uint8).reshape(-1, 3)
    if positions.shape[0] != colours.shape[0]:
        raise ValueError(f"point cloud has {positions.shape[0]} positions but {colours.shape[0]} colours")
    keep = np.isfinite(positions).all(axis=1)
    positions, colours = positions[keep], colours[keep]
    if positions.shape[0] > max_points:
        index = np.linspace(0, positions.shape[0] - 1, max_points).round().astype(np.int64)
        positions, colours = positions[index], colours[index]
    return (base64.b64encode(positions.astype("<f4").tobytes()).decode("ascii"),
            base64.b64encode(np.ascontiguousarray(colours).tobytes()).decode("ascii"))


def render_page(scene_json: dict, glb: bytes, title: str, photo_rgb: np.ndarray | None = None,
                point_cloud: PointCloud | None = None, plan_svg: str | None = None) -> str:
    """The HTML text of the page for a scene (its manifest dict and its GLB bytes), with the photo (H x W x 3
    uint8, for the photo view), a point cloud (world frame) and the floor plan (``floorplan.svg``'s text, shown
    by the Plan button as an image: an SVG in an ``img`` runs nothing) when given. The camera's warnings (what it
    guessed: a level camera, a default focal, conflicting cues) are shown on the page as text (autoescaped)."""
    import jinja2

    viewer_js = read_viewer_bundle()
    if re.search(r"</script|<!--", viewer_js, re.IGNORECASE):
        raise UserError("viewer bundle contains '</script' or '<!--' and cannot be inlined; rebuild it")
    points_xyz = points_rgb = None
    if point_cloud is not None and point_cloud.count:
        points_xyz, points_rgb = point_arrays_base64(point_cloud)
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), autoescape=True)
    template = environment.get_template("page.html.j2")
    return template.render(
        title=title,
        viewer_js=viewer_js,
        scene_json=script_safe_json(scene_json),
        glb_base64=base64.b64encode(glb).decode("ascii"),
        photo_data_url=None if photo_rgb is None else photo_data_url(photo_rgb),
        points_xyz_base64=points_xyz,
        points_rgb_base64=points_rgb,
        camera_warnings=[str(w) for w in (scene_json.get("camera") or {}).get("warnings") or []],
        plan_data_url=None if plan_svg is None else
        "data:image/svg+xml;base64," + base64.b64encode(plan_svg.encode("utf-8")).decode("ascii"),
    )
