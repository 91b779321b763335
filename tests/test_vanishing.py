"""Vanishing points: focal, gravity and the room's yaw from a photo's lines (pipeline/camera/vanishing.py).

Synthetic line drawings of a Manhattan room with a known camera, the Blender-rendered sample scenes, and bad input.
"""

from __future__ import annotations

import json
import math
import statistics

import cv2
import numpy as np
import pytest

from pipeline import frames
from pipeline.camera.vanishing import ManhattanEstimate, detect_segments, estimate_manhattan
from tests.conftest import sample_dirs

#: Synthetic drawings: pitch and roll within this (degrees).
SYNTH_ATTITUDE_DEG = 0.5
#: ... the room's yaw, modulo 90 degrees.
SYNTH_YAW_DEG = 1.0
#: ... the focal, relative, when both horizontal vanishing points are finite.
SYNTH_FOCAL_REL = 0.03
#: Sample renders: median relative focal error and median gravity (pitch / roll) error (degrees).
SAMPLES_MEDIAN_FOCAL_REL = 0.05
SAMPLES_MEDIAN_GRAVITY_DEG = 1.5


def wrap_quarter_deg(angle_deg: float) -> float:
    return (angle_deg + 45.0) % 90.0 - 45.0


# ---------------------------------------------------------------------------------------------- line drawings


def _clip_segment_2d(p1, p2, width, height, margin=4.0):
    """Liang-Barsky clip of a segment to the photo (plus a margin); None when it misses."""
    lo = np.array([-margin, -margin])
    hi = np.array([width + margin, height + margin])
    d = p2 - p1
    t0, t1 = 0.0, 1.0
    for axis in range(2):
        for p, q in ((-d[axis], p1[axis] - lo[axis]), (d[axis], hi[axis] - p1[axis])):
            if abs(p) < 1e-12:
                if q < 0:
                    return None
                continue
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
    if t0 >= t1:
        return None
    return p1 + t0 * d, p1 + t1 * d


