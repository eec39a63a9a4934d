"""Files written whole or not at all: into a temporary file beside the target, then renamed."""

import os
from pathlib import Path

from mltc_keras.errors import InputError


def refuse_existing(path, overwrite, option="--output"):
    """Fail when `path` exists and may not be replaced; commands call it before any long work."""
    if Path(path).exists() and not overwrite:
        raise InputError(f"{option} {path}: file exists; pass --overwrite to replace it or choose another {option}")


def write_atomic(path, write, overwrite=True, suffix=""):
    """Call `write(tmp)` for a temporary path next to `path`, then rename it onto `path`.

    An interrupted write leaves no partial file, and an existing `path` is replaced only when
    `overwrite` is set. `suffix` ends the temporary name, for writers that insist on one (.keras).
    """
    path = Path(path)
    refuse_existing(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
