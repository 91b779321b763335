"""Stage 3: the camera estimate: intrinsics, gravity (pitch, roll), the room's heading, and ``world_from_camera``.

Intrinsics, first that applies (each with its source and a confidence): the user's ``focal_px`` / ``fov_deg`` >
EXIF ``FocalLengthIn35mmFilm`` > EXIF ``FocalLength`` through the sensor resolution > the vanishing points of the
photo's lines (:mod:`.vanishing`; a weak one blended with the default, ``vanishing_points+default``) > a depth
model's field of view (Depth Pro, ``depth_model``) > a stated default (a phone's main camera). The depth model goes
before vanishing points whose confidence is below ``LINES_OVER_DEPTH_MODEL_CONFIDENCE``. A measured depth map
(a file) then narrows any focal but the user's and EXIF's: its floor and walls meet at right angles only with the
right focal (:func:`.gravity_depth.focal_scale_from_planes`), and the two are combined by their spreads
(``...+depth_planes``). Principal point at the image centre.

Attitude, each step a hypothesis the next may weigh: the lines' choice among their fits' axes (:mod:`.attitude`,
with the boxes' evidence, :mod:`.objects`), else a level camera; the boxes alone where they fit another attitude far
better; a metric depth map's floor and walls combined by their spreads (:mod:`.gravity_depth`); the user's pitch
and roll over all. Every guess leaves a warning with its fix (``CameraEstimate.warnings``). The room's yaw (its
walls' heading relative to the camera) comes from the horizontal vanishing points, or from a metric map's walls
where there are no lines or a measured map's main walls run elsewhere (:func:`.gravity_depth.walls_yaw`). The
camera height, which sets the metric scale, comes from the user or a hand-held prior; the solver refines the prior
from the objects' sizes.
"""

from __future__ import annotations

import math

from .. import frames
from ..errors import UserError
from ..records import CameraEstimate, DepthMap, Detection, Intrinsics, Photo
from .attitude import attitude_log_prior, room_yaw_for_attitude
from .intrinsics import (
    DEFAULT_CAMERA_HEIGHT_M,
    DEFAULT_FOCAL_35MM_MM,
    focal_px_from_35mm,
    focal_px_from_fov,
    plausible_focal,
)

#: A vanishing-point focal of at least this confidence is used as it is; between MIN_BLENDED_FOCAL_CONFIDENCE and
#: this it is blended with the default in log space (the weaker, the closer to the default); below, not used.
MIN_LINE_CONFIDENCE = 0.3
MIN_BLENDED_FOCAL_CONFIDENCE = 0.15
#: Confidence given to a focal the lines give only weakly (their fits averaged where none pins it down).
WEAK_FOCAL_CONFIDENCE = 0.25
#: A vanishing-point attitude below this confidence is not used (a level camera is assumed instead). Low: an
#: uncertain attitude from the room's own lines is still far better than assuming a level camera, which is 20 to
#: 40 degrees off for a phone pointed at furniture.
MIN_ATTITUDE_CONFIDENCE = 0.05
#: A depth model's focal (Depth Pro's field of view) loses to vanishing points at least this confident.
LINES_OVER_DEPTH_MODEL_CONFIDENCE = 0.6
#: Gravity spread (degrees) of a vanishing-point attitude of confidence 1; it grows as 1 / confidence.
LINE_SIGMA_AT_FULL_CONFIDENCE_DEG = 2.0
#: Lines and depth further apart than this many combined sigmas are in conflict (one of them is wrong).
CONFLICT_SIGMAS = 3.0
#: Relative 1-sigma uncertainty of the focal by its source: a wrong focal tilts the lines' pitch and shears a depth
#: map's planes. The default's is that of the focal prior: phones' main cameras span 22-32 mm equivalent, and a
#: cropped photo is longer still.
FOCAL_REL_SIGMA = {"user": 0.01, "exif": 0.03, "exif_sensor": 0.05, "vanishing_points": 0.06,
                   "vanishing_points+default": 0.15, "vanishing_points_weak": 0.3, "depth_model": 0.1,
                   "default": 0.3}
