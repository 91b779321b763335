"""Parsing model answers: fences, prose, garbled JSON, each coordinate format, and bad boxes."""

import json

import numpy as np
import pytest

from pipeline import frames
from pipeline.errors import UserError
from pipeline.grounding import choose_format, extract_json, parse_grounding, read_grounding

W, H = 1280, 960
BOXES_PX = [[100.0, 200.0, 600.0, 700.0], [700.0, 150.0, 1100.0, 900.0]]


def answer(boxes, labels=("bed", "wardrobe")):
    return json.dumps([{"bbox_2d": b, "label": l} for b, l in zip(boxes, labels)])


def test_fenced_answer_with_prose():
    text = "Here are the objects I found:\n```json\n" + answer(BOXES_PX) + "\n```\nLet me know if you need more."
    grounding = parse_grounding(text, W, H, format="pixels")
    assert [d.label for d in grounding.detections] == ["bed", "wardrobe"]
    np.testing.assert_allclose(grounding.detections[0].box_xyxy_px, BOXES_PX[0])


def test_prose_without_fence_trailing_comma_and_truncation():
    text = 'Sure! [{"bbox_2d": [1, 2, 30, 40], "label": "chair"}, {"bbox_2d": [5, 6, 70, 80], "label": "lamp"},'
    assert len(extract_json(text)) == 2
    text = '[{"bbox_2d": [1, 2, 30, 40], "label": "chair",}, {"bbox_2d": [5, 6,'
    assert extract_json(text) == [{"bbox_2d": [1, 2, 30, 40], "label": "chair"}]


def test_object_wrapper_and_keys():
    text = json.dumps({"objects": [{"box": [10, 10, 50, 50], "name": "sofa", "score": 0.8}]})
    (detection,) = parse_grounding(text, W, H, format="pixels").detections
    assert detection.label == "sofa" and detection.confidence == 0.8


def test_qwen3_relative_coordinates():
    rel = [list(frames.qwen3_from_pixels(np.array(b), W, H)) for b in BOXES_PX]
    grounding = parse_grounding(answer(rel), W, H, format="qwen3")
    np.testing.assert_allclose(grounding.detections[1].box_xyxy_px, BOXES_PX[1], atol=1e-9)


def test_qwen25_resized_coordinates():
    w, h = 4032, 3024
    boxes = [[400.0, 600.0, 2000.0, 2900.0]]
    resized = [list(frames.qwen25_from_pixels(np.array(b), w, h, max_pixels=1280 * 28 * 28)) for b in boxes]
    grounding = parse_grounding(answer(resized, ["bed"]), w, h, format="qwen2.5", qwen25_max_pixels=1280 * 28 * 28)
    np.testing.assert_allclose(grounding.detections[0].box_xyxy_px, boxes[0], atol=1e-6)


def test_auto_format_rules():
    assert choose_format("grounding.qwen3.json", None, [], W, H)[0] == "qwen3"
    assert choose_format("grounding.qwen2_5.json", None, [], W, H)[0] == "qwen2.5"
    assert choose_format("answer.json", "qwen3", [], W, H)[0] == "qwen3"
    small = [np.array([10.0, 10.0, 990.0, 900.0])]
    assert choose_format("answer.json", None, small, 4032, 3024)[0] == "qwen3"
    big = [np.array([10.0, 10.0, 1100.0, 800.0])]
    assert choose_format("answer.json", None, big, 4032, 3024, qwen25_max_pixels=1280 * 784)[0] == "qwen2.5"
    assert choose_format("answer.json", None, [np.array([10.0, 10.0, 3000.0, 2000.0])], 4032, 3024)[0] == "pixels"
    assert choose_format("answer.json", None, [np.array([10.0, 10.0, 600.0, 950.0])], 640, 480)[0] == "qwen3"
    fmt, reason = choose_format("answer.json", None, [np.array([10.0, 10.0, 600.0, 450.0])], 640, 480)
    assert fmt == "pixels" and reason


def test_bad_boxes_are_fixed_or_dropped_with_index_named():
    entries = [
        {"bbox_2d": [600, 700, 100, 200], "label": "bed"},          # inverted: swapped
        {"bbox_2d": [float("nan"), 1, 2, 3], "label": "nan"},        # NaN: dropped
        {"bbox_2d": [5000, 5000, 6000, 6000], "label": "outside"},   # outside: dropped
        {"bbox_2d": [-50, 100, 300, 400], "label": "cut"},          # partly outside: clipped
        {"bbox_2d": [1, 2, 3], "label": "short"},                    # not 4 numbers: dropped
        {"point_2d": [10, 10], "label": "point"},                    # not used yet: dropped
        "garbage",
    ]
    text = json.dumps(entries).replace("NaN", "NaN")
    grounding = parse_grounding(text, W, H, format="pixels")
    assert [d.detection_index for d in grounding.detections] == [0, 3]
    assert grounding.detections[0].box_xyxy_px == (100.0, 200.0, 600.0, 700.0)
    assert grounding.detections[1].box_xyxy_px[0] == 0.0
    joined = " ".join(grounding.warnings)
    for index in (0, 1, 2, 3, 4, 5, 6):
        assert f"entry {index}" in joined


