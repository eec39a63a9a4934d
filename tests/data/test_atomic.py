"""Atomic writes on real files: no followed symlinks, nothing left behind, only our folders replaced."""

import os

import numpy as np
import pytest

from mltc_keras.data.atomic import refuse_existing_dir, write_atomic, write_dir_atomic
from mltc_keras.errors import InputError

MARKER = ".mltc-keras-report"  # the mark of a folder this tool wrote


def test_a_symlink_at_the_old_predictable_temporary_name_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    target = tmp_path / "out.npy"
    planted = tmp_path / f".{target.name}.{os.getpid()}.tmp.npy"
    planted.symlink_to(victim)

    write_atomic(target, lambda tmp: np.save(tmp, np.arange(3)), suffix=".npy")
    assert victim.read_text() == "keep me"
    assert not target.is_symlink() and np.load(target).tolist() == [0, 1, 2]
    assert planted.is_symlink(), "a file that is not ours is left alone"


def test_a_symlink_at_the_old_predictable_folder_names_is_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    target = tmp_path / "report"
    for end in ("tmp", "old"):
        (tmp_path / f".{target.name}.{os.getpid()}.{end}").symlink_to(victim)

    write_dir_atomic(target, lambda folder: (folder / "index.html").write_text("new"), option="--report")
    assert (target / "index.html").read_text() == "new" and not target.is_symlink()
    assert list(victim.iterdir()) == []


def test_a_failing_writer_leaves_the_old_file_and_no_temporary_one(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")

    def fail(tmp):
        with open(tmp, "w") as f:
            f.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomic(target, fail, overwrite=True)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"], "no temporary file left behind"


def test_the_written_file_and_folder_get_the_usual_permissions(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    write_atomic(tmp_path / "atomic.txt", lambda tmp: open(tmp, "w").write("x"))
    assert (tmp_path / "atomic.txt").stat().st_mode == plain.stat().st_mode
    write_dir_atomic(tmp_path / "folder", lambda folder: None)
    (tmp_path / "plain_folder").mkdir()
    assert (tmp_path / "folder").stat().st_mode == (tmp_path / "plain_folder").stat().st_mode


def test_a_folder_with_index_html_but_no_marker_is_refused_even_with_overwrite(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text("my own site")
    with pytest.raises(InputError, match=f"did not write \\(no {MARKER}\\)"):
        refuse_existing_dir(folder, True, "--report")
    with pytest.raises(InputError, match="did not write"):
        write_dir_atomic(folder, lambda new: (new / "index.html").write_text("report"), overwrite=True,
                         option="--report")
    assert [p.name for p in folder.iterdir()] == ["index.html"] and (folder / "index.html").read_text() == "my own site"


def test_a_folder_this_tool_wrote_is_replaced_with_overwrite(tmp_path):
    folder = tmp_path / "report"
    write_dir_atomic(folder, lambda new: (new / "old.txt").write_text("old"), option="--report")
    assert (folder / MARKER).is_file()
    with pytest.raises(InputError, match="--overwrite"):
        refuse_existing_dir(folder, False, "--report")
    write_dir_atomic(folder, lambda new: (new / "index.html").write_text("new"), overwrite=True, option="--report")
    assert sorted(p.name for p in folder.iterdir()) == sorted([MARKER, "index.html"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"], "no temporary folder left behind"