#: Log-likelihood margin (nats) by which the objects' boxes must favour another attitude over the lines' to
#: replace it, and over a level camera when there are no lines; the spread given to an attitude from objects.
OBJECTS_OVERRIDE_NATS = 6.0
OBJECTS_OVER_LEVEL_NATS = 3.0
OBJECTS_SIGMA_DEG = 8.0
#: ... and they must be at least this many boxes of at least this many categories (two kitchen wall cabinets,
#: taken for floor cabinets, must not tilt the room; a sofa and a chair that agree may).
OBJECTS_MIN_COUNT = 2
OBJECTS_MIN_CATEGORIES = 2
#: A camera found looking up by more than this (degrees) gets a warning, and at most this attitude confidence.
LOOKING_UP_WARN_DEG = 10.0
LOOKING_UP_MAX_CONFIDENCE = 0.4
#: Below this attitude confidence the terminal, scene.json and the page say the tilt is uncertain.
UNCERTAIN_ATTITUDE_CONFIDENCE = 0.3
#: Confidence given to a depth model's focal: a learned guess, above the default and below measured vanishing points.
DEPTH_MODEL_FOCAL_CONFIDENCE = 0.5
#: Least confidence of a focal combined with a measured map's planes (:func:`.gravity_depth.focal_scale_from_planes`).
PLANES_FOCAL_CONFIDENCE = 0.5
#: The room's heading from a metric map's walls (a group of at least this many of its points; walls within this
#: many degrees of the lines' heading agree with it) ...
MIN_WALL_YAW_POINTS = 1000
WALL_YAW_CONFLICT_DEG = 5.0
#: ... when that group holds this share of the map's points and this many times the points of the walls that
#: agree with the lines (a big wall seen square, against a cabinet set at an angle or a door left open).
WALLS_OVER_LINES_SHARE = 0.15
WALLS_OVER_LINES_RATIO = 1.5
#: Sources a measured map's planes do not second-guess: the user's focal and the photo's EXIF.
FOCAL_SOURCES_KEPT = ("user", "exif", "exif_sensor")
#: The lines are fitted again with the combined focal when it moved by more than this (relative).
REFIT_LINES_FOCAL_CHANGE = 0.02


