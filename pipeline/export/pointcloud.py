"""``points.ply``: the photo's metric depth as a coloured point cloud in the world frame (glTF: +Y up, metres).

The points are the valid pixels of a metric :class:`DepthMap` unprojected through the camera estimate
(``frames.world_points_from_pixels``), coloured from the photo, subsampled to a bound, with a statistical outlier
removal taking away the "flying pixels" that depth maps leave along object edges (Open3D's
``remove_statistical_outlier`` when it is installed, the same rule with SciPy's k-d tree otherwise).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import frames
from ..depth import open3d_or_none
from ..records import CameraEstimate, DepthMap, PointCloud

#: Default bound on the points written (60k points: ~0.9 MB of binary PLY, light enough for the page).
MAX_POINTS = 60_000
#: Statistical outlier removal: neighbours considered, and how many standard deviations of the mean neighbour
#: distance a point may stray (Open3D's ``remove_statistical_outlier``).
OUTLIER_NEIGHBOURS = 20
OUTLIER_STD_RATIO = 2.0


def point_cloud_from_depth(depth: DepthMap, camera: CameraEstimate, photo_rgb: np.ndarray,
                           max_points: int = MAX_POINTS) -> PointCloud:
    """The valid pixels of a metric ``depth`` as world points coloured from ``photo_rgb`` (H, W, 3) uint8.

    At most ``max_points`` pixels, drawn at random with a fixed seed (the result is reproducible), then
    statistical outliers removed. ``depth`` must be ``metric_depth`` at the photo's size.
    """
    if depth.kind != "metric_depth":
        raise ValueError(f"a point cloud needs metric depth, not {depth.kind} (align it first)")
    if photo_rgb.shape[:2] != depth.values.shape:
        raise ValueError(f"photo {photo_rgb.shape[:2]} and depth {depth.values.shape} differ in size")
    rows, columns = np.nonzero(depth.valid)
    if len(rows) > max_points:
        keep = np.sort(np.random.default_rng(0).choice(len(rows), size=max_points, replace=False))
        rows, columns = rows[keep], columns[keep]
    uv = frames.pixel_centers(columns, rows)
    points = frames.world_points_from_pixels(camera.intrinsics.k_matrix, camera.world_from_camera, uv,
                                             depth.values[rows, columns])
    colors = np.asarray(photo_rgb, dtype=np.uint8)[rows, columns]
    if len(points) > OUTLIER_NEIGHBOURS:
        kept = statistical_inliers(points)
        points, colors = points[kept], colors[kept]
    return PointCloud(positions_m=points.astype(np.float32), colors_rgb=np.ascontiguousarray(colors),
                      source=f"depth:{depth.source}")


def statistical_inliers(points: np.ndarray) -> np.ndarray:
    """Indices of the (N, 3) ``points`` whose mean distance to their ``OUTLIER_NEIGHBOURS`` nearest points (the
    point itself among them, as Open3D counts) is below the mean of those distances plus ``OUTLIER_STD_RATIO``
    standard deviations: Open3D's ``remove_statistical_outlier`` when it is installed, else the same rule with
    SciPy's ``cKDTree``."""
    o3d = open3d_or_none()
    if o3d is not None:
        cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
        _, kept = cloud.remove_statistical_outlier(nb_neighbors=OUTLIER_NEIGHBOURS, std_ratio=OUTLIER_STD_RATIO)
        return np.asarray(kept, dtype=int)
    from scipy.spatial import cKDTree

    distances, _ = cKDTree(points).query(points, k=OUTLIER_NEIGHBOURS)
    mean = distances.mean(axis=1)
    return np.nonzero(mean < mean.mean() + OUTLIER_STD_RATIO * mean.std(ddof=1))[0]


#: One vertex of points.ply: ``x y z`` float32, ``red green blue`` uint8, little-endian.
PLY_VERTEX = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1")])


def ply_bytes(cloud: PointCloud) -> bytes:
    """A binary little-endian PLY of the cloud: one ``vertex`` element with ``x y z`` (float, world metres) and
    ``red green blue`` (uchar); a comment names the frame and the cloud's source."""
    vertices = np.empty(cloud.count, dtype=PLY_VERTEX)
    for index, axis in enumerate("xyz"):
        vertices[axis] = cloud.positions_m[:, index]
    for index, channel in enumerate(("red", "green", "blue")):
        vertices[channel] = cloud.colors_rgb[:, index]
    source = "".join(c if c.isascii() and c.isprintable() else "?" for c in cloud.source)
    header = (
        "ply\nformat binary_little_endian 1.0\n"
        "comment room3d point cloud, world frame: glTF +Y up, metres, floor y = 0\n"
        f"comment source {source}\n"
        f"element vertex {cloud.count}\n"
        "property float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\n"
        "end_header\n"
    )
    return header.encode("utf-8") + vertices.tobytes()


def write_ply(cloud: PointCloud, path: str | Path) -> Path:
    """Write :func:`ply_bytes` of the cloud to ``path``; returns the path."""
    path = Path(path)
    path.write_bytes(ply_bytes(cloud))
    return path
