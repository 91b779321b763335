"""Synthetic scenes with known camera and boxes, and the 2D boxes a perfect detector would give for them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline import frames, priors
from pipeline.records import DepthMap, Detection, Grounding, Intrinsics


@dataclass(frozen=True)
class TruthBox:
    label: str
    center_m: np.ndarray
    size_m: np.ndarray
    yaw_rad: float

    @property
    def corners_m(self) -> np.ndarray:
        return frames.box_corners(self.center_m, self.size_m, self.yaw_rad)


@dataclass(frozen=True)
class SyntheticScene:
    intrinsics: Intrinsics
    world_from_camera: np.ndarray
    pitch_deg: float
    roll_deg: float
    height_m: float
    boxes: tuple[TruthBox, ...]

    def detections(self) -> tuple[Detection, ...]:
        """Exact 2D boxes: the projected corners' bounding rectangles, clipped to the photo."""
        out = []
        for index, box in enumerate(self.boxes):
            uv, z = frames.project_world_points(self.intrinsics.k_matrix, self.world_from_camera, box.corners_m)
            assert np.all(z > 0), "synthetic boxes must be in front of the camera"
            x1, y1 = np.clip(uv.min(axis=0), 0, [self.intrinsics.width_px, self.intrinsics.height_px])
            x2, y2 = np.clip(uv.max(axis=0), 0, [self.intrinsics.width_px, self.intrinsics.height_px])
            out.append(Detection(box.label, (float(x1), float(y1), float(x2), float(y2)), index, 0.9))
        return tuple(out)

    def grounding(self) -> Grounding:
        return Grounding(self.detections(), "pixels", "synthetic", entries_total=len(self.boxes))


def on_floor(label: str, x: float, z: float, yaw_deg: float = 0.0, size_scale=(1.0, 1.0, 1.0)) -> TruthBox:
    """A box of the label's prior size (times ``size_scale``) standing on the floor at (x, z)."""
    size = np.array(priors.lookup(label).size_m) * np.array(size_scale)
    return TruthBox(label, np.array([x, 0.5 * size[1], z]), size, math.radians(yaw_deg))


def make_scene(boxes, width=1024, height=768, focal_px=800.0, pitch_deg=-12.0, roll_deg=2.0,
               height_m=1.45) -> SyntheticScene:
    intrinsics = Intrinsics.from_focal(focal_px, width, height)
    world_from_camera = frames.world_from_camera_from_attitude(math.radians(pitch_deg), math.radians(roll_deg),
                                                               height_m)
    return SyntheticScene(intrinsics, world_from_camera, pitch_deg, roll_deg, height_m, tuple(boxes))


def bedroom() -> SyntheticScene:
    """A bedroom seen from near the door: a bed facing the camera, nightstands, a wardrobe turned sideways."""
    return make_scene([
        on_floor("bed", 0.2, -3.6),
        on_floor("nightstand", -0.95, -4.3),
        on_floor("nightstand", 1.35, -4.3),
        on_floor("wardrobe", -1.9, -2.8, yaw_deg=90.0),
        on_floor("chair", 1.6, -2.2, yaw_deg=0.0, size_scale=(1.1, 0.95, 1.05)),
    ])


def rendered_depth(truth: SyntheticScene, extra: tuple = ()) -> DepthMap:
    """The metric depth map (a sensor's: ``file:``) of a synthetic scene: each pixel's ray against the floor, the
    scene's boxes and ``extra`` boxes (walls, objects not detected); beyond 20 m or nothing hit: no value."""
    from pipeline.solve.fit import ray_box_depth

    k, width, height = truth.intrinsics.k_matrix, truth.intrinsics.width_px, truth.intrinsics.height_px
    columns, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    rays = frames.pixel_rays(k, np.stack([columns, rows], axis=-1)).reshape(1, -1, 3)
    camera_from_world = frames.invert_rigid(truth.world_from_camera)
    down = (truth.world_from_camera[:3, :3] @ rays[0].T)[1]
    depth = np.where(down < -1e-9, -truth.height_m / np.minimum(down, -1e-9), np.inf)  # the floor
    for box in (*truth.boxes, *extra):
        center = frames.transform_points(camera_from_world, box.center_m)[None]
        axes = (camera_from_world[:3, :3] @ frames.rot_y(box.yaw_rad))[None]
        hit = ray_box_depth(rays, center, axes, 0.5 * box.size_m[None])[0]
        depth = np.where(np.isfinite(hit) & (hit < depth), hit, depth)
    depth = depth.reshape(height, width).astype(np.float32)
    valid = np.isfinite(depth) & (depth < 20)
    return DepthMap(np.where(valid, depth, 0).astype(np.float32), valid, "metric_depth", "file:synthetic")