def estimate_camera(
    photo: Photo,
    focal_px: float | None = None,
    fov_deg: float | None = None,
    camera_height_m: float | None = None,
    pitch_deg: float | None = None,
    roll_deg: float | None = None,
    use_lines: bool = True,
    depth_focal_px: float | None = None,
    depth: DepthMap | None = None,
    detections: tuple[Detection, ...] | None = None,
) -> CameraEstimate:
    """The camera of ``photo``: intrinsics and attitude with their sources and confidences.

    ``depth_focal_px``: a depth model's focal estimate in pixels of the photo (``DepthMap.focal_px``), a
    candidate ranked below the user, EXIF and confident vanishing points. ``depth``: the photo's depth map when
    one was given; its model's focal stands in for ``depth_focal_px`` when that is None, and a metric map's planes
    give gravity (:mod:`.gravity_depth`). ``detections``: the grounding's boxes; floor-standing furniture must
    stand on the floor and be as tall as its kind (:mod:`.objects`), which weighs the attitude hypotheses."""
    if depth_focal_px is None and depth is not None:
        depth_focal_px = depth.focal_px
    width, height = photo.width_px, photo.height_px
    notes: list[str] = []
    focal, source, confidence = _given_focal(photo, focal_px, fov_deg, notes)
    if camera_height_m is not None and not (math.isfinite(camera_height_m) and 0.1 <= camera_height_m <= 10.0):
        raise UserError(f"--camera-height {camera_height_m} m is not plausible (0.1 to 10 m)")
    height_m = DEFAULT_CAMERA_HEIGHT_M if camera_height_m is None else float(camera_height_m)

    for name, value in (("pitch", pitch_deg), ("roll", roll_deg)):
        if value is not None and not (math.isfinite(value) and abs(value) < 80.0):
            raise UserError(f"--{name}-deg must be within +-80 degrees")

    cue = None
    if detections:
        from .objects import object_cue

        cue = object_cue(detections, width, height)
    # the boxes weigh each line hypothesis when there are enough of them, of more than one kind (two kitchen wall
    # cabinets taken for floor cabinets must not pick the attitude), and may overrule the lines afterwards
    # (:func:`_attitude_from_objects`)
    evidence = cue.log_likelihood if cue is not None and _cue_counts(cue) else None
    lines = None
    if use_lines:
        from .vanishing import estimate_manhattan

        lines = estimate_manhattan(photo.rgb, focal_px=focal, evidence=evidence)
        if lines is not None:
            notes.extend(lines.notes)
        if lines is None:
            notes.append("too few straight lines for vanishing points")
        elif lines.confidence < MIN_ATTITUDE_CONFIDENCE:
            notes.append(f"vanishing points found with very low confidence ({lines.confidence:.2f}): not used")
            lines = None
    if focal is None and lines is not None and lines.focal_source == "vanishing_points" \
            and lines.focal_confidence >= MIN_BLENDED_FOCAL_CONFIDENCE \
            and plausible_focal(lines.focal_px, width) \
            and (not plausible_focal(depth_focal_px, width)
                 or lines.focal_confidence >= LINES_OVER_DEPTH_MODEL_CONFIDENCE):
        focal, source, confidence = float(lines.focal_px), "vanishing_points", lines.focal_confidence
        if confidence < MIN_LINE_CONFIDENCE:
            # a step, not a jump: a weak line focal is pulled towards the default in proportion to its weakness
            weight = (confidence - MIN_BLENDED_FOCAL_CONFIDENCE) / (MIN_LINE_CONFIDENCE - MIN_BLENDED_FOCAL_CONFIDENCE)
            default = focal_px_from_35mm(DEFAULT_FOCAL_35MM_MM, width, height)
            focal = math.exp(weight * math.log(focal) + (1.0 - weight) * math.log(default))
            source = "vanishing_points+default"
            notes.append(f"the lines' focal ({lines.focal_px:.0f} px, confidence {confidence:.2f}) is weak: blended "
                         f"with the {DEFAULT_FOCAL_35MM_MM:g} mm-equivalent default ({default:.0f} px) to "
                         f"{focal:.0f} px")
            lines = estimate_manhattan(photo.rgb, focal_px=focal, evidence=evidence) or lines
    if focal is None and lines is not None and lines.focal_source == "weak" and plausible_focal(lines.focal_px, width) \
            and not plausible_focal(depth_focal_px, width):
        # the lines do not pin the focal down, but their fits lean away from the default: a step before it
        focal, source, confidence = float(lines.focal_px), "vanishing_points_weak", WEAK_FOCAL_CONFIDENCE
    if focal is None and depth_focal_px is not None:
        if plausible_focal(depth_focal_px, width):
            focal, source, confidence = float(depth_focal_px), "depth_model", DEPTH_MODEL_FOCAL_CONFIDENCE
            notes.append(f"focal {focal:.0f} px from the depth model's field of view")
            if lines is not None and lines.focal_source == "vanishing_points":
                # the attitude was found with the lines' own focal, which lost to the depth model's: again with it
                lines = estimate_manhattan(photo.rgb, focal_px=focal, evidence=evidence) or lines
        else:
            notes.append(f"the depth model's focal ({depth_focal_px:.4g} px) is implausible: ignored")
    if focal is None:
        focal, source, confidence = focal_px_from_35mm(DEFAULT_FOCAL_35MM_MM, width, height), "default", 0.2
        notes.append(f"no focal length known: assumed a {DEFAULT_FOCAL_35MM_MM:g} mm-equivalent phone camera")
        if lines is not None and lines.focal_source == "vanishing_points":
            # the attitude was found with a free focal that was not believed: find it again with this one (when
            # the focal was not observable, the line estimate already used this same default)
            lines = estimate_manhattan(photo.rgb, focal_px=focal, evidence=evidence) or lines
    intrinsics = Intrinsics.from_focal(focal, width, height)
    focal_sigma = FOCAL_REL_SIGMA[source]
    focal_warned = source  # the focal's own source decides the warning; a map's planes narrow it, not remove it
    planes = None
    if depth is not None and depth.kind == "metric_depth":
        from .gravity_depth import map_planes

        planes = map_planes(depth, intrinsics.k_matrix)  # segmented once: a new focal only shears them
    if planes is not None and depth.source.startswith("file:") and source not in FOCAL_SOURCES_KEPT:
        combined = _focal_with_planes(planes, focal, focal_sigma, source, notes)
        if combined is not None:
            before = focal
            focal, focal_sigma = combined
            source, confidence = f"{source}+depth_planes", max(confidence, PLANES_FOCAL_CONFIDENCE)
            intrinsics = Intrinsics.from_focal(focal, width, height)
            planes = planes.with_focal_scale(focal / before)
            if lines is not None and abs(math.log(focal / before)) > REFIT_LINES_FOCAL_CHANGE:
                from .vanishing import estimate_manhattan

                lines = estimate_manhattan(photo.rgb, focal_px=focal, evidence=evidence) or lines

    warnings: list[str] = []
    conflicts: list[str] = []
    attitude_sigma = None
    if lines is not None:
        pitch, roll, attitude_source, attitude_confidence = (
            lines.pitch_rad, lines.roll_rad, "vanishing_points", lines.confidence)
        # the pitch the lines give leans on the focal: a vertical vanishing point at a given place in the photo
        # means a steeper pitch with a longer focal (d pitch / d log f = sin(2 pitch) / 2)
        focal_tilt_deg = math.degrees(abs(math.sin(2.0 * pitch)) / 2.0 * focal_sigma)
        attitude_sigma = math.hypot(line_sigma_deg(lines.confidence), focal_tilt_deg)
        attitude_confidence = confidence_from_sigma(attitude_sigma)
        room_yaw, room_yaw_source = lines.room_yaw_rad, "vanishing_points"
    else:
        pitch, roll, attitude_source, attitude_confidence = 0.0, 0.0, "assumed_level", 0.1
        room_yaw, room_yaw_source = 0.0, "assumed_facing_camera"
    if cue is not None and pitch_deg is None and roll_deg is None:
        by_objects = _attitude_from_objects(cue, focal, pitch, roll, lines, notes)
        if by_objects is not None:
            up, attitude_sigma = by_objects
            pitch, roll = frames.attitude_from_up_in_camera(up)
            attitude_source, attitude_confidence = "objects", confidence_from_sigma(attitude_sigma)
            if lines is not None:
                room_yaw = room_yaw_for_attitude(lines.vp_directions_cam[1], pitch, roll)
    if depth is not None and depth.kind == "metric_depth" and pitch_deg is None and roll_deg is None:
        # the lines' pitch leans on the focal (their spread's share from it, which the map's floor shares with the
        # opposite sign); the boxes' attitude is taken as independent of it
        lines_tilt_deg = focal_tilt_deg if attitude_source == "vanishing_points" else 0.0
        current = None if attitude_source == "assumed_level" else (
            frames.up_in_camera_from_attitude(pitch, roll), attitude_sigma, attitude_source, lines_tilt_deg)
        fused = _with_depth_gravity(depth, intrinsics, focal_sigma, current, notes, conflicts, planes)
        if fused is not None:
            up, attitude_sigma, attitude_source = fused
            pitch, roll = frames.attitude_from_up_in_camera(up)
            attitude_confidence = confidence_from_sigma(attitude_sigma)
            if lines is not None:
                room_yaw = room_yaw_for_attitude(lines.vp_directions_cam[1], pitch, roll)
    if pitch_deg is not None or roll_deg is not None:
        pitch = math.radians(pitch_deg) if pitch_deg is not None else pitch
        roll = math.radians(roll_deg) if roll_deg is not None else roll
        attitude_source, attitude_confidence, attitude_sigma = "user", 1.0, 0.0
    if planes is not None and attitude_source != "assumed_level":
        by_walls = _room_yaw_from_walls(planes, pitch, roll, room_yaw if lines is not None else None,
                                        depth.source.startswith("file:"), notes, intrinsics.k_matrix,
                                        [d.box_xyxy_px for d in detections or ()])
        if by_walls is not None:
            room_yaw, room_yaw_source = by_walls, "depth_walls"
    if attitude_source not in ("user", "assumed_level") and pitch > math.radians(LOOKING_UP_WARN_DEG):
        # lines cannot tell a camera looking up from an upside-down photo, nor a room's horizontal from gravity
        # in a photo turned by 90 degrees whose EXIF orientation was lost: an upward look is what those give
        attitude_confidence = min(attitude_confidence, LOOKING_UP_MAX_CONFIDENCE)
        warnings.append(f"the camera looks up by {math.degrees(pitch):.0f} deg, unusual for a room photo: if the "
                        "photo is upside down or turned by 90 degrees (lost EXIF orientation), rotate it upright; "
                        "else give --pitch-deg/--roll-deg to confirm")
    warnings.extend(_camera_warnings(focal_warned, attitude_source, attitude_confidence, conflicts))
    return CameraEstimate(
        intrinsics=intrinsics,
        intrinsics_source=source,
        world_from_camera=frames.world_from_camera_from_attitude(pitch, roll, height_m),
        pitch_rad=pitch,
        roll_rad=roll,
        height_m=height_m,
        attitude_source=attitude_source,
        height_source="prior" if camera_height_m is None else "user",
        notes=tuple(notes),
        intrinsics_confidence=confidence,
        attitude_confidence=attitude_confidence,
        room_yaw_rad=room_yaw,
        room_yaw_source=room_yaw_source,
        lines=lines,
        attitude_sigma_deg=attitude_sigma,
        warnings=tuple(warnings),
    )


