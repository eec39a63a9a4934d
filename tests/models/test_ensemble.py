"""Ensembles of tiny models of different archs (tests/learned_models.py): the file, its numbers,
and every command that takes a model."""

import json
import time

import numpy as np
import pytest

from conftest import LABELS, cli, error_lines, make_rows, run_python, write_csv

TEXTS = ["so happy today", "why are you furious", "", "the a day café", "happy " * 40]

MEMBERS_AND_MIX = """
import json, numpy as np, mltc_keras
from mltc_keras.models.text_classifier import load_classifier
ensemble = mltc_keras.load("{path}")
texts = {texts!r}
members = [mltc_keras.Predictor(m).predict_proba(texts) for m in load_classifier("{path}").members]
print(json.dumps({{"weights": ensemble.model.member_weights, "arches": [m.arch for m in ensemble.model.members],
                  "ensemble": ensemble.predict_proba(texts).tolist(), "members": [m.tolist() for m in members]}}))
"""


@pytest.fixture(scope="module")
def ensemble(learned, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ensemble")
    done = cli("ensemble", "--models", learned.path("bag"), learned.path("bilstm"), "--valid",
               learned.root / "valid.csv", "--output", folder / "ens.keras", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "bag" in done.stdout and "bilstm" in done.stdout and "wrote" in done.stdout
    return folder / "ens.keras"


def test_reloads_in_a_new_process_as_the_weighted_mean_of_its_members(ensemble, tmp_path):
    done = run_python(MEMBERS_AND_MIX.format(path=ensemble, texts=TEXTS), tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["arches"] == ["bag", "bilstm"]
    weights = np.array(out["weights"])
    assert weights.sum() == pytest.approx(1) and (weights >= 0).all()
    mixed = sum(w * np.array(p) for w, p in zip(weights, out["members"]))
    np.testing.assert_allclose(out["ensemble"], mixed, atol=1e-6)


def test_it_works_in_predict_evaluate_compare_tune_and_explain(ensemble, learned, tmp_path):
    import mltc_keras

    predictor = mltc_keras.load(ensemble)
    done = cli("predict", "--model", ensemble, "--text", *TEXTS[:2], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert [r["labels"] for r in rows] == [p["labels"] for p in predictor.predict(TEXTS[:2])]
    done = cli("evaluate", "--model", ensemble, "--data", learned.root / "test.csv", "--json", "e.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "e.json").read_text())["macro_f1"] >= 0.9
    done = cli("compare", "--models", ensemble, learned.path("bag"), "--data", learned.root / "test.csv",
               "--json", "c.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    ensemble_row, bag_row = json.loads((tmp_path / "c.json").read_text())["models"]
    assert ensemble_row["arch"] == "ensemble" and ensemble_row["parameters"] > bag_row["parameters"]
    done = cli("tune-thresholds", "--model", ensemble, "--data", learned.root / "valid.csv", "--output", "t.keras",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert mltc_keras.load(tmp_path / "t.keras").model.arch == "ensemble"
    words = predictor.explain("the day was so happy and then we", labels=["joy"])["joy"]
    assert max(words, key=lambda ws: ws[1])[0] == "happy"
    with pytest.raises(ValueError, match="ensemble is explained by occlusion"):
        predictor.explain("so happy", method="gradients")


def test_it_is_served_like_any_model(ensemble):
    from starlette.testclient import TestClient

    import mltc_keras
    from mltc_keras.serving import create_app

    with TestClient(create_app({"ens": str(ensemble)}, access_log=False)) as client:
        for _ in range(600):
            if client.get("/v2/health/ready").status_code == 200:
                break
            time.sleep(0.1)
        r = client.post("/v1/models/ens:predict", json={"instances": TEXTS})
        assert r.status_code == 200, r.text
        scores = [[p["scores"][label] for label in LABELS] for p in r.json()["predictions"]]
        np.testing.assert_allclose(scores, mltc_keras.load(ensemble).predict_proba(TEXTS), atol=1e-6)
        assert client.get("/v1/models/ens/metadata").json()["arch"] == "ensemble"


def test_members_with_other_labels_are_refused_in_one_line(learned, tmp_path):
    header = ("text", "joy", "rage", "question")
    write_csv(tmp_path / "train.csv", make_rows(60, seed=3), header=header)
    done = cli("train", "--arch", "bag", "--train", "train.csv", "--epochs", "1", "--embedding-dim", "4",
               "--hidden-units", "4", "--output", "other.keras", "--max-length", "16", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = cli("ensemble", "--models", learned.path("bag"), "other.keras", "--valid", learned.root / "valid.csv",
               "--output", "ens.keras", cwd=tmp_path)
    assert done.returncode == 2
    [line] = error_lines(done)
    assert "other.keras" in line and "lacks anger" in line and "has rage besides" in line
    assert not (tmp_path / "ens.keras").exists()


def test_weights_go_to_the_member_that_knows_the_labels():
    from mltc_keras.evaluation.ensemble_weights import fit_weights, simplex_points

    rng = np.random.default_rng(0)
    y = (rng.random((400, 3)) < 0.3).astype(int)
    knows = np.clip(y * 0.6 + rng.random(y.shape) * 0.4, 0, 1)
    noise = rng.random(y.shape)
    weights, score = fit_weights([noise, knows], y)
    assert weights[1] > 0.7 and score == pytest.approx(1.0)
    # two copies of the same member: every mix scores the same, and the tie goes to equal weights
    weights, _ = fit_weights([knows, knows], y)
    np.testing.assert_allclose(weights, [0.5, 0.5])
    assert all(abs(p.sum() - 1) < 1e-9 for p in simplex_points(3)) and len(simplex_points(3)) == 232
