"""Tiny random-weight depth models, built offline from configs and saved as Hugging Face folders.

Same classes and file layout as the released checkpoints (``config.json``, ``model.safetensors``,
``preprocessor_config.json``), so ``room3d build --depth hf:FOLDER`` runs the real loading and inference code;
only the sizes are small. Their depth is garbage, which is the point of the "ends cleanly" tests.
"""

from __future__ import annotations

import json
from pathlib import Path

#: The released checkpoints' preprocessing, with the tiny models' input sizes.
DPT_PREPROCESSOR = {
    "image_processor_type": "DPTImageProcessor", "do_resize": True, "keep_aspect_ratio": True,
    "ensure_multiple_of": 14, "resample": 3, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
    "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225], "size": {"height": 56, "width": 56},
}
DEPTH_PRO_PREPROCESSOR = {
    "image_processor_type": "DepthProImageProcessor", "do_resize": True, "resample": 2, "do_rescale": True,
    "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
    "size": {"height": 128, "width": 128},
}


def build_depth_anything(folder: Path, metric: bool = False) -> Path:
    """A Depth Anything V2-shaped model (DINOv2 backbone, DPT neck, relative or metric head) in ``folder``."""
    import torch
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    torch.manual_seed(0)
    backbone = Dinov2Config(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64,
                            image_size=56, patch_size=14, out_indices=[1, 2, 3, 4], reshape_hidden_states=False)
    extra = {"depth_estimation_type": "metric", "max_depth": 20} if metric else {}
    config = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=32, neck_hidden_sizes=[8, 16, 32, 32],
                                 fusion_hidden_size=16, head_hidden_size=8, **extra)
    DepthAnythingForDepthEstimation(config).eval().save_pretrained(folder)
    (Path(folder) / "preprocessor_config.json").write_text(json.dumps(DPT_PREPROCESSOR))
    return Path(folder)


def build_depth_pro(folder: Path) -> Path:
    """A Depth Pro-shaped model (three DINOv2 encoders, fusion decoder, field-of-view head) in ``folder``."""
    import torch
    from transformers import DepthProConfig, DepthProForDepthEstimation

    torch.manual_seed(0)
    encoder = {"model_type": "dinov2", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
               "intermediate_size": 64, "patch_size": 8, "image_size": 32}
    config = DepthProConfig(patch_size=32, fusion_hidden_size=16, intermediate_hook_ids=[1, 0],
                            intermediate_feature_dims=[16, 16], scaled_images_feature_dims=[32, 32, 16],
                            use_fov_model=True, image_model_config=encoder, patch_model_config=encoder,
                            fov_model_config=encoder)
    DepthProForDepthEstimation(config).eval().save_pretrained(folder)
    (Path(folder) / "preprocessor_config.json").write_text(json.dumps(DEPTH_PRO_PREPROCESSOR))
    return Path(folder)


def build_all(root: Path) -> dict[str, Path]:
    """The three tiny models under ``root``: ``relative`` and ``metric`` Depth Anything V2, and ``depth_pro``."""
    root = Path(root)
    return {
        "relative": build_depth_anything(root / "depth-anything-relative"),
        "metric": build_depth_anything(root / "depth-anything-metric", metric=True),
        "depth_pro": build_depth_pro(root / "depth-pro"),
    }
