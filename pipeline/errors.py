"""The one exception type users see: a clear one-line message, exit code 2 from the CLI."""


class UserError(Exception):
    """Bad input or a missing prerequisite, explained in one line. The CLI prints it and exits with 2."""


def missing_extra(module: str, extra: str) -> UserError:
    """The error for an optional dependency that is not installed (``module`` may name several: "a and b")."""
    verb = "are" if " and " in module or "," in module else "is"
    return UserError(f"{module} {verb} not installed: pip install 'room3d[{extra}]'")


def is_out_of_memory(error: BaseException) -> bool:
    """Whether an exception from loading or running a model means the machine ran out of (GPU or CPU) memory."""
    text = str(error).lower()
    return isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError" or \
        "out of memory" in text or "can't allocate memory" in text or "cannot allocate memory" in text