def _room_segments(rng, room_yaw_deg, n_clutter=40):
    """World segments (M, 2, 3) of a box room (edges, doors, windows, frames, furniture) and of clutter.

    The camera stands at the origin; the room is turned by ``room_yaw_deg`` about +Y, its south wall behind the
    camera.
    """
    width, depth, height = 5.0, 6.0, 2.6
    cam_local = np.array([rng.uniform(-0.8, 0.8), 0.0, depth / 2 - 0.6])
    rot = frames.rot_y(math.radians(room_yaw_deg))

    def world(points_local):
        return (np.asarray(points_local, dtype=float) - cam_local) @ rot.T

    segs = []
    x0, x1, z0, z1 = -width / 2, width / 2, -depth / 2, depth / 2
    corners = [(x0, z0), (x1, z0), (x1, z1), (x0, z1)]
    for (xa, za), (xb, zb) in zip(corners, corners[1:] + corners[:1]):
        segs.append([(xa, 0.0, za), (xb, 0.0, zb)])  # floor edges
        segs.append([(xa, height, za), (xb, height, zb)])  # ceiling edges
    for xa, za in corners:
        segs.append([(xa, 0.0, za), (xa, height, za)])  # vertical corners

    def rect_on_wall(wall, s0, s1, y0, y1):
        # A rectangle on a wall: s runs along the wall, y up.
        if wall == "north":
            pts = [(s0, y0, z0 + 0.01), (s1, y0, z0 + 0.01), (s1, y1, z0 + 0.01), (s0, y1, z0 + 0.01)]
        elif wall == "east":
            pts = [(x1 - 0.01, y0, s0), (x1 - 0.01, y0, s1), (x1 - 0.01, y1, s1), (x1 - 0.01, y1, s0)]
        else:
            pts = [(x0 + 0.01, y0, s0), (x0 + 0.01, y0, s1), (x0 + 0.01, y1, s1), (x0 + 0.01, y1, s0)]
        return [[pts[i], pts[(i + 1) % 4]] for i in range(4)]

    segs += rect_on_wall("north", -1.6, -0.7, 0.0, 2.05)  # door
    segs += rect_on_wall("north", 0.3, 1.8, 0.9, 2.1)  # window
    segs += rect_on_wall("east", -2.0, -0.6, 1.0, 2.2)
    segs += rect_on_wall("west", -1.5, 0.2, 1.2, 1.9)  # picture
    segs += rect_on_wall("west", 1.0, 1.8, 0.0, 2.0)
    for x in np.linspace(x0 + 0.4, x1 - 0.4, 9):  # floor boards
        segs.append([(x, 0.0, z0), (x, 0.0, z1)])
    for (xa, za), (xb, zb) in zip(corners, corners[1:] + corners[:1]):  # skirting boards
        segs.append([(xa, 0.1, za), (xb, 0.1, zb)])
    rug = [(-1.0, -2.2), (1.0, -2.2), (1.0, -0.6), (-1.0, -0.6)]
    segs += [[(xa, 0.005, za), (xb, 0.005, zb)] for (xa, za), (xb, zb) in zip(rug, rug[1:] + rug[:1])]
    # Axis-aligned boxes (furniture).
    for center, size in (((-1.2, 0.0, -1.5), (1.6, 0.8, 0.9)), ((1.3, 0.0, -2.4), (0.9, 1.8, 0.5)),
                         ((2.1, 0.0, 0.3), (0.6, 0.75, 1.4)), ((-2.0, 0.0, 1.0), (0.5, 2.0, 1.2))):
        corners8 = frames.box_corners(np.array(center) + [0, size[1] / 2, 0], size, 0.0)
        for a, b in frames.BOX_EDGES:
            segs.append([corners8[a], corners8[b]])
    world_segments = [world(s) for s in segs]
    # Clutter: random 3D directions inside the room.
    for _ in range(n_clutter):
        p = np.array([rng.uniform(x0, x1), rng.uniform(0.0, height), rng.uniform(z0, z1 - 1.0)])
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        world_segments.append(world([p, p + rng.uniform(0.3, 1.2) * d]))
    return np.array(world_segments)


def render_room(width, height, fx, pitch_deg, roll_deg, room_yaw_deg, seed=0, n_clutter=40):
    """A line drawing (H, W, 3) uint8 of a Manhattan room: dark anti-aliased lines 2 px wide on a light ground."""
    rng = np.random.default_rng(seed)
    k = frames.intrinsics_matrix(fx, fx, width / 2, height / 2)
    world_from_camera = frames.world_from_camera_from_attitude(math.radians(pitch_deg), math.radians(roll_deg), 1.45)
    camera_from_world = frames.invert_rigid(world_from_camera)
    image = np.full((height, width, 3), 235, np.uint8)
    for seg in _room_segments(rng, room_yaw_deg, n_clutter):
        cam = frames.transform_points(camera_from_world, seg)
        za, zb = cam[0, 2], cam[1, 2]
        near = 0.05
        if za < near and zb < near:
            continue
        if za < near or zb < near:  # clip at the near plane
            t = (near - za) / (zb - za)
            clipped = cam[0] + t * (cam[1] - cam[0])
            cam = np.array([clipped, cam[1]]) if za < near else np.array([cam[0], clipped])
        uv, _ = frames.project_points(k, cam)
        clipped2d = _clip_segment_2d(uv[0], uv[1], width, height)
        if clipped2d is None:
            continue
        # cv2 draws with pixel centres at integers (CONVENTIONS.md: at i + 0.5); shift=4 gives sub-pixel ends.
        a, b = ((np.asarray(p) - 0.5) * 16.0 for p in clipped2d)
        cv2.line(image, tuple(int(round(c)) for c in a), tuple(int(round(c)) for c in b), (25, 25, 25), 2,
                 cv2.LINE_AA, shift=4)
    return image, world_from_camera


