"""The report folder on its own: 28 labels (GoEmotions' count) of fixed synthetic scores."""

import numpy as np
import pytest

from mltc_keras.data.atomic import write_dir_atomic
from mltc_keras.errors import InputError
from mltc_keras.evaluation.metrics import evaluate_predictions
from mltc_keras.evaluation.report import write_report
from report_checks import linked_files, png_size


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(7)
    labels = [f"emotion_{i:02d}" for i in range(28)]
    y = (rng.random((400, 28)) < np.linspace(0.01, 0.3, 28)).astype(int)
    y[:, 5] = 0  # never positive: no ROC-AUC, no PR-AUC, no PR curve
    proba = np.clip(0.35 * y + 0.65 * rng.random(y.shape), 0, 1)
    report = evaluate_predictions(y, proba, labels, rng.choice([0.3, 0.4, 0.5], size=28))
    return {"model": "m.keras", "data": "d.csv", "thresholds": "tuned", **report}, y, proba


def test_report_without_history_has_no_training_curves(case, tmp_path):
    report, y, proba = case
    written = write_report(tmp_path / "r", report, y, proba, history={})
    assert written == ["per_label_f1.png", "pr_curves.png", "f1_by_threshold.png", "cooccurrence.png"]
    folder = tmp_path / "r"
    assert sorted(p.name for p in folder.iterdir()) == sorted(written + ["index.html", "style.css", ".mltc-keras-report"])
    for name in written:
        width, height = png_size(folder / name)
        assert 400 <= width <= 3000 and 300 <= height <= 3000, (name, width, height)
    targets = linked_files((folder / "index.html").read_text(encoding="utf-8"))
    assert sorted(targets) == sorted(written + ["style.css"])
    assert all((folder / target).is_file() for target in targets)
    assert "emotion_05" in (folder / "index.html").read_text() and "n/a" in (folder / "index.html").read_text()


def test_report_with_history(case, tmp_path):
    report, y, proba = case
    history = {"epoch": [0, 1, 2], "loss": [0.5, 0.4, 0.35], "val_loss": [0.45, 0.42, 0.41],
               "micro_f1": [0.2, 0.3, 0.4], "val_micro_f1": [0.2, 0.28, 0.33], "val_macro_f1": [0.1, 0.15, 0.2]}
    assert "training_curves.png" in write_report(tmp_path / "r", report, y, proba, history=history)
    assert png_size(tmp_path / "r" / "training_curves.png")[0] >= 400


def test_write_dir_atomic(tmp_path):
    target = tmp_path / "out"

    def write(folder):
        (folder / "index.html").write_text("new")

    write_dir_atomic(target, write, option="--report")
    assert (target / "index.html").read_text() == "new"
    with pytest.raises(InputError, match="--overwrite"):
        write_dir_atomic(target, write, option="--report")

    def fail(folder):
        (folder / "index.html").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_dir_atomic(target, fail, overwrite=True, option="--report")
    assert (target / "index.html").read_text() == "new", "a failed write keeps the old folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "no temporary folder left behind"
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        write_dir_atomic(tmp_path / "file", write, overwrite=True, option="--report")
    (tmp_path / "empty").mkdir()
    write_dir_atomic(tmp_path / "empty", write, option="--report")  # an empty folder is fine to fill
    assert (tmp_path / "empty" / "index.html").is_file()


def test_a_report_replaces_only_a_report(case, tmp_path):
    report, y, proba = case
    write_report(tmp_path / "r", report, y, proba)
    (tmp_path / "r" / "stale.png").write_bytes(b"from an older report")
    with pytest.raises(InputError, match="--overwrite"):
        write_report(tmp_path / "r", report, y, proba)
    write_report(tmp_path / "r", report, y, proba, overwrite=True)
    assert not (tmp_path / "r" / "stale.png").exists(), "the old report is replaced whole"

    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("my own site")
    with pytest.raises(InputError, match="did not write"):
        write_report(tmp_path / "site", report, y, proba, overwrite=True)
    assert [p.name for p in (tmp_path / "site").iterdir()] == ["index.html"]
