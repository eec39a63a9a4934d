"""evaluate's full metrics, --per-label-csv and --report, tune-thresholds and compare: the CLI in
subprocesses on two tiny models trained once for the module."""

import csv
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import LABELS, TINY_MODEL, cli, made_once, write_splits
from mltc_keras.data.atomic import write_dir_atomic
from mltc_keras.evaluation.metrics import PREDICTION_METRICS, SCORE_METRICS
from mltc_keras.evaluation.thresholds import make_grid, tune_for
from report_checks import linked_files, png_size


def _train_two(root):
    write_splits(root, test=48)
    result = cli("train", "--arch", "bilstm", "--train", "train.csv", "--valid", "valid.csv", "--epochs", "2",
                 "--output", "bilstm.keras", *TINY_MODEL, cwd=root)
    assert result.returncode == 0, result.stderr
    result = cli("train", "--arch", "bag", "--train", "train.csv", "--valid", "valid.csv", "--epochs", "2",
                 "--embedding-dim", "8", "--hidden-units", "8,4", "--min-count", "1", "--max-length", "16",
                 "--output", "bag.keras", cwd=root)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def models(tmp_path_factory, worker_id):
    """A tiny bilstm and a tiny bag model, trained on the same files (once a session)."""
    return made_once(tmp_path_factory, worker_id, "tools", _train_two)


def test_evaluate_json_csv_and_report(models):
    result = cli("evaluate", "--model", "bilstm.keras", "--data", "test.csv", "--json", "m.json",
                 "--per-label-csv", "per_label.csv", "--report", "report", cwd=models)
    assert result.returncode == 0, result.stderr
    report = json.loads((models / "m.json").read_text())
    for key in (*PREDICTION_METRICS, *SCORE_METRICS):
        assert isinstance(report[key], float), key
        assert key in result.stdout
    assert set(report["at_0.5"]) == set(PREDICTION_METRICS)
    assert {"roc_auc", "pr_auc", "rows_without_labels"} == set(report["skipped"])
    table = list(csv.DictReader(open(models / "per_label.csv")))
    assert [row["label"] for row in table] == LABELS
    assert list(table[0]) == ["label", "support", "precision", "recall", "f1", "roc_auc", "pr_auc", "threshold"]
    for row, expected in zip(table, report["per_label"]):
        assert float(row["f1"]) == pytest.approx(expected["f1"]) and int(row["support"]) == expected["support"]

    folder = models / "report"
    names = {"per_label_f1.png", "pr_curves.png", "f1_by_threshold.png", "cooccurrence.png", "training_curves.png"}
    assert {p.name for p in folder.iterdir()} == names | {"index.html", "style.css", "explanations.html",
                                                          ".mltc-keras-report"}
    for name in names:
        width, height = png_size(folder / name)
        assert 300 <= width <= 4000 and 200 <= height <= 4000, (name, width, height)
    page = (folder / "index.html").read_text(encoding="utf-8")
    targets = linked_files(page)
    assert set(targets) == names | {"style.css", "explanations.html"}
    assert all((folder / target).is_file() for target in targets)
    examples = (folder / "explanations.html").read_text(encoding="utf-8")
    assert linked_files(examples) == [] and "://" not in examples  # offline, nothing to fetch
    captions = re.findall(r"row \d+, (right|wrong): true", examples)
    assert 1 <= len(captions) <= 6 and examples.count("<h2>") >= len(captions)
    assert "://" not in page and "://" not in (folder / "style.css").read_text()
    for label in LABELS:
        assert f"<td>{label}</td>" in page
    assert f"{report['macro_f1']:.3f}" in page and f"{report['at_0.5']['macro_f1']:.3f}" in page
    assert not list(models.glob(".report*")), "no temporary folder left behind"


def test_evaluate_refuses_existing_outputs_without_overwrite(models):
    (models / "exists.json").write_text("{}")
    (models / "notes").mkdir()
    (models / "notes" / "mine.txt").write_text("keep me")
    (models / "site").mkdir()
    (models / "site" / "index.html").write_text("my own site")

    def older_report(folder):
        (folder / "index.html").write_text("an older report")
        (folder / "extra.txt").write_text("from an older report")

    write_dir_atomic(models / "old_report", older_report, option="--report")
    for option, path in (("--json", "exists.json"), ("--per-label-csv", "exists.json"), ("--report", "old_report")):
        done = cli("evaluate", "--model", "bag.keras", "--data", "test.csv", option, path, cwd=models)
        assert done.returncode == 2 and f"{option} {path}" in done.stderr and "--overwrite" in done.stderr
    for path in ("notes", "site"):  # an index.html alone does not make a folder ours
        done = cli("evaluate", "--model", "bag.keras", "--data", "test.csv", "--report", path, "--overwrite", cwd=models)
        assert done.returncode == 2 and f"--report {path}" in done.stderr and "did not write" in done.stderr
    assert (models / "exists.json").read_text() == "{}" and (models / "notes" / "mine.txt").read_text() == "keep me"
    assert (models / "site" / "index.html").read_text() == "my own site"

    result = cli("evaluate", "--model", "bag.keras", "--data", "test.csv", "--report", "old_report",
                 "--json", "exists.json", "--overwrite", cwd=models)
    assert result.returncode == 0, result.stderr
    assert "bag.keras" in (models / "old_report" / "index.html").read_text()
    assert not (models / "old_report" / "extra.txt").exists(), "the old report is replaced whole"
    assert "micro_f1" in json.loads((models / "exists.json").read_text())