def test_labels_any_language_and_markup_kept_as_text():
    text = json.dumps([{"bbox_2d": [1, 1, 50, 50], "label": "</script><script>alert(1)</script>"},
                       {"bbox_2d": [1, 1, 50, 50], "label": "床\u0000\n"}])
    labels = [d.label for d in parse_grounding(text, W, H, format="pixels").detections]
    assert labels == ["</script><script>alert(1)</script>", "床"]


@pytest.mark.parametrize("text", ["", "no json here", "{\"foo\": 1}", "[1, 2", "```json\n{]\n```"])
def test_malformed_answers_raise_user_error(text):
    with pytest.raises(UserError):
        parse_grounding(text, W, H)


def test_empty_list_and_no_file():
    assert parse_grounding("[]", W, H).detections == ()
    assert read_grounding(None, W, H).detections == ()
    with pytest.raises(UserError, match="not found"):
        read_grounding("/nonexistent/grounding.json", W, H)


# ---------------------------------------------------------------------------------------------- Qwen3-VL bbox_3d

QWEN3_3D_ANSWER = """I found these objects in the bedroom:
```json
[
  {"bbox_3d": [-0.62, 0.41, 3.05, 1.62, 0.58, 2.08, 0.0, 0.06, 0.0], "label": "bed"},
  {"bbox_2d": [702, 118, 968, 842],
   "bbox_3d": [1.35, -0.05, 3.6, 1.1, 2.05, 0.6, 0.0, -0.48, 0.0], "label": "wardrobe"},
  {"bbox_2d": [405, 505, 470, 640], "label": "lamp"},
  {"bbox_3d": [0.55, 0.65, 2.4, 0.45, 0.5, 0.4, 0.02, 0.97, -0.01], "label": "nightstand"}
]
```"""


def test_mixed_bbox_2d_and_bbox_3d_answer():
    grounding = parse_grounding(QWEN3_3D_ANSWER, W, H)
    assert grounding.format == "qwen3"  # decided by the 2D boxes only
    bed, wardrobe, lamp, nightstand = grounding.detections
    assert [d.label for d in grounding.detections] == ["bed", "wardrobe", "lamp", "nightstand"]
    assert [d.detection_index for d in grounding.detections] == [0, 1, 2, 3]
    # 3D only: the rectangle around the box projected with the cookbook's 60-degree camera, clipped to the photo.
    assert bed.box_xyxy_source == "bbox_3d_virtual_camera"
    center, size, rotation = frames.camera_box_from_qwen3_bbox3d(json.loads(
        QWEN3_3D_ANSWER.split("```json")[1].split("```")[0])[0]["bbox_3d"])
    np.testing.assert_allclose(bed.box_3d_cam_arrays[0], center)
    np.testing.assert_allclose(bed.box_3d_cam_arrays[1], size)
    np.testing.assert_allclose(bed.box_3d_cam_arrays[2], rotation)
    rect = frames.image_rect_of_camera_box(frames.qwen3_virtual_intrinsics(W, H), center, size, rotation)
    np.testing.assert_allclose(bed.box_xyxy_px, np.clip(rect, 0, [W, H, W, H]))
    assert len(bed.box_3d_cam) == 3 and len(bed.box_3d_cam[2]) == 9
    # Both: the 2D box (qwen3 0..1000) gives box_xyxy_px, the 3D box is kept.
    assert wardrobe.box_xyxy_source == "bbox_2d" and wardrobe.box_3d_cam is not None
    np.testing.assert_allclose(wardrobe.box_xyxy_px, frames.pixels_from_qwen3(np.array([702, 118, 968, 842.0]), W, H))
    # 2D only: unchanged behaviour.
    assert lamp.box_3d_cam is None and lamp.box_xyxy_source == "bbox_2d"
    # A yaw near 180 degrees is kept as given (canonicalised later, in frames.upright_box_from_camera_box).
    assert nightstand.box_3d_cam_arrays[2][0, 0] < -0.9
    assert not [w for w in grounding.warnings if "skipped" in w]


