"""Files written whole or not at all: into a private temporary folder beside the target, then renamed.

The temporary folder comes from `tempfile.mkdtemp` (an unpredictable name, created exclusively and
readable only by us), so nobody can plant a symlink where the writer writes. The writer creates
its file inside it as it would anywhere, with the usual permissions, and the rename stays on one
file system.
"""

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from mltc_keras.errors import InputError

MARKER = ".mltc-keras-report"  # written into every folder write_dir_atomic writes


def refuse_existing(path, overwrite, option="--output"):
    """Fail when `path` exists and may not be replaced; commands call it before any long work."""
    if Path(path).exists() and not overwrite:
        raise InputError(f"{option} {path}: file exists; pass --overwrite to replace it or choose another {option}")


@contextmanager
def _scratch_beside(path):
    """A fresh private folder in `path`'s folder, removed with whatever is left in it."""
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def write_atomic(path, write, overwrite=True, suffix="", option="--output"):
    """Call `write(tmp)` for a temporary path next to `path`, then rename it onto `path`.

    An interrupted write leaves no partial file, and an existing `path` is replaced only when
    `overwrite` is set. `suffix` ends the temporary name, for writers that insist on one (.keras).
    Returns what `write` returns.
    """
    path = Path(path)
    refuse_existing(path, overwrite, option)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _scratch_beside(path) as scratch:
        tmp = scratch / f"{path.name}.tmp{suffix}"
        result = write(tmp)
        os.replace(tmp, path)
        return result


def write_json_atomic(path, obj, overwrite=False, option="--json"):
    """`obj` as indented JSON, written atomically."""
    write_atomic(path, lambda tmp: Path(tmp).write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8"),
                 overwrite=overwrite, option=option)


def refuse_existing_dir(path, overwrite, option, marker=MARKER):
    """Fail when `path` is a file, or a non-empty folder that may not be replaced. Even with
    `overwrite`, only a folder holding `marker` (which write_dir_atomic writes) is replaced, so a
    mistyped `--report .` cannot delete a project."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} {path}: is a file, not a folder; choose another {option}")
    if path.is_dir() and any(path.iterdir()):
        if not overwrite:
            raise InputError(f"{option} {path}: folder is not empty; pass --overwrite to replace it or choose another {option}")
        if not (path / marker).is_file():
            raise InputError(f"{option} {path}: folder holds files this tool did not write (no {marker}); "
                             f"choose an empty or new {option}")


def write_dir_atomic(path, write, overwrite=False, option="--output", marker=MARKER):
    """Call `write(tmp_dir)` for a fresh folder beside `path`, then rename it onto `path`, so a
    reader sees the old folder or the new one, never a half-written mix. The folder gets `marker`,
    the mark that lets a later `overwrite` replace it. Returns what `write` returns."""
    path = Path(path)
    refuse_existing_dir(path, overwrite, option, marker)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _scratch_beside(path) as scratch:
        new = scratch / "new"
        new.mkdir()
        (new / marker).write_text("written by mltc-keras; --overwrite may replace this folder\n", encoding="utf-8")
        result = write(new)
        if path.exists():
            os.replace(path, scratch / "old")
        os.replace(new, path)
        return result