STATE_CODE = """
import json, sys, mltc_keras
from mltc_keras.data.reader import read_labelled_csv
data = read_labelled_csv('valid.csv', expected_labels=mltc_keras.load(sys.argv[1]).labels)
states = {}
for path in sys.argv[1:]:
    p = mltc_keras.load(path)
    states[path] = {"thresholds": p.model.thresholds, "proba": p.predict_proba(data.texts).tolist()}
print(json.dumps({"y": data.y.tolist(), "models": states}))
"""


def test_tune_thresholds(models):
    grids = {"per-label-f1": 91, "micro-f1": 19, "macro-f1": 7}
    for objective, grid in grids.items():
        done = cli("tune-thresholds", "--model", "bilstm.keras", "--data", "valid.csv", "--objective", objective,
                   "--grid", grid, "--output", f"{objective}.keras", cwd=models)
        assert done.returncode == 0 and "warning" not in done.stderr, done.stderr
        assert "before" in done.stdout and f"wrote {objective}.keras" in done.stdout
    assert not (models / "bilstm.bak.keras").exists(), "--output leaves the model alone"

    shutil.copy(models / "bag.keras", models / "in_place.keras")
    original = (models / "in_place.keras").read_bytes()
    shutil.copy(models / "valid.csv", models / "my_test.csv")
    result = cli("tune-thresholds", "--model", "in_place.keras", "--data", "my_test.csv", cwd=models)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "my_test.csv" in warnings[0] and "test split" in warnings[0]
    assert "in_place.bak.keras" in result.stdout and (models / "in_place.bak.keras").read_bytes() == original

    tuned = [f"{objective}.keras" for objective in grids]
    code = [STATE_CODE, "bilstm.keras", *tuned, "in_place.bak.keras", "in_place.keras"]
    out = subprocess.run([sys.executable, "-c", *code], cwd=models, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    state = json.loads(out.stdout.splitlines()[-1])
    y, states = np.array(state["y"]), state["models"]
    for (objective, grid), name in zip(grids.items(), tuned):
        assert states[name]["proba"] == states["bilstm.keras"]["proba"], "tuning changes thresholds, never weights"
        expected = tune_for(objective, y, np.array(states[name]["proba"]), make_grid(grid))
        np.testing.assert_allclose(states[name]["thresholds"], expected)
        assert set(states[name]["thresholds"]) <= set(make_grid(grid))
    assert len(set(states["micro-f1.keras"]["thresholds"])) == 1
    in_place = states["in_place.keras"]
    assert in_place["proba"] == states["in_place.bak.keras"]["proba"]
    np.testing.assert_allclose(in_place["thresholds"], tune_for("per-label-f1", y, np.array(in_place["proba"])))

    for args, message in ((("--model", "in_place.keras"), "in_place.bak.keras: a backup"),
                          (("--model", "bag.keras", "--output", "macro-f1.keras"), "--output macro-f1.keras: file exists"),
                          (("--model", "bag.keras", "--grid", "1"), "--grid 1"),
                          (("--model", "bag.keras", "--min-precision", "2"), "--min-precision 2"),
                          (("--model", "bag.keras", "--output", "tuned.h5"), "must end in .keras")):
        done = cli("tune-thresholds", "--data", "valid.csv", *args, cwd=models)
        assert done.returncode == 2 and message in done.stderr, done.stderr
    assert (models / "in_place.bak.keras").read_bytes() == original


def test_compare_table_and_json(models):
    result = cli("compare", "--models", "bilstm.keras", "bag.keras", "--data", "test.csv", "--json", "cmp.json",
                 cwd=models)
    assert result.returncode == 0, result.stderr
    out = json.loads((models / "cmp.json").read_text())
    rows = {row["model"]: row for row in out["models"]}
    assert list(rows) == ["bilstm.keras", "bag.keras"]
    assert rows["bilstm.keras"]["arch"] == "bilstm" and rows["bag.keras"]["arch"] == "bag"
    for row in rows.values():
        assert row["parameters"] >= row["trainable_parameters"] > 0 and row["samples_per_second"] > 0
        assert 0 <= row["macro_f1_tuned"] <= 1 and row["n_samples"] == 48
    evaluated = cli("evaluate", "--model", "bag.keras", "--data", "test.csv", "--json", "bag.json", cwd=models)
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads((models / "bag.json").read_text())
    assert rows["bag.keras"]["macro_f1_tuned"] == pytest.approx(report["macro_f1"])
    assert rows["bag.keras"]["micro_f1_at_0.5"] == pytest.approx(report["at_0.5"]["micro_f1"])
    assert rows["bag.keras"]["roc_auc_macro"] == pytest.approx(report["roc_auc_macro"])
    assert out["best"]["parameters"] == ["bag.keras"]  # fewest parameters is the best
    fastest = max(rows.values(), key=lambda row: row["samples_per_second"])["model"]
    assert out["best"]["samples_per_second"] == [fastest]
    line = next(line for line in result.stdout.splitlines() if line.startswith("bag.keras"))
    assert f"{rows['bag.keras']['parameters']:,}*" in line

    done = cli("compare", "--models", "bag.keras", "--data", "test.csv", "--json", "cmp.json", cwd=models)
    assert done.returncode == 2 and "--json cmp.json: file exists" in done.stderr


@pytest.mark.parametrize("command, expected", [("tune-thresholds", "--objective"), ("compare", "--models"),
                                               ("evaluate", "--per-label-csv")])
def test_help(capsys, command, expected):
    from mltc_keras.cli import build_parser

    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([command, "--help"])
    assert exit_.value.code == 0 and expected in capsys.readouterr().out