def line_sigma_deg(confidence: float) -> float:
    """1-sigma gravity uncertainty (degrees) of a vanishing-point attitude of this confidence (measured on real
    photos: confident fits are within 2-3 degrees, those below 0.3 can be off by 10 or more)."""
    return LINE_SIGMA_AT_FULL_CONFIDENCE_DEG / max(confidence, 0.05)


def confidence_from_sigma(sigma_deg: float) -> float:
    """0..1 confidence of an attitude with this 1-sigma uncertainty, the inverse of :func:`line_sigma_deg`: one
    scale for every cue (lines, objects, depth and their combinations)."""
    return float(min(1.0, LINE_SIGMA_AT_FULL_CONFIDENCE_DEG / max(sigma_deg, 1e-9)))


def _with_depth_gravity(depth: DepthMap, intrinsics: Intrinsics, focal_rel_sigma: float, current, notes: list[str],
                        conflicts: list[str], planes=None):
    """``(up_cam, sigma_deg, source)`` from a metric depth map's planes combined by their uncertainties with the
    ``current`` attitude (``(up_cam, sigma_deg, source, focal_tilt_deg)`` of the lines or the objects, the last
    the share of the spread that comes from the focal; None for a level camera assumed), or None when the map
    shows no usable planes or loses. Where the two disagree beyond their spreads, a measured map's (a file's) floor
    wins (a floor is gravity; lines can be mistaken for one another); walls alone lose to a surer answer, and a
    depth model's planes never overrule one. A disagreement beyond the spreads goes to ``conflicts`` as well as
    ``notes``.

    Pitch and roll are combined apart. The map's planes are unprojected with the camera's focal, and a focal too
    long by a factor ``s`` flattens a floor's pitch (``tan p -> tan p / s``) as it steepens the lines'
    (``tan p -> s tan p``); both move by ``sin(2 p) / 2`` per unit of log focal error, the same error with opposite
    signs, so combined they partly cancel (generalised least squares with that correlation). Walls alone give up
    as a direction, which leans like the lines'. The roll takes no share of the focal's error."""
    import dataclasses

    import numpy as np

    from .gravity_depth import gravity_from_depth

    found = gravity_from_depth(depth, intrinsics.k_matrix, planes)
    if found is None:
        notes.append("the depth map shows no floor or walls to take gravity from")
        return None
    pitch_depth, roll_depth = frames.attitude_from_up_in_camera(found.up_cam)
    depth_tilt_deg = math.degrees(abs(math.sin(2.0 * pitch_depth)) / 2.0) * focal_rel_sigma
    what = "floor" if found.floor_seen else ("furniture tops" if found.up_points else "walls")
    if current is None:
        sigma = math.hypot(found.sigma_deg, depth_tilt_deg / math.sqrt(2.0))
        notes.append(f"gravity from the depth map's {what} (+-{sigma:.1f} deg)")
        return found.up_cam, sigma, "depth"
    up_before, sigma_before, source_before, tilt_before = current
    own_before = math.sqrt(max(sigma_before ** 2 - tilt_before ** 2, 1e-6))
    pitch_before, roll_before = frames.attitude_from_up_in_camera(up_before)
    name = "the lines" if source_before == "vanishing_points" else f"the {source_before}"
    # pitch: covariance of (before, depth); a normal's (floor, tops) focal error runs against the lines'
    together = (1.0 if not found.up_points else -1.0) * tilt_before * depth_tilt_deg
    cov = np.array([[own_before ** 2 + tilt_before ** 2, together],
                    [together, found.sigma_deg ** 2 + depth_tilt_deg ** 2]])
    diff_pitch_sigma = math.sqrt(cov[0, 0] + cov[1, 1] - 2.0 * together)
    diff_roll_sigma = math.hypot(own_before, found.sigma_deg)
    apart_pitch = math.degrees(abs(pitch_before - pitch_depth))
    apart_roll = math.degrees(abs(math.remainder(roll_before - roll_depth, 2.0 * math.pi)))
    apart = math.degrees(math.acos(float(np.clip(up_before @ found.up_cam, -1.0, 1.0))))
    if apart_pitch <= CONFLICT_SIGMAS * diff_pitch_sigma and apart_roll <= CONFLICT_SIGMAS * diff_roll_sigma:
        inverse = np.linalg.inv(cov) @ np.ones(2)
        pitch_var = 1.0 / float(inverse.sum())
        w_pitch = np.clip(inverse * pitch_var, 0.0, 1.0)  # no extrapolation beyond either
        w_pitch /= w_pitch.sum()
        w_roll = np.array([own_before ** -2, found.sigma_deg ** -2])
        roll_var = 1.0 / float(w_roll.sum())
        w_roll *= roll_var
        pitch = float(w_pitch @ [pitch_before, pitch_depth])
        roll = roll_before + float(w_roll[1]) * math.remainder(roll_depth - roll_before, 2.0 * math.pi)
        sigma = math.sqrt((pitch_var + roll_var) / 2.0)
        notes.append(f"gravity: {name} (+-{sigma_before:.1f} deg) and the depth map's {what} "
                     f"(+-{math.hypot(found.sigma_deg, depth_tilt_deg):.1f} deg) agree within {apart:.1f} deg; "
                     "combined")
        return frames.up_in_camera_from_attitude(pitch, roll), sigma, f"{source_before}+depth"
    found = dataclasses.replace(found, sigma_deg=math.hypot(found.sigma_deg, depth_tilt_deg))
    measured = depth.source.startswith("file:")  # a sensor's map; a model's can be confidently wrong
    take_depth = measured and (found.floor_seen or found.sigma_deg < sigma_before)
    conflict = (f"gravity: {name} and the depth map's {what} disagree by {apart:.0f} deg; "
                + (f"took the depth map's {what}" if take_depth else f"kept {name}")
                + ("" if measured else " (a depth model's planes are not measured)"))
    notes.append(conflict)
    conflicts.append(conflict)
    return (found.up_cam, found.sigma_deg, "depth") if take_depth else None


