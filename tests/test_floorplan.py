"""floorplan.svg (pipeline/export/floorplan.py): a printable plan of the solved room, from a build of the bedroom
scene with the true camera and a label that tries to break out of the SVG."""

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from pipeline.export.floorplan import PAGE_MM, feet_inches
from tests.test_export import build_bedroom

XSS = "</text><script>alert(1)</script>"
LABELS = ["bed", "nightstand", XSS, "wardrobe", "chair & co"]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out, scene = build_bedroom(tmp_path_factory.mktemp("plan"), LABELS)
    return out, scene, (out / "floorplan.svg").read_text(encoding="utf-8")


def test_the_plan_is_an_a4_page_with_every_object_labelled(built):
    _, scene, text = built
    assert scene["outputs"]["floorplan"] == "floorplan.svg"
    root = ET.fromstring(text)  # well-formed: the label could not break out
    assert (root.get("width"), root.get("height")) == (f"{PAGE_MM[0]:g}mm", f"{PAGE_MM[1]:g}mm")
    assert "<script" not in text and not list(root.iter(f"{SVG}script"))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "label"]
    assert sorted(labels) == sorted(LABELS)  # the model's text, as text
    assert len([p for p in root.iter(f"{SVG}path") if "object" in (p.get("class") or "")]) == len(LABELS)
    assert re.search(r"Scale 1:\d+ on A4", text)
    assert len([r for r in root.iter(f"{SVG}rect") if r.get("class") == "scale-bar"]) >= 2


def test_the_plan_is_to_scale_and_gives_the_rooms_size(built):
    """A footprint on paper is its size in metres at the plan's scale, and the room's width and depth are written
    in metres and feet-inches, "≥" where the walls were inferred."""
    _, scene, text = built
    root = ET.fromstring(text)
    scale = int(re.search(r"Scale 1:(\d+)", text).group(1))
    bed = scene["objects"][0]  # drawn first
    assert bed["label"] == "bed"
    path = next(p for p in root.iter(f"{SVG}path") if "object" in (p.get("class") or ""))
    points = np.array([[float(v) for v in pair.split()] for pair in re.findall(r"[-\d.]+ [-\d.]+", path.get("d"))])
    edges = sorted(np.linalg.norm(np.roll(points, -1, axis=0) - points, axis=1)[:2])
    assert edges == pytest.approx(sorted([bed["size"][0] * 1000 / scale, bed["size"][2] * 1000 / scale]), abs=0.05)
    size = scene["room"]["dimensions"]
    for name in ("width", "depth"):
        value = size[name]["value"]
        assert f"≥ {value:.2f} m ({feet_inches(value)})" in text
    walls = [p for p in root.iter(f"{SVG}path") if "wall-" in (p.get("class") or "")]
    assert len(walls) == len(scene["room"]["walls"]) and all(p.get("stroke-dasharray") for p in walls)


def test_labels_do_not_overlap(built):
    """Every label on the plan has its own room: the boxes of their text (name and size lines) do not overlap."""
    from pipeline.export.floorplan import LABEL_MM, LABEL_WIDTH_PER_CHAR

    _, _, text = built
    root = ET.fromstring(text)
    texts = {t.get("class"): [] for t in root.iter(f"{SVG}text")}
    for t in root.iter(f"{SVG}text"):
        texts[t.get("class")].append(t)
    boxes = []
    for name, size in zip(texts["label"], texts["size"]):
        x, y = float(name.get("x")), float(name.get("y"))
        half = 0.5 * LABEL_WIDTH_PER_CHAR * LABEL_MM * max(len(name.text), len(size.text))
        boxes.append((x - half, y - LABEL_MM, x + half, y + 0.9 * LABEL_MM))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_feet_and_inches():
    assert feet_inches(3.4) == "11 ft 2 in" and feet_inches(0.3048) == "1 ft 0 in"


def test_the_page_shows_the_plan(built, chromium_ready):
    """The page's Plan button opens the same plan (as an image: it runs nothing), with a link to save it."""
    import base64

    from tests.viewer_tools import chromium, viewer_page

    out, _, text = built
    with chromium() as browser, viewer_page(browser, out / "index.html") as (page, log):
        assert page.is_hidden("#room3d-plan")
        page.click("#room3d-btn-plan")
        assert page.is_visible("#room3d-plan-img")
        src = page.get_attribute("#room3d-plan-img", "src")
        assert base64.b64decode(src.split(",", 1)[1]).decode("utf-8") == text
        assert page.evaluate("document.getElementById('room3d-plan-img').naturalWidth") > 0  # it rendered
        assert page.get_attribute("#room3d-plan-download", "download") == "floorplan.svg"
        page.click("#room3d-plan-close")
        assert page.is_hidden("#room3d-plan")
        assert log.console == [] and log.requests == [] and log.dialogs == []
