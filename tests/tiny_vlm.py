"""Tiny random-weight Qwen2.5-VL and Qwen3-VL checkpoints, built offline from configs, for the tests of
``pipeline/vlm_local.py``.

Each folder looks like a real checkpoint on the Hub (``config.json``, ``model.safetensors``,
``generation_config.json``, ``preprocessor_config.json``, the tokenizer files with Qwen's special tokens, the chat
template with the tokenizer (Qwen2.5-VL) or only in ``chat_template.json`` (Qwen3-VL)), so room3d loads it with the
code that loads ``Qwen/Qwen2.5-VL-3B-Instruct``. The weights are random: the answers are garbage. What is real:
the architecture classes, the image processor (patch 14 / 16, merge 2, so ``smart_resize`` factors 28 / 32), the
tokenizer class (byte-level BPE, ``Qwen2Tokenizer``), the chat
template's shape and the special-token ids wired into the model config.

Run as a script to write both into a folder: ``python -m tests.tiny_vlm OUT_DIR``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

#: Qwen's special tokens, in the order of their ids in the real vocabulary (151643 onwards).
SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
    "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
    "<|image_pad|>", "<|video_pad|>",
)
#: The shape of the Qwen2.5-VL / Qwen3-VL chat template: a user turn holding the image then the text.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}"
    "{% if part['type'] == 'image' or 'image' in part %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
FAMILIES = ("qwen2_5_vl", "qwen3_vl")
#: Smallest image the tiny models' processors make (pixels): a few patches, as the real default (56 x 56).
MIN_PIXELS = 56 * 56


def build_tokenizer():
    """A byte-level BPE ``Qwen2Tokenizer`` (256 byte tokens, no merges) with Qwen's special tokens and chat
    template."""
    from tokenizers import pre_tokenizers
    from transformers.models.qwen2.tokenization_qwen2 import Qwen2Tokenizer

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {token: index for index, token in enumerate(alphabet)}
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=[], eos_token="<|im_end|>", pad_token="<|endoftext|>",
                               additional_special_tokens=list(SPECIAL_TOKENS[1:]))
    tokenizer.add_special_tokens({"additional_special_tokens": list(SPECIAL_TOKENS[1:])})
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build(family: str, folder: str | Path, seed: int = 0) -> Path:
    """Write a tiny random-weight checkpoint of ``family`` (``qwen2_5_vl`` | ``qwen3_vl``) into ``folder``."""
    import torch
    from transformers import AutoModelForImageTextToText, GenerationConfig
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer()
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL_TOKENS}
    vocab_size = len(tokenizer)
    token_ids = dict(image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
                     vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    text = dict(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096,
                bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]})
    if family == "qwen2_5_vl":
        from transformers import Qwen2_5_VLConfig

        patch = 14
        vision = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, patch_size=patch,
                      spatial_merge_size=2, temporal_patch_size=2, window_size=112, out_hidden_size=32,
                      fullatt_block_indexes=[1])
        config = Qwen2_5_VLConfig(text_config=text, vision_config=vision, **token_ids)
    else:
        from transformers import Qwen3VLConfig

        patch = 16
        text.update(head_dim=16, rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                                  "mrope_section": [2, 3, 3], "mrope_interleaved": True})
        vision = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, patch_size=patch,
                      spatial_merge_size=2, temporal_patch_size=2, out_hidden_size=32, num_position_embeddings=64,
                      deepstack_visual_indexes=[0])
        config = Qwen3VLConfig(text_config=text, vision_config=vision, **token_ids)
    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(config)
    model.generation_config = GenerationConfig(eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
                                               pad_token_id=ids["<|endoftext|>"], do_sample=False)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    factor = patch * 2
    image_processor = Qwen2VLImageProcessorPil(
        patch_size=patch, merge_size=2, temporal_patch_size=2,
        size={"shortest_edge": MIN_PIXELS, "longest_edge": factor * factor * 1024},
        image_mean=[0.48145466, 0.4578275, 0.40821073] if family == "qwen2_5_vl" else [0.5, 0.5, 0.5],
        image_std=[0.26862954, 0.26130258, 0.27577711] if family == "qwen2_5_vl" else [0.5, 0.5, 0.5],
    )
    image_processor.save_pretrained(folder)
    # The processor's copy of the template. The Qwen3-VL folder keeps only this one (as some checkpoints do), so
    # that loading finds a template either with the tokenizer or beside it.
    (folder / "chat_template.json").write_text(json.dumps({"chat_template": CHAT_TEMPLATE}, indent=1) + "\n")
    if family == "qwen3_vl":
        (folder / "chat_template.jinja").unlink(missing_ok=True)
    return folder


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "tiny_vlm")
    for name in FAMILIES:
        print(build(name, out / name))
