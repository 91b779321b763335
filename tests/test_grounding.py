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