def _focal_with_planes(planes, focal: float, focal_sigma: float, source: str,
                       notes: list[str]) -> tuple[float, float] | None:
    """``(focal px, relative sigma)``: the focal combined in log space, by their spreads, with the one that makes a
    measured map's planes (:func:`.gravity_depth.map_planes`, unprojected with ``focal``) meet at right angles
    (:func:`.gravity_depth.focal_scale_from_planes`); None when the planes do not tell. A focal from weak lines or
    the default moves most; a confident line focal little."""
    from .gravity_depth import PLANES_FOCAL_SIGMA, focal_scale_from_planes

    scale = focal_scale_from_planes(planes)
    if scale is None:
        return None
    w_before, w_planes = focal_sigma ** -2, PLANES_FOCAL_SIGMA ** -2
    combined = math.exp((w_before * math.log(focal) + w_planes * math.log(scale * focal)) / (w_before + w_planes))
    sigma = (w_before + w_planes) ** -0.5
    notes.append(f"the depth map's planes meet at right angles with a focal of {scale * focal:.0f} px "
                 f"(+-{100 * PLANES_FOCAL_SIGMA:.0f}%): combined with the {source} focal ({focal:.0f} px, "
                 f"+-{100 * focal_sigma:.0f}%) to {combined:.0f} px (+-{100 * sigma:.0f}%)")
    return combined, sigma


