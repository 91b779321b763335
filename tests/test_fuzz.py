"""Property-based fuzzing (Hypothesis) of the readers of untrusted input: the grounding parser, the room-layout
reader and the depth-file readers. Whatever they are given, they return a sound result or raise UserError (one
line for the user); nothing else escapes, and what they return is finite and bounded."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pipeline.errors import UserError
from pipeline.grounding import MAX_DETECTIONS, MAX_LABEL_CHARS, parse_grounding
from pipeline.records import Photo

#: Reproducible in CI: the same examples on every run (ROOM3D_FUZZ_EXAMPLES=5000 and ROOM3D_FUZZ_RANDOM=1 search
#: further, with new examples each run).
FUZZ = settings(max_examples=int(os.environ.get("ROOM3D_FUZZ_EXAMPLES", "150")), deadline=None,
                derandomize=os.environ.get("ROOM3D_FUZZ_RANDOM") != "1",
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
WIDTH, HEIGHT = 640, 480

numbers = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(min_value=10**300, max_value=10**310), st.text(max_size=5))
boxes = st.one_of(st.lists(numbers, min_size=0, max_size=6), st.lists(st.lists(numbers, max_size=3), max_size=3),
                  numbers)
labels = st.one_of(st.text(max_size=200), st.integers(), st.none(), st.lists(st.text(max_size=5), max_size=2))
entries = st.fixed_dictionaries({}, optional={"bbox_2d": boxes, "label": labels, "bbox_3d": boxes,
                                              "confidence": numbers, "point_2d": boxes})
json_values = st.recursive(st.none() | st.booleans() | numbers | st.text(max_size=10),
                           lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=20)
answers = st.one_of(
    st.lists(entries, max_size=12).map(json.dumps),
    st.lists(entries, max_size=12).map(lambda e: json.dumps(e)[: max(0, len(json.dumps(e)) - 7)]),  # cut off
    st.lists(entries, max_size=8).map(lambda e: "Here:\n```json\n" + json.dumps(e) + "\n```"),
    st.dictionaries(st.sampled_from(["objects", "layout", "room_type", "format", "boxes"]), json_values,
                    max_size=4).map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=300),
)


def check_grounding(text: str, fmt: str) -> None:
    try:
        grounding = parse_grounding(text, WIDTH, HEIGHT, format=fmt)
    except UserError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert len(grounding.detections) <= MAX_DETECTIONS
    for detection in grounding.detections:
        x1, y1, x2, y2 = detection.box_xyxy_px
        assert all(math.isfinite(v) for v in (x1, y1, x2, y2))
        assert 0 <= x1 < x2 <= WIDTH and 0 <= y1 < y2 <= HEIGHT
        assert 0 < len(detection.label) <= MAX_LABEL_CHARS
        assert all(ch.isprintable() or ch in "\u200c\u200d" for ch in detection.label)
    assert all(isinstance(w, str) and w for w in grounding.warnings)


@FUZZ
@given(answers, st.sampled_from(["auto", "qwen3", "pixels", "qwen2.5"]))
def test_grounding_parser_returns_sound_boxes_or_one_line_error(text, fmt):
    check_grounding(text, fmt)


@FUZZ
@given(st.binary(max_size=400))
def test_grounding_parser_takes_any_bytes_decoded_loosely(data):
    check_grounding(data.decode("utf-8", errors="replace"), "auto")


layouts = st.dictionaries(
    st.sampled_from(["room_type", "room_size", "layout", "camera", "spatial_inference", "ceiling_height", "x"]),
    st.one_of(st.text(max_size=40), numbers,
              st.dictionaries(st.sampled_from(["bed", "desk", "chair", "wardrobe", "window", "sofa", "x"]),
                              st.one_of(st.text(max_size=60), json_values,
                                        st.fixed_dictionaries({}, optional={
                                            "position": st.text(max_size=60), "size": st.one_of(st.text(max_size=30),
                                                                                               numbers)})),
                              max_size=5)),
    max_size=5)


@FUZZ
@given(layouts)
def test_layout_reader_returns_a_bounded_scene_or_one_line_error(layout):
    from pipeline.layout import layout_scene

    try:
        result = layout_scene(layout)
    except UserError as error:
        assert str(error) and "\n" not in str(error)
        return
    for obj in result.objects:
        assert np.all(np.isfinite(obj.center_m)) and np.all(np.isfinite(obj.size_m))
        assert np.linalg.norm(obj.center_m) < 200.0 and 0 < max(obj.size_m) < 50.0
    width, depth = result.room_size_m
    assert 0 < width < 200 and 0 < depth < 200


@pytest.fixture(scope="module")
def small_photo():
    return Photo(path=None, rgb=np.zeros((48, 64, 3), np.uint8))


@FUZZ
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".png", ".npy"]))
def test_depth_files_of_any_bytes_are_read_or_refused_in_one_line(tmp_path_factory, small_photo, data, suffix):
    from pipeline.depth import load_depth

    path = tmp_path_factory.mktemp("fuzz") / f"depth{suffix}"
    path.write_bytes(data)
    try:
        depth = load_depth(f"file:{path}", small_photo)
    except UserError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert depth.values.shape == (48, 64) and np.all(np.isfinite(depth.values[depth.valid]))


arrays = hnp.arrays(dtype=st.sampled_from([np.float32, np.float64, np.int16, np.uint16, np.int64]),
                    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=12),
                    elements=None)


@FUZZ
@given(array=arrays)
def test_depth_arrays_of_any_shape_and_values_are_read_or_refused_in_one_line(tmp_path_factory, small_photo, array):
    from pipeline.depth import load_depth

    path = tmp_path_factory.mktemp("fuzz") / "depth.npy"
    np.save(path, array)
    try:
        depth = load_depth(f"file:{path}", small_photo)
    except UserError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert depth.values.shape == (48, 64)
    assert np.all(np.isfinite(depth.values[depth.valid])) and np.all(depth.values[depth.valid] > 0)


edit_entries = st.fixed_dictionaries({}, optional={
    "detection_index": st.one_of(st.integers(-3, 10**7), numbers, st.none()), "label": labels,
    "center": boxes, "size": boxes, "yaw": numbers, "remove": st.one_of(st.booleans(), numbers)})
camera_blocks = st.one_of(json_values, st.fixed_dictionaries({}, optional={
    "fx": numbers, "fy": numbers, "cx": numbers, "cy": numbers, "width": numbers, "height": numbers,
    "world_from_camera": st.one_of(boxes, st.just(np.eye(4).tolist()), st.just([[1, 0, 0, 0], [0, 1, 0, 1.4],
                                                                                [0, 0, 1, 0], [0, 0, 0, 1]]))}))
edit_files = st.fixed_dictionaries({}, optional={"version": st.one_of(st.just(1), numbers), "camera": camera_blocks,
                                                 "objects": st.one_of(st.lists(edit_entries, max_size=6), json_values),
                                                 "photo_sha256": json_values})


@FUZZ
@given(st.one_of(edit_files, json_values))
def test_edits_files_are_read_soundly_or_refused_in_one_line(data):
    from pipeline.edits import MAX_CENTER_M, MAX_SIZE_M, parse_edits

    try:
        edits = parse_edits(data, "edits.json")
    except UserError as error:
        assert str(error) and "\n" not in str(error)
        return
    for box in edits.boxes:
        assert all(math.isfinite(v) and abs(v) <= MAX_CENTER_M for v in box.center_m)
        assert all(0 < v <= MAX_SIZE_M for v in box.size_m) and math.isfinite(box.yaw_rad)
        assert box.detection_index is None or box.detection_index >= 0
    assert all(isinstance(label, str) and len(label) <= MAX_LABEL_CHARS for _, label in edits.relabeled)
    assert edits.boxes or edits.removed or edits.relabeled or not (data.get("objects") or [])
