"""`--arch bert` through the CLI on a tiny BERT checkpoint made here: fine-tune, save, reload elsewhere."""

import json

import numpy as np
import pytest

from conftest import cli, made_once, run_python
from tiny_bert import train_on_tiny_bert

SMALL = ["--max-length", "16", "--batch-size", "16", "--learning-rate", "1e-3"]
TEXTS = ["so happy today", "furious why", "the a day", ""]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, worker_id):
    return made_once(tmp_path_factory, worker_id, "bert",
                     lambda root: train_on_tiny_bert(root, "bert", "models/b.keras", "--epochs", "2", *SMALL))


def test_defaults_are_adamw_with_warmup_and_linear_decay(trained):
    result = run_python("import json, mltc_keras; m = mltc_keras.load('models/b.keras').model; "
                        "print(json.dumps({'arch': m.arch, **m.options}))", trained)
    options = json.loads(result.stdout.splitlines()[-1])
    assert options["arch"] == "bert"
    assert (options["optimizer"], options["lr_schedule"], options["warmup"], options["weight_decay"]) == \
        ("adamw", "linear", 0.1, 0.01)
    assert options["clipnorm"] == 1.0 and options["model"]["pooling"] == "mean" and options["model"]["dropout"] == 0.1


def test_fine_tuned_model_reloads_in_a_fresh_process_with_identical_outputs(trained):
    import mltc_keras

    here = mltc_keras.load(trained / "models" / "b.keras").predict_proba(TEXTS)
    result = run_python(f"import numpy as np, mltc_keras; "
                        f"np.save('p.npy', mltc_keras.load('models/b.keras').predict_proba({TEXTS!r}))", trained)
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(trained / "p.npy"), here)
    assert here.shape == (4, 3) and np.isfinite(here).all()


def test_the_encoder_was_fine_tuned(trained):
    import mltc_keras
    from mltc_keras.encoders.pretrained import encoder_network, load_pretrained

    network = mltc_keras.load(trained / "models" / "b.keras").model.network
    original = load_pretrained(str(trained / "tiny-bert"))
    ids = original.tokenizer.encode(TEXTS, 16)
    before = encoder_network(original.backbone, original.tokenizer.pad_id, "mean").predict(ids, verbose=0)
    after = network.get_layer("encoder").predict(ids, verbose=0)
    assert np.abs(after - before).max() > 1e-4


def test_evaluate_and_predict_from_raw_text(trained):
    result = cli("evaluate", "--model", "models/b.keras", "--data", "valid.csv", cwd=trained)
    assert result.returncode == 0, result.stderr
    result = cli("predict", "--model", "models/b.keras", "--text", "why so furious", cwd=trained)
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout.splitlines()[-1])["scores"]) == {"joy", "anger", "question"}


def test_bf16_mixed_precision_with_accumulation_and_two_heads(trained):
    result = cli("train", "--arch", "bert", "--pretrained", "tiny-bert", "--train", "train.csv", "--valid",
                 "valid.csv", "--epochs", "1", "--mixed-precision", "bf16", "--accumulate", "2",
                 "--lr-schedule", "cosine", "--tasks", "feel=joy,anger;ask=question",
                 "--output", "models/bf16.keras", *SMALL, cwd=trained)
    assert result.returncode == 0, result.stderr
    code = ("import mltc_keras; m = mltc_keras.load('models/bf16.keras').model; "
            "p = m.network.get_layer('probabilities_ask'); "
            "print(p.compute_dtype, m.network.get_layer('encoder').layers[-2].compute_dtype, "
            "m.predict(__import__('numpy').array([[2, 5, 3]]), verbose=0).dtype)")
    result = run_python(code, trained)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["float32", "bfloat16", "float32"]


def test_broken_checkpoint_gives_one_clear_line(trained):
    broken = trained / "broken"
    broken.mkdir()
    (broken / "vocab.txt").write_text((trained / "tiny-bert" / "vocab.txt").read_text())
    result = cli("train", "--arch", "bert", "--pretrained", "broken", "--train", "train.csv",
                 "--output", "models/x.keras", cwd=trained)
    assert result.returncode == 2
    assert "no config.json or model.safetensors" in result.stderr.splitlines()[-1]
    assert not (trained / "models" / "x.keras").exists()


def test_the_arch_harness(tmp_path):
    from arch_harness import run_arch_test
    from mltc_keras.encoders.pretrained import load_pretrained
    from mltc_keras.models.features import EncoderTokenFeatures
    from tiny_bert import make_tiny_bert

    features = EncoderTokenFeatures(load_pretrained(str(make_tiny_bert(tmp_path / "tiny-bert"))))
    ids = features.tokenizer.encode(["so happy today", "furious why", "the a day"], 8)
    run_arch_test("bert", {"pretrained": str(tmp_path / "tiny-bert"), "dropout": 0.0}, features, ids, tmp_path)
