"""Every numeric tolerance the tests use, named and explained in one place."""

#: Round trips through the frames module (float64 arithmetic).
ROUND_TRIP_ATOL = 1e-9
#: Pixels: projecting a solved box back onto the photo.
REPROJECTION_PX = 1.0
#: A box solved from exact 2D boxes, exact camera and prior-sized truth lands this close to the truth (metres).
CENTER_EXACT_M = 0.05
#: Sizes in the same situation (metres).
SIZE_EXACT_M = 0.05
#: Scaling a scene, its camera height and its size priors together scales every solved corner: metres per metre
#: of scale (float64 arithmetic and the solver's stopping tolerance).
SCALE_EQUIVARIANCE_ATOL_M = 1e-6
#: Relative error of the camera height (hence of the scene's scale) recovered from prior-sized objects when the
#: height is unknown (the hand-held prior, 1.4 m +- 12 %, pulls it a little; from the prior alone the error
#: would be 17 % for a 1.2 m camera).
HEIGHT_FROM_SIZES_REL = 0.05
#: Camera height (the scene's scale) from a sensor-like metric depth map's floor, with the hand-held prior
#: pulling the other way (relative).
HEIGHT_FROM_DEPTH_REL = 0.02
#: Box centres in that scene (metres; its chair is 5-10 % off its prior).
CENTER_WITH_DEPTH_M = 0.1
#: ... of an object whose bottom is hidden behind another, placed without depth by its top, sides and size prior
#: and by standing just behind the other.
HIDDEN_CENTER_M = 0.5
#: Joint refinement: boxes kept apart overlap at most this much (metres; a penetration of 1 cm costs as much as
#: one unit of a box's fit residuals) ...
JOINT_OVERLAP_M = 0.02
#: ... and stay this close to the truth when one of their 2D boxes is 25 px too wide.
JOINT_CENTER_M = 0.1
#: Yaw, same situation (radians; modulo pi, a box turned by pi is the same box).
YAW_EXACT_RAD = 0.02
#: Blender import: locations and dimensions agree with scene.json within 1 cm.
BLENDER_M = 0.01
#: Pixels: a box corner seen through Blender's imported photo camera vs its projection in scene.json (float32
#: storage in the glTF file; the principal point must be at the photo's centre, glTF cannot move it).
BLENDER_PX = 1.0
#: Camera pose stored in scene.json vs the one given by flags.
POSE_ATOL = 1e-9
#: Pixels: a box sent through a model's (integer) coordinates and back lands this close to where it was.
ROUND_TRIP_PX = 1.5
#: Seconds a failing model-server call may run past its time budget.
BUDGET_SLACK_S = 1.0
#: Page, photo view: a pixel counts as drawn by the boxes when a colour channel changes by more than this (0..255)
#: between screenshots with and without the boxes.
PHOTO_VIEW_DIFF_LEVEL = 6
#: Page, photo view: least IoU between each box as drawn and as projected with scene.json's camera.
PHOTO_VIEW_IOU = 0.9
#: Page, photo view: largest gap (photo pixels) between the centroids of a box as drawn and as projected.
PHOTO_VIEW_PX = 1.0
#: Page, photo view: a camera turned by this much (degrees) must put every box more than 4 × PHOTO_VIEW_PX off.
PHOTO_VIEW_TURN_DEG = 3.0
#: Page, measure tool: distance between two clicked surface points vs the true one (metres).
MEASURE_M = 0.01
#: Page, code view: mesh bounds rebuilt by the generated three.js code vs the viewer's (metres; 4 decimals kept).
CODE_VIEW_M = 0.001
#: Depth: scale recovered by aligning a relative map (made from a sample's true depth) to the true floor, relative.
#: The samples' depth is quantised to 1 mm and their rugs lie a few millimetres above the floor.
DEPTH_ALIGN_SCALE_REL = 0.05
#: Depth: median relative error of the aligned metric depth against the true depth.
DEPTH_ALIGN_MEDIAN_REL = 0.015
#: Depth: camera height found by floor_from_depth on a sample's true depth vs truth.json (metres), and the tilt of
#: the floor normal it finds (radians).
FLOOR_HEIGHT_M = 0.03
FLOOR_NORMAL_RAD = 0.02
#: Depth: a point of a cloud made from true depth lies on a true surface (floor, walls, ceiling, box) within this
#: (metres; the furniture meshes fill their truth boxes only roughly) ...
POINT_ON_SURFACE_M = 0.05
#: ... for at least this share of the points (edge pixels that survive outlier removal make the rest).
POINT_ON_SURFACE_FRACTION = 0.97
#: Seconds a build with a model id that is neither local nor cached may take to fail offline (hub retries would
#: take ~95 s).
OFFLINE_FAIL_S = 30.0
#: Depth: camera height from floor_from_depth's numpy RANSAC (the core install's path) vs Open3D's (metres).
FLOOR_FALLBACK_M = 0.01
#: Page, photo view: least IoU between the rectangle a box covers as drawn and the rectangle of the true box
#: projected with the true camera (a solved scene, not the truth: sizes come from priors, the scale from a prior;
#: living_01 measures 0.78-0.95, and a camera turned by PHOTO_VIEW_TURN_DEG 0.43-0.82) ...
PHOTO_VIEW_TRUTH_IOU = 0.7
#: ... for at least this share of the objects that are in the photo.
PHOTO_VIEW_TRUTH_SHARE = 0.8
#: Regression guards of the samples' accuracy (room3d eval): mean 3D IoU and the share of object centres within
#: 0.5 m, without depth (measured 0.48-0.50, 98-99 %) and with the samples' metric depth (measured 0.62, 79 of 80:
#: the bed of bedroom_03_portrait, cut by the photo's border, is measured with what lies beside it, 0.65 m off).
EVAL_IOU_NO_DEPTH = 0.45
EVAL_WITHIN_NO_DEPTH = 0.95
EVAL_IOU_DEPTH = 0.58
EVAL_WITHIN_DEPTH = 0.98

#: realdev: our reimplementation of score.py vs score.py itself, per object and per camera (float64 arithmetic).
SCORE_PY_ATOL = 1e-6
#: realdev, the true camera given: gravity error in degrees (truth.json's pitch and roll are rounded to 1e-4 deg).
GIVEN_CAMERA_GRAVITY_DEG = 0.01