# (width, height, fx, pitch_deg, roll_deg, room_yaw_deg)
TWO_POINT_CASES = [
    (1024, 768, 700.0, -10.0, 3.0, 25.0),
    (960, 720, 500.0, -20.0, -4.0, 35.0),
    (1280, 960, 900.0, -5.0, 5.0, 15.0),
    (768, 1024, 600.0, -15.0, -2.0, 30.0),
    (1200, 900, 800.0, -25.0, 1.0, 40.0),
    (1024, 768, 650.0, 0.0, 0.0, 20.0),
    (4000, 3000, 2800.0, -12.0, -1.5, 28.0),
]


def _check_attitude(estimate: ManhattanEstimate, pitch_deg, roll_deg, room_yaw_deg, attitude_tol=SYNTH_ATTITUDE_DEG):
    assert estimate is not None
    assert abs(math.degrees(estimate.pitch_rad) - pitch_deg) < attitude_tol, estimate
    assert abs(math.degrees(estimate.roll_rad) - roll_deg) < attitude_tol, estimate
    assert abs(wrap_quarter_deg(math.degrees(estimate.room_yaw_rad) - room_yaw_deg)) < SYNTH_YAW_DEG, estimate


@pytest.mark.parametrize("width,height,fx,pitch_deg,roll_deg,room_yaw_deg", TWO_POINT_CASES)
def test_synthetic_two_point(width, height, fx, pitch_deg, roll_deg, room_yaw_deg):
    image, _ = render_room(width, height, fx, pitch_deg, roll_deg, room_yaw_deg)
    estimate = estimate_manhattan(image)
    _check_attitude(estimate, pitch_deg, roll_deg, room_yaw_deg)
    assert estimate.focal_source == "vanishing_points", estimate.notes
    assert abs(estimate.focal_px / fx - 1.0) < SYNTH_FOCAL_REL, (estimate.focal_px, fx)
    assert estimate.confidence > 0.5
    # With the focal given the attitude is as good.
    given = estimate_manhattan(image, focal_px=fx)
    _check_attitude(given, pitch_deg, roll_deg, room_yaw_deg)
    assert given.focal_source == "given" and given.focal_px == fx


@pytest.mark.parametrize("pitch_deg,roll_deg", [(-12.0, 2.0), (-3.0, -4.0), (-22.0, 0.5)])
def test_synthetic_one_point_perspective(pitch_deg, roll_deg):
    """Room yaw 0: the second horizontal direction is parallel to the image plane. A camera pitched by 10 degrees
    or more has a finite vertical vanishing point, which with the finite horizontal one gives the focal; nearer
    level the focal is not observable."""
    width, height, fx = 1024, 768, 720.0
    image, _ = render_room(width, height, fx, pitch_deg, roll_deg, 0.0)
    free = estimate_manhattan(image)
    assert free is not None
    assert abs(math.degrees(free.roll_rad) - roll_deg) < SYNTH_ATTITUDE_DEG
    if abs(pitch_deg) >= 10.0:
        assert free.focal_source == "vanishing_points", free.notes
        assert free.focal_px == pytest.approx(fx, rel=SYNTH_FOCAL_REL)
        assert any("the vertical and a horizontal" in note for note in free.notes)
        _check_attitude(free, pitch_deg, roll_deg, 0.0)
    else:  # the focal is not pinned down: the default, or the fits' weak average, and the note says so
        assert free.focal_source in ("none", "weak")
        assert any("not observable" in note or "only weakly" in note for note in free.notes)
        # pitch is computed with that focal, so only roughly right
        assert abs(math.degrees(free.pitch_rad) - pitch_deg) < 0.5 * abs(pitch_deg) + 1.0
    given = estimate_manhattan(image, focal_px=fx)
    _check_attitude(given, pitch_deg, roll_deg, 0.0)
    assert given.focal_source == "given"