def _room_yaw_from_walls(planes, pitch: float, roll: float, lines_yaw: float | None, measured: bool,
                         notes: list[str], k_matrix=None, boxes_xyxy_px=()) -> float | None:
    """The room's heading from a metric map's walls (:func:`.gravity_depth.walls_yaw`: the group with the most
    points, at least :data:`MIN_WALL_YAW_POINTS`) where it should replace the lines' (``lines_yaw``; None: no
    lines): always without lines; with them, only a measured map's (``measured``: a file's) whose walls group
    holds :data:`WALLS_OVER_LINES_SHARE` of its points and :data:`WALLS_OVER_LINES_RATIO` times those of the
    walls that run within :data:`WALL_YAW_CONFLICT_DEG` of the lines' heading (a diagonal taken for a wall's
    direction, lines along a sofa set at an angle). A depth model's walls do not overrule lines. None: keep.
    ``k_matrix`` and the objects' 2D boxes: the walls count only what is seen outside the boxes."""
    from .attitude import wrap_quarter
    from .gravity_depth import walls_yaw

    groups = [(yaw, count) for yaw, count in walls_yaw(planes, frames.up_in_camera_from_attitude(pitch, roll),
                                                       pitch, roll, k_matrix, boxes_xyxy_px)
              if count >= MIN_WALL_YAW_POINTS]
    if not groups:
        return None
    yaw, count = groups[0]
    if lines_yaw is None:
        notes.append(f"the room's heading from the depth map's walls ({math.degrees(yaw):.0f} deg)")
        return yaw

    def apart_deg(wall: float) -> float:
        return abs(math.degrees(wrap_quarter(wall - lines_yaw)))

    agreeing = sum(c for wall, c in groups if apart_deg(wall) <= WALL_YAW_CONFLICT_DEG)
    if not measured or count < max(WALLS_OVER_LINES_SHARE * len(planes.points), WALLS_OVER_LINES_RATIO * agreeing):
        return None
    notes.append(f"the room's heading: the depth map's main walls run {apart_deg(yaw):.0f} deg from the lines' "
                 "directions; took the walls'")
    return yaw