def test_bad_bbox_3d_entries_are_warned_and_skipped_with_index_named():
    good = [0.0, 0.3, 3.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    entries = [
        {"bbox_3d": [0.0, 0.3, -2.0, 1, 1, 1, 0, 0, 0], "label": "behind"},          # 0: z <= 0
        {"bbox_3d": [0.0, 0.3, 0.0, 1, 1, 1, 0, 0, 0], "label": "at camera"},        # 1: z == 0
        {"bbox_3d": [float("nan"), 0.3, 3.0, 1, 1, 1, 0, 0, 0], "label": "nan"},    # 2: NaN
        {"bbox_3d": [0.0, 0.3, 3.0, 1, 1, 1, 0], "label": "seven"},                 # 3: 7 numbers
        {"bbox_3d": [0.0, 0.3, 3.0, 1, 0, 1, 0, 0, 0], "label": "flat"},            # 4: zero size
        {"bbox_3d": [0.0, 0.3, 3.0, 1, -1, 1, 0, 0, 0], "label": "negative"},       # 5: negative size
        {"bbox_3d": "1 2 3", "label": "text"},                                       # 6: not numbers
        {"bbox_3d": [0.0, 0.3, 3.0, 1, 1, float("inf"), 0, 0, 0], "label": "inf"},  # 7: inf
        {"bbox_3d": good, "label": "kept"},                                          # 8
    ]
    grounding = parse_grounding(json.dumps(entries), W, H)
    assert [d.detection_index for d in grounding.detections] == [8]
    for index in range(8):
        (warning,) = [w for w in grounding.warnings if f"entry {index} " in w]
        assert "bbox_3d" in warning and "skipped" in warning
    joined = " ".join(grounding.warnings)
    assert "behind the camera" in joined and "7 numbers, not 9" in joined and "not finite" in joined
    assert "not positive" in joined


def test_wild_sizes_clipped_and_bad_3d_next_to_good_2d():
    entries = [
        {"bbox_3d": [0.0, 0.3, 8.0, 45.0, 1.0, 1.0, 0, 0, 0], "label": "huge"},
        {"bbox_2d": [100, 100, 300, 300], "bbox_3d": [0, 0, -1, 1, 1, 1, 0, 0, 0], "label": "2d ok"},
        {"bbox_2d": [1, 2], "bbox_3d": [0.0, 0.3, 3.0, 1, 1, 1, 0, 0, 0], "label": "3d ok"},
    ]
    grounding = parse_grounding(json.dumps(entries), W, H, format="pixels")
    huge, two_d, three_d = grounding.detections
    assert huge.box_3d_cam[1] == (20.0, 1.0, 1.0)
    assert any("entry 0" in w and "clipped to 20 m" in w for w in grounding.warnings)
    assert two_d.box_3d_cam is None and two_d.box_xyxy_px == (100.0, 100.0, 300.0, 300.0)
    assert any("entry 1" in w and "bbox_3d ignored" in w for w in grounding.warnings)
    assert three_d.box_xyxy_source == "bbox_3d_virtual_camera"
    assert any("entry 2" in w and "bbox_3d is used instead" in w for w in grounding.warnings)


def test_bbox_3d_reaching_the_camera_and_single_object_answer():
    # A bed whose near end is behind the camera still gives a detection, clipped to the photo.
    near = json.dumps({"bbox_3d": [0.0, 0.9, 0.7, 1.6, 0.5, 2.1, 0, 0, 0], "label": "bed"})
    (bed,) = parse_grounding(near, W, H).detections
    assert bed.box_xyxy_px[0] == 0.0 and bed.box_xyxy_px[2] == W and bed.box_xyxy_px[3] == H
    assert bed.box_xyxy_px[1] > 0.0


def test_point_2d_entries_skipped_with_clear_warning():
    text = json.dumps([{"point_2d": [500, 500], "label": "lamp"}, {"bbox_2d": [1, 1, 50, 50], "label": "cup"}])
    grounding = parse_grounding(text, W, H, format="pixels")
    assert [d.label for d in grounding.detections] == ["cup"]
    (warning,) = grounding.warnings
    assert "entry 0 (lamp)" in warning and "point" in warning and "bbox_2d or bbox_3d" in warning


# ------------------------------------------------------------------------------------- answers models really give


def test_single_quoted_python_style_answer():
    """A Python repr instead of JSON (single quotes, True/None, tuples): read as literals, never run."""
    text = "[{'bbox_2d': [10,20,300,400], 'label': 'sofa'}]"
    (sofa,) = parse_grounding(text, W, H, format="pixels").detections
    assert sofa.label == "sofa" and sofa.box_xyxy_px == (10.0, 20.0, 300.0, 400.0)
    text = ("Sure:\n[{'bbox_2d': (10, 20, 300, 400), 'label': \"kid's bed\", 'score': None, 'ok': True},\n"
            " {'bbox_2d': [5, 6, 70, 80], 'label': 'lamp', 'on': true}, {'bbox_2d': [1, 2,")
    assert [d.label for d in parse_grounding(text, W, H, format="pixels").detections] == ["kid's bed", "lamp"]
    for code in ("[{'bbox_2d': __import__('os').getcwd(), 'label': 'x'}]", "[{'label': print('x')}]"):
        with pytest.raises(UserError, match="not valid JSON"):
            extract_json(code)


def test_repeated_entries_are_dropped_with_a_warning():
    entries = [
        {"bbox_2d": [100, 200, 600, 700], "label": "bed"},
        {"bbox_2d": [700, 150, 1100, 900], "label": "wardrobe"},
        {"bbox_2d": [100, 200, 600, 700], "label": "bed"},           # 2: exact repeat of 0
        {"bbox_2d": [102, 201, 603, 702], "label": "Bed"},           # 3: IoU > 0.9 with 0, same label
        {"bbox_2d": [100, 200, 600, 700], "label": "blanket"},       # 4: same box, another label: kept
        {"bbox_2d": [150, 250, 600, 700], "label": "bed"},           # 5: IoU 0.73 with 0: a second bed
    ]
    grounding = parse_grounding(json.dumps(entries), W, H, format="pixels")
    assert [d.detection_index for d in grounding.detections] == [0, 1, 4, 5]
    repeats = [w for w in grounding.warnings if "repeats" in w]
    assert len(repeats) == 2
    assert "entry 2 (bed) repeats entry 0" in repeats[0] and "dropped" in repeats[0]
    assert "entry 3 (Bed) repeats entry 0" in repeats[1]
    # 3D boxes: two different bbox_3d are two objects even where their virtual-camera rectangles coincide
    near = [{"bbox_3d": [0.0, 0.9, 0.7 + dz, 1.6, 0.5, 2.1, 0, 0, 0], "label": "bed"} for dz in (0.0, 0.01)]
    assert len(parse_grounding(json.dumps(near), W, H).detections) == 2
    assert len(parse_grounding(json.dumps(near[:1] * 2), W, H).detections) == 1


def test_boxes_as_corner_point_pairs():
    text = json.dumps([{"bbox_2d": [[10, 20], [300, 400]], "label": "sofa"},
                       {"bbox_2d": [[10, 20], [300]], "label": "bad"}])
    grounding = parse_grounding(text, W, H, format="pixels")
    assert [(d.label, d.box_xyxy_px) for d in grounding.detections] == [("sofa", (10.0, 20.0, 300.0, 400.0))]
    assert any("entry 1 (bad)" in w and "skipped" in w for w in grounding.warnings)


@pytest.mark.parametrize("text", [
    'The room (see [left]) has: [{"bbox_2d": [10, 20, 300, 400], "label": "sofa"}]',
    'Boxes are [x1, y1, x2, y2] {in pixels}: [{"bbox_2d": [10, 20, 300, 400], "label": "sofa"}]',
    'Footnote [1]. [{"bbox_2d": [10, 20, 300, 400], "label": "sofa"}]',
    '<think>the sofa is at [1, 2, 3, 4]</think> {"objects": [{"bbox_2d": [10, 20, 300, 400], "label": "sofa"}]}',
])
def test_prose_brackets_before_the_answer(text):
    (sofa,) = parse_grounding(text, W, H, format="pixels").detections
    assert sofa.label == "sofa" and sofa.box_xyxy_px == (10.0, 20.0, 300.0, 400.0)


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, "[" * 900 + "]" * 900, "'" + "[" * 5000,
                                  '[{"bbox_2d": ' + "[" * 3000 + "]" * 3000 + "}]"])
def test_deeply_nested_answer_is_not_valid_json(text):
    """Nesting deep enough to exhaust the JSON decoder's recursion: one UserError line, not a RecursionError."""
    with pytest.raises(UserError, match="not valid JSON") as caught:
        parse_grounding(text, W, H)
    assert "\n" not in str(caught.value)


def test_oversized_and_unreadable_grounding_files(tmp_path):
    from pipeline.grounding import MAX_ANSWER_BYTES

    big = tmp_path / "big.json"
    big.write_text("[" + " " * MAX_ANSWER_BYTES + "]")
    with pytest.raises(UserError, match="over the 8 MB a model's answer can be"):
        read_grounding(big, W, H)
    folder = tmp_path / "folder.json"
    folder.mkdir()
    with pytest.raises(UserError, match="not found"):
        read_grounding(folder, W, H)
