"""room3d: one photo of a room -> a metric, gravity-aligned 3D scene.

The stages, one module each: :mod:`photo` -> :mod:`grounding` -> :mod:`camera` -> :mod:`solve` -> :mod:`export`;
:mod:`build` runs them all, :mod:`batch` many photos. Frames and units: ``CONVENTIONS.md`` and :mod:`frames`.
"""

__version__ = "0.1.0"