def _attitude_from_objects(cue, focal_px: float, pitch: float, roll: float, lines, notes: list[str]):
    """``(up_cam, sigma_deg)`` when the boxes' floor contacts and heights (:mod:`.objects`) favour another
    attitude over the current one (the lines', or a level camera) by more than :data:`OBJECTS_OVERRIDE_NATS`
    (a hypothesis the lines do not support must explain the boxes much better), else None."""
    if not _cue_counts(cue):
        return None
    found = cue.best_up(focal_px)
    if found is None:
        return None
    up, score = found
    current = float(cue.log_likelihood(frames.up_in_camera_from_attitude(pitch, roll)[None], focal_px)[0]) \
        + attitude_log_prior(pitch, roll)
    margin = OBJECTS_OVERRIDE_NATS if lines is not None else OBJECTS_OVER_LEVEL_NATS
    if score - current <= margin:
        return None
    what = "the lines' attitude" if lines is not None else "a level camera"
    new_pitch, new_roll = frames.attitude_from_up_in_camera(up)
    notes.append(f"the {cue.count} floor-standing objects' boxes fit pitch {math.degrees(new_pitch):.0f}, roll "
                 f"{math.degrees(new_roll):.0f} deg far better than {what} (by {score - current:.0f} nats): taken")
    return up, OBJECTS_SIGMA_DEG