def test_upside_down_and_deterministic():
    """Lines cannot tell an upside-down photo from a camera looking up: the result says so; same input, same output."""
    image, _ = render_room(1024, 768, 700.0, -12.0, 2.0, 25.0)
    first, second = estimate_manhattan(image), estimate_manhattan(image.copy())
    assert first.pitch_rad == second.pitch_rad and first.focal_px == second.focal_px
    np.testing.assert_array_equal(first.segment_family, second.segment_family)
    flipped = estimate_manhattan(np.ascontiguousarray(image[::-1, ::-1]))
    assert flipped is not None
    assert math.degrees(flipped.pitch_rad) == pytest.approx(12.0, abs=SYNTH_ATTITUDE_DEG)
    assert any("upside down" in note for note in flipped.notes)


def test_synthetic_clutter_heavy():
    """Twice as many clutter segments as the room has edges: the Manhattan directions still win."""
    image, _ = render_room(1024, 768, 640.0, -14.0, -3.0, 32.0, seed=3, n_clutter=150)
    estimate = estimate_manhattan(image)
    _check_attitude(estimate, -14.0, -3.0, 32.0)
    assert abs(estimate.focal_px / 640.0 - 1.0) < SYNTH_FOCAL_REL


def test_output_frames_and_families():
    """The vertical direction maps to world +Y and A, B to the room's axes through frames; families are labelled."""
    image, world_from_camera = render_room(1024, 768, 700.0, -10.0, 3.0, 25.0)
    estimate = estimate_manhattan(image)
    rotation = frames.world_from_camera_from_attitude(estimate.pitch_rad, estimate.roll_rad, 1.0)[:3, :3]
    vertical, axis_a, axis_b = estimate.vp_directions_cam
    np.testing.assert_allclose(rotation @ vertical, [0.0, 1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(rotation @ axis_a, frames.rot_y(estimate.room_yaw_rad) @ [1.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(rotation @ axis_b, frames.rot_y(estimate.room_yaw_rad) @ [0.0, 0.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(estimate.vp_directions_cam @ estimate.vp_directions_cam.T, np.eye(3), atol=1e-9)
    np.testing.assert_allclose(np.cross(axis_a, vertical), axis_b, atol=1e-9)  # A x vertical = B
    # Vanishing points in pixels: the vertical one lies where the vertical segments converge.
    vp = estimate.vanishing_points_px(1024, 768)[0]
    seg = estimate.segments_px[estimate.segment_family == 0]
    along = seg[:, 2:] - seg[:, :2]
    to_vp = vp[:2] / vp[2] - 0.5 * (seg[:, :2] + seg[:, 2:])
    cross = along[:, 0] * to_vp[:, 1] - along[:, 1] * to_vp[:, 0]
    sine = np.abs(cross) / np.linalg.norm(along, axis=1) / np.linalg.norm(to_vp, axis=1)
    assert np.all(np.degrees(np.arcsin(sine)) < 2.0)
    # The true up direction in the camera frame agrees.
    true_up = world_from_camera[:3, :3].T @ [0.0, 1.0, 0.0]
    assert math.degrees(math.acos(min(1.0, float(true_up @ vertical)))) < SYNTH_ATTITUDE_DEG
    assert -math.pi / 4 <= estimate.room_yaw_rad < math.pi / 4
    n = len(estimate.segments_px)
    assert estimate.segments_px.shape == (n, 4) and estimate.segment_family.shape == (n,)
    assert set(np.unique(estimate.segment_family)) <= {-1, 0, 1, 2}
    assert all(np.count_nonzero(estimate.segment_family == k) >= 4 for k in range(3))
    # Vertical-family segments are near-vertical in the photo.
    seg = estimate.segments_px[estimate.segment_family == 0]
    assert np.all(np.abs(seg[:, 3] - seg[:, 1]) > np.abs(seg[:, 2] - seg[:, 0]))
    assert 0.0 <= estimate.confidence <= 1.0


def test_segments_in_photo_pixels():
    """Segments come back in photo pixels (pixel centres at i + 0.5) whatever the working scale."""
    image = np.full((1500, 2000, 3), 235, np.uint8)
    # A horizontal and a vertical bar with known edges: rows 700..799 and columns 1200..1299 are dark.
    image[700:800, 100:1100] = 20
    image[100:600, 1200:1300] = 20
    segments = detect_segments(image, max_side_px=640)
    assert len(segments) >= 4
    ys = np.concatenate([segments[:, 1], segments[:, 3]])
    horizontal = segments[np.abs(segments[:, 3] - segments[:, 1]) < 5]
    edge_rows = np.sort(np.unique(np.round(horizontal[:, [1, 3]].mean(axis=1))))
    assert ys.min() > 50 and ys.max() < 850
    # The bar's top and bottom edges lie at y = 700 and y = 800 (continuous coordinates).
    assert any(abs(r - 700) < 4 for r in edge_rows) and any(abs(r - 800) < 4 for r in edge_rows), edge_rows


# ---------------------------------------------------------------------------------------------- sample renders


def _sample_report():
    rows = []
    for sample in sample_dirs():
        from PIL import Image

        truth = json.loads((sample / "truth.json").read_text())
        camera = truth["camera"]
        rgb = np.asarray(Image.open(sample / "photo.png").convert("RGB"))
        one_point = abs(truth["room"]["yaw"]) < math.radians(3.0)
        # One-point perspective (office_01): the focal is unobservable, pass the true one as if from EXIF.
        estimate = estimate_manhattan(rgb, focal_px=camera["fx"] if one_point else None)
        assert estimate is not None, sample.name
        true_up = np.array(camera["world_from_camera"])[:3, :3].T @ [0.0, 1.0, 0.0]
        gravity = math.degrees(math.acos(min(1.0, float(true_up @ estimate.vp_directions_cam[0]))))
        rows.append(dict(
            scene=sample.name,
            focal_source=estimate.focal_source,
            focal_err_pct=(100.0 * (estimate.focal_px / camera["fx"] - 1.0)
                           if estimate.focal_source == "vanishing_points" else None),
            pitch_err_deg=math.degrees(estimate.pitch_rad) - camera["pitch_deg"],
            roll_err_deg=math.degrees(estimate.roll_rad) - camera["roll_deg"],
            gravity_err_deg=gravity,
            yaw_err_deg=wrap_quarter_deg(math.degrees(estimate.room_yaw_rad - truth["room"]["yaw"])),
            confidence=estimate.confidence,
        ))
    return rows


def test_sample_renders():
    rows = _sample_report()
    assert rows, "the sample scenes are part of the repository"
    print("\nscene                focal source     f err%  pitch err  roll err  gravity  yaw err  conf")
    for r in rows:
        focal = "   --" if r["focal_err_pct"] is None else f"{r['focal_err_pct']:+6.2f}"
        print(f"{r['scene']:20s} {r['focal_source']:16s} {focal}  {r['pitch_err_deg']:+8.2f}  {r['roll_err_deg']:+8.2f}"
              f"  {r['gravity_err_deg']:7.2f}  {r['yaw_err_deg']:+7.2f}  {r['confidence']:.2f}")
    focal_errors = [abs(r["focal_err_pct"]) / 100.0 for r in rows if r["focal_err_pct"] is not None]
    assert len(focal_errors) >= len(rows) - 1, "the focal should come from the lines in every two-point scene"
    assert statistics.median(focal_errors) <= SAMPLES_MEDIAN_FOCAL_REL
    assert statistics.median(r["gravity_err_deg"] for r in rows) <= SAMPLES_MEDIAN_GRAVITY_DEG
    assert statistics.median(abs(r["pitch_err_deg"]) for r in rows) <= SAMPLES_MEDIAN_GRAVITY_DEG
    assert statistics.median(abs(r["roll_err_deg"]) for r in rows) <= SAMPLES_MEDIAN_GRAVITY_DEG
    assert statistics.median(abs(r["yaw_err_deg"]) for r in rows) <= 2.0


# ---------------------------------------------------------------------------------------------- bad input


def _noise():
    return np.random.default_rng(0).integers(0, 256, size=(480, 640, 3), dtype=np.uint8)


def _stripes():
    image = np.full((480, 640, 3), 200, np.uint8)
    image[:, ::40] = 20  # one direction only
    return image


def _frontal_wall():
    """A close-up of a wall seen square on: one picture frame, both its directions parallel to the image plane."""
    image = np.full((480, 640, 3), 220, np.uint8)
    cv2.rectangle(image, (200, 140), (440, 330), (40, 40, 40), 3, cv2.LINE_AA)
    return image


@pytest.mark.parametrize("make", [
    _noise,
    lambda: np.full((480, 640, 3), 128, np.uint8),  # flat colour
    lambda: np.zeros((20, 20, 3), np.uint8),
    lambda: _noise()[:20, :20],
    lambda: np.zeros((1, 1, 3), np.uint8),
    lambda: np.zeros((0, 0, 3), np.uint8),
    lambda: _noise()[:, :, 0],  # grayscale
    lambda: _noise().astype(np.float32) / 255.0,  # float image
    lambda: np.dstack([_noise(), np.full((480, 640), 255, np.uint8)]),  # RGBA
    _stripes,
    _frontal_wall,
])
def test_bad_inputs_never_raise(make):
    estimate = estimate_manhattan(make())
    if estimate is not None:
        assert estimate.focal_source != "vanishing_points" or estimate.confidence < 0.3
        assert 0.0 <= estimate.confidence <= 1.0


def test_noise_and_flat_give_nothing():
    assert estimate_manhattan(np.full((480, 640, 3), 128, np.uint8)) is None
    noise = estimate_manhattan(_noise())
    assert noise is None or noise.confidence < 0.3
    assert estimate_manhattan(np.zeros((20, 20, 3), np.uint8)) is None


def test_invalid_focal_is_a_value_error():
    image, _ = render_room(640, 480, 450.0, -10.0, 0.0, 25.0)
    for focal in (0.0, -5.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            estimate_manhattan(image, focal_px=focal)


def test_cauchy_least_squares_finds_scipys_answer_and_keeps_its_bounds():
    from scipy.optimize import least_squares

    from pipeline.camera.vanishing import cauchy_least_squares

    rng = np.random.default_rng(3)
    t = np.linspace(-1.0, 1.0, 200)
    truth = np.array([0.3, -1.2, 0.7, 0.05])
    y = truth[0] + truth[1] * t + truth[2] * np.sin(3 * t) + truth[3] * t ** 3 + rng.normal(0, 0.01, t.size)
    y[::9] += rng.normal(0, 2.0, y[::9].size)  # outliers

    def residuals(x):
        return (x[0] + x[1] * t + x[2] * np.sin(3 * t) + x[3] * t ** 3 - y) / 0.01

    ours = cauchy_least_squares(residuals, np.zeros(4), 1.0, max_nfev=200)
    theirs = least_squares(residuals, np.zeros(4), loss="cauchy", f_scale=1.0, max_nfev=200).x
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    clean = np.ones(t.size, bool)
    clean[::9] = False
    assert np.abs(residuals(ours)[clean]).max() < 5.0  # the outliers do not pull the curve: 5 sigma of the noise
    bounded = cauchy_least_squares(residuals, np.zeros(4), 1.0, lower=[-np.inf, -np.inf, -np.inf, 0.2],
                                   upper=[np.inf, np.inf, 0.5, np.inf], max_nfev=200)
    assert bounded[2] <= 0.5 and bounded[3] >= 0.2
