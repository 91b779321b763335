"""Stage 4, the geometry solver: detections + camera (+ depth) -> metric, gravity-aligned oriented boxes and a room
shell. One job per module:

- :mod:`.boxes`: :func:`solve`, the stage's entry: supports, scale, the order of the steps;
- :mod:`.contacts`: which sides of the objects' 2D boxes are hidden behind a nearer object (no floor contacts, no
  edges);
- :mod:`.fit`: one box fitted to its 2D box, size prior and depth (batched Levenberg-Marquardt);
- :mod:`.depth_fit`: an object's own 3D points in a metric depth map, and the box they show;
- :mod:`.refine`: interpenetrating boxes refitted together;
- :mod:`.corrections`: a person's corrections (what stands on a moved box goes along);
- :mod:`.room`: the room shell around it all.
"""

from .boxes import refine_camera_height, solve, solve_boxes, with_camera_height

__all__ = ["refine_camera_height", "solve", "solve_boxes", "with_camera_height"]
