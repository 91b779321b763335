"""The size-prior table (pipeline/data/size_priors.json) and how labels find their category."""

import json

import pytest

from pipeline import priors



@pytest.mark.parametrize("label, category", [
    ("night_stand", "nightstand"), ("nightstand", "nightstand"), ("Bedside Table", "nightstand"),
    ("nightstands", "nightstand"), ("couch", "sofa"), ("couches", "sofa"), ("sofa", "sofa"),
    ("dresser_mirror", "mirror"), ("wooden queen bed", "bed"), ("<b>Chair</b>", "chair"),
    ("lamp on the nightstand", "table lamp"), ("chair in front of the desk", "chair"),
    ("ceiling lamp", "ceiling light"), ("chandelier", "ceiling light"), ("door frame", "door"),
    ("computer tower", "computer"), ("trash can", "trash can"), ("mattress", "bed"),
    ("flux capacitor", priors.UNKNOWN), ("", priors.UNKNOWN), ("Стул", priors.UNKNOWN),
])
def test_labels_find_their_category(label, category):
    assert priors.lookup(label).category == category


def test_table_is_complete_and_sourced():
    data = json.loads(priors._DATA.read_text(encoding="utf-8"))
    assert len(data["categories"]) >= 40 and len(data["_sources"]) >= 3
    for name, entry in data["categories"].items():
        assert len(entry["size_m"]) == 3 and all(0.0 < v < 10.0 for v in entry["size_m"]), name
        assert len(entry["spread_whd"]) == 3 and all(0.0 < v <= 1.0 for v in entry["spread_whd"]), name
        assert entry["support"] in ("floor", "furniture", "wall", "ceiling"), name
        assert (entry["support"] in ("wall", "ceiling")) == ("elevation_m" in entry), name
    # every synonym leads to its own category (no synonym claimed twice)
    for name, entry in data["categories"].items():
        for synonym in entry["synonyms"]:
            assert priors.lookup(synonym).category == name, synonym


#: The object classes of the ScanNet (18, mmdetection3d's names and their plain words) and SUN RGB-D (10 and 37)
#: 3D detection benchmarks; wall, floor and ceiling are the room itself.
BENCHMARK_CLASSES = [
    "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf", "picture", "counter", "desk",
    "curtain", "refrigerator", "shower curtain", "showercurtrain", "toilet", "sink", "bathtub", "garbagebin",
    "other furniture", "otherfurniture", "night_stand", "dresser", "blinds", "shelves", "pillow", "mirror",
    "floor mat", "clothes", "books", "fridge", "tv", "paper", "towel", "box", "whiteboard", "person", "lamp", "bag",
]
#: ... and those that hang on a wall (or are set into one) rather than stand on the floor.
WALL_CLASSES = ["window", "picture", "curtain", "shower curtain", "blinds", "mirror", "towel", "whiteboard", "sink",
                "wall cabinet", "upper cabinet", "wall shelf"]


@pytest.mark.parametrize("label", BENCHMARK_CLASSES)
def test_every_benchmark_class_has_a_prior(label):
    assert priors.lookup(label).category != priors.UNKNOWN


@pytest.mark.parametrize("label", WALL_CLASSES)
def test_wall_objects_hang_at_their_height(label):
    prior = priors.lookup(label)
    assert prior.support == "wall" and prior.elevation_m >= 0.0 and prior.against_wall
