import os
import shutil
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from filelock import FileLock

from mltc_keras.allocator import keep_freed_memory

keep_freed_memory()  # as the CLI does for its own process: in-process training here runs at its speed

LABELS = ["joy", "anger", "question"]
CUES = {"joy": "happy", "anger": "furious", "question": "why"}
FILLER = "the a day today it was really very so and then we this".split()


def make_rows(n, seed=0):
    """Texts whose labels follow cue words, so a tiny model learns something in an epoch."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        y = (rng.random(len(LABELS)) < 0.35).astype(int)
        if not y.any():
            y[i % len(LABELS)] = 1
        words = list(rng.choice(FILLER, size=rng.integers(3, 9)))
        for label, on in zip(LABELS, y):
            if on:
                words.insert(int(rng.integers(0, len(words) + 1)), CUES[label])
        rows.append((" ".join(words), *y))
    return rows


def write_csv(path, rows, header=("text", *LABELS)):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# Prepended to code run in a subprocess: any import of tensorflow fails, as on the GPU machine.
BLOCK_TENSORFLOW = """
import sys
class BlockTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError("tensorflow is blocked in this test")
sys.meta_path.insert(0, BlockTensorFlow())
"""

def inputs_of_width(width):
    """A stand-in for a features object (features.py) where a network only needs its input width."""
    return SimpleNamespace(width=width)


TINY_MODEL = ["--embedding-dim", "8", "--lstm-units", "4", "--attention-units", "4", "--dense-units", "8",
              "--max-length", "16", "--batch-size", "16"]


def run_cli(*args, cwd, env=None):
    """`python -m mltc_keras ARGS` in a fresh process; returns the CompletedProcess."""
    full_env = {**os.environ, "MLTC_KERAS_CACHE": str(cwd / "cache"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "mltc_keras", *map(str, args)], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=600)


def cli(*args, cwd):
    """`mltc-keras ARGS` run in this process, in `cwd` with its own cache (the shape of `run_cli`'s
    result): for what a command does with its input, where a fresh interpreter only adds
    TensorFlow's start-up (about 10 s here). Reloading, signals and start-up checks use `run_cli`."""
    import contextlib
    import io
    import warnings

    from mltc_keras.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    here, cache, formatwarning = os.getcwd(), os.environ.get("MLTC_KERAS_CACHE"), warnings.formatwarning
    os.environ["MLTC_KERAS_CACHE"] = str(cwd / "cache")
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), warnings.catch_warnings():
            warnings.resetwarnings()  # a fresh interpreter's filters, and to stderr, not to pytest's record
            warnings.simplefilter("default")
            for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
                warnings.simplefilter("ignore", category)
            warnings.showwarning = lambda message, category, filename, lineno, file=None, line=None: sys.stderr.write(
                warnings.formatwarning(message, category, filename, lineno, line))
            code = main([str(arg) for arg in args])
    finally:
        os.chdir(here)
        warnings.formatwarning = formatwarning
        if cache is None:
            os.environ.pop("MLTC_KERAS_CACHE")
        else:
            os.environ["MLTC_KERAS_CACHE"] = cache
    return subprocess.CompletedProcess(args, code, stdout.getvalue(), stderr.getvalue())


def error_lines(result):
    """The lines a CLI run printed as errors (TensorFlow's start-up chatter aside)."""
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def run_python(code, cwd):
    """Run `code` in a fresh Python process (a separate process is the only honest reload test)."""
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=600)


def write_splits(root, train=160, valid=48, test=None, seed=1):
    """train.csv, valid.csv (and test.csv) of cue-word rows in `root`, each from its own seed."""
    for offset, (name, rows) in enumerate((("train", train), ("valid", valid), ("test", test))):
        if rows:
            write_csv(root / f"{name}.csv", make_rows(rows, seed=seed + offset))
    return root


@pytest.fixture
def data_dir(tmp_path):
    write_csv(tmp_path / "train.csv", make_rows(160, seed=1))
    write_csv(tmp_path / "valid.csv", make_rows(48, seed=2))
    return tmp_path


def shared_root(tmp_path_factory, worker_id):
    """A folder every xdist worker of this session sees (their own temporary folders share a parent)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


def build_once(target, build):
    """`target`, made by `build(partial)` under a `partial` name and renamed, unless a process
    (another xdist worker) already made it: the first to ask builds while the others wait on a lock."""
    with FileLock(f"{target}.lock"):
        if not target.exists():
            partial = target.with_name(f"{target.name}.partial")
            shutil.rmtree(partial, ignore_errors=True)
            build(partial)
            partial.rename(target)
    return target


def made_once(tmp_path_factory, worker_id, name, build):
    """A private copy of the folder `build(folder)` fills: built once for all workers of the session,
    by the first to ask; each caller gets its own copy to write in."""
    shared = shared_root(tmp_path_factory, worker_id) / "made-once" / name
    shared.parent.mkdir(parents=True, exist_ok=True)

    def fill(partial):
        partial.mkdir()
        build(partial)

    build_once(shared, fill)
    copy = tmp_path_factory.mktemp(name)
    shutil.copytree(shared, copy, dirs_exist_ok=True)
    return copy


def _train_tiny_bilstm(root):
    write_csv(root / "train.csv", make_rows(160, seed=1))
    write_csv(root / "test.csv", make_rows(48, seed=3))
    result = run_cli("train", "--arch", "bilstm", "--train", "train.csv", "--epochs", "2",
                     "--output", "models/tiny.keras", *TINY_MODEL, cwd=root)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def tiny_bilstm(tmp_path_factory, worker_id):
    """A folder with train.csv, test.csv and models/tiny.keras, a tiny bilstm trained for 2 epochs
    through the CLI (with its logs/): trained once a session, each test module writing in its own copy."""
    return made_once(tmp_path_factory, worker_id, "tiny-bilstm", _train_tiny_bilstm)


@pytest.fixture(scope="session")
def learned(tmp_path_factory, worker_id):
    """Tiny models of every arch that learned the cue words (tests/learned_models.py), made on first use,
    once for all xdist workers (their temporary folders share a parent)."""
    from learned_models import LearnedModels

    return LearnedModels(shared_root(tmp_path_factory, worker_id) / "learned")


def train_tiny_bag(root):
    """A one-epoch bag model on 120 cue-word rows (seconds): for tests that need any model to predict with."""
    import mltc_keras

    write_csv(root / "train.csv", make_rows(120, seed=1))
    return mltc_keras.train(arch="bag", train=str(root / "train.csv"), output=str(root / "bag.keras"), epochs=1,
                            logs_dir=str(root / "logs"), cache_dir=str(root / "cache"), max_length=16,
                            embedding_dim=8, hidden_units="8", min_count=1, batch_size=16).output
