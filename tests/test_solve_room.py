"""The room shell (pipeline/solve/room.py): a room that nothing in the photo measures says so."""

from pipeline.records import Grounding
from pipeline.solve import solve
from tests.synthetic import make_scene, on_floor
from tests.test_solve import camera_for


def _warned(scene) -> bool:
    return any("the room's walls and size are guesses" in warning for warning in scene.warnings)


def test_a_photo_without_floor_gives_a_room_marked_as_a_guess_with_a_warning():
    """A camera looking up (a ceiling, a close-up of a wall's top) with nothing standing on the floor: the room is
    inferred, of a sane size, and the warning says so; a photo that shows the floor, or a chair on it, does not
    warn."""
    up = make_scene([], pitch_deg=25.0, roll_deg=0.0)
    scene = solve(Grounding((), "none", "none"), camera_for(up), refine_scale=False)
    assert _warned(scene) and {wall.source for wall in scene.room.walls} == {"inferred"}
    xs, zs = zip(*scene.room.floor_polygon_m)
    assert max(xs) - min(xs) < 15.0 and max(zs) - min(zs) < 15.0
    down = make_scene([], pitch_deg=-20.0, roll_deg=0.0)
    assert not _warned(solve(Grounding((), "none", "none"), camera_for(down), refine_scale=False))
    chair = make_scene([on_floor("chair", 0.0, -3.0)], pitch_deg=5.0, roll_deg=0.0)
    assert not _warned(solve(chair.grounding(), camera_for(chair), refine_scale=False))
