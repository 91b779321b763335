"""Stage 5: writers of the outputs (GLB, scene.json, the page, the overlay). The world frame is glTF's own."""