def _cue_counts(cue) -> bool:
    """Whether the boxes are enough to weigh in on the attitude: :data:`OBJECTS_MIN_COUNT` boxes of
    :data:`OBJECTS_MIN_CATEGORIES` kinds."""
    return cue.count >= OBJECTS_MIN_COUNT and len(set(cue.categories)) >= OBJECTS_MIN_CATEGORIES


def _camera_warnings(intrinsics_source: str, attitude_source: str, attitude_confidence: float,
                     conflicts: list[str]) -> list[str]:
    """One line each for what the camera guessed, with what would fix it (shown on the terminal, in scene.json
    and on the page)."""
    out = []
    if attitude_source == "assumed_level":
        out.append("camera assumed level (no usable straight lines): the scene tilts if the photo looks up or down; "
                   "give --pitch-deg/--roll-deg or a depth map (--depth)")
    elif attitude_source != "user" and attitude_confidence < UNCERTAIN_ATTITUDE_CONFIDENCE:
        out.append(f"camera tilt uncertain (confidence {attitude_confidence:.2f}): check that the floor looks flat; "
                   "give --pitch-deg/--roll-deg or a depth map (--depth) to fix it")
    if intrinsics_source in ("vanishing_points+default", "vanishing_points_weak"):
        out.append("focal length uncertain: the photo's lines give it only weakly (pulled towards a 26 mm-equivalent "
                   "default); a cropped photo is often longer: give --fov-deg or --focal-px, or keep the photo's "
                   "EXIF")
    if intrinsics_source == "default":
        out.append(f"focal length unknown: assumed a {DEFAULT_FOCAL_35MM_MM:g} mm-equivalent phone camera; sizes "
                   "and distances can be off by 20 %; give --fov-deg or --focal-px, or keep the photo's EXIF")
    out.extend(f"conflicting cues: {conflict}" for conflict in conflicts)
    return out


def _given_focal(photo: Photo, focal_px, fov_deg, notes: list[str]) -> tuple[float | None, str, float]:
    """The focal length the user or the EXIF gives, with its source and confidence, or ``(None, "", 0)``."""
    width, height = photo.width_px, photo.height_px
    if focal_px is not None and fov_deg is not None:
        raise UserError("give either --focal-px or --fov-deg, not both")
    if focal_px is not None:
        if not (math.isfinite(focal_px) and 0.05 * width <= focal_px <= 50.0 * width):
            raise UserError(f"--focal-px {focal_px} is not plausible for a photo {width} pixels wide")
        return float(focal_px), "user", 1.0
    if fov_deg is not None:
        if not (math.isfinite(fov_deg) and 1.0 <= fov_deg <= 170.0):
            raise UserError(f"--fov-deg {fov_deg} must be a horizontal field of view between 1 and 170 degrees")
        return focal_px_from_fov(fov_deg, width), "user", 1.0
    if photo.focal_35mm_mm is not None:
        candidate = focal_px_from_35mm(photo.focal_35mm_mm, width, height)
        if plausible_focal(candidate, width):
            notes.append(f"EXIF FocalLengthIn35mmFilm = {photo.focal_35mm_mm:g} mm")
            return candidate, "exif", 0.9
        notes.append(f"EXIF FocalLengthIn35mmFilm = {photo.focal_35mm_mm:g} mm is implausible: ignored")
    if photo.focal_px_from_sensor is not None:
        if plausible_focal(photo.focal_px_from_sensor, width):
            notes.append(f"EXIF FocalLength = {photo.focal_mm:g} mm with the sensor resolution")
            return photo.focal_px_from_sensor, "exif_sensor", 0.7
        notes.append("EXIF FocalLength with the sensor resolution gives an implausible focal: ignored")
    return None, "", 0.0
