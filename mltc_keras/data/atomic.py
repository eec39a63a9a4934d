"""Files written whole or not at all: into a temporary file beside the target, then renamed."""

import json
import os
import shutil
from pathlib import Path

from mltc_keras.errors import InputError


def refuse_existing(path, overwrite, option="--output"):
    """Fail when `path` exists and may not be replaced; commands call it before any long work."""
    if Path(path).exists() and not overwrite:
        raise InputError(f"{option} {path}: file exists; pass --overwrite to replace it or choose another {option}")


def write_atomic(path, write, overwrite=True, suffix="", option="--output"):
    """Call `write(tmp)` for a temporary path next to `path`, then rename it onto `path`.

    An interrupted write leaves no partial file, and an existing `path` is replaced only when
    `overwrite` is set. `suffix` ends the temporary name, for writers that insist on one (.keras).
    """
    path = Path(path)
    refuse_existing(path, overwrite, option)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json_atomic(path, obj, overwrite=False, option="--json"):
    """`obj` as indented JSON, written atomically."""
    write_atomic(path, lambda tmp: Path(tmp).write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8"),
                 overwrite=overwrite, option=option)


def refuse_existing_dir(path, overwrite, option, marker):
    """Fail when `path` is a file, or a non-empty folder that may not be replaced. Even with
    `overwrite`, only a folder holding `marker` (one this tool wrote) is replaced, so a mistyped
    `--report .` cannot delete a project."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} {path}: is a file, not a folder; choose another {option}")
    if path.is_dir() and any(path.iterdir()):
        if not overwrite:
            raise InputError(f"{option} {path}: folder is not empty; pass --overwrite to replace it or choose another {option}")
        if not (path / marker).is_file():
            raise InputError(f"{option} {path}: folder holds files this tool did not write (no {marker}); "
                             f"choose an empty or new {option}")


def write_dir_atomic(path, write, overwrite=False, option="--output", marker="index.html"):
    """Call `write(tmp_dir)` for a fresh folder beside `path`, then rename it onto `path`, so a
    reader sees the old folder or the new one, never a half-written mix."""
    path = Path(path)
    refuse_existing_dir(path, overwrite, option, marker)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    old = path.with_name(f".{path.name}.{os.getpid()}.old")
    tmp.mkdir()
    try:
        write(tmp)
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, old):
            if leftover.exists():
                shutil.rmtree(leftover)
