"""Defaults that the command line shows in its help, kept free of heavy imports: ``room3d --help`` loads no numpy.
Each is re-exported by the module that uses it (:mod:`.photo`, :mod:`.frames`, :mod:`.grounding`)."""

#: Photos with more pixels than this are refused (a decompression bomb guard); ``--max-pixels`` overrides it.
DEFAULT_MAX_PIXELS = 64_000_000
#: Qwen2.5-VL image processor's default ``max_pixels`` (preprocessor_config.json of the released checkpoints).
QWEN25_MAX_PIXELS = 28 * 28 * 16384
#: The smallest photo (pixels) worth a scene: 16 x 16.
MIN_PHOTO_PIXELS = 16 * 16
#: ``--qwen25-max-pixels`` bounds: the processor's ``min_pixels`` (56 x 56) and a generous largest.
QWEN25_MIN_PIXELS = 56 * 56
QWEN25_LARGEST_MAX_PIXELS = 256 * 1024 * 1024
#: The longest model call a build waits for (seconds).
MAX_VLM_TIMEOUT_S = 3600.0
#: The coordinates a grounding's boxes may be in (``--grounding-format``).
GROUNDING_FORMATS = ("auto", "qwen2.5", "qwen3", "pixels")
