"""Exports of tiny models of every arch (tests/learned_models.py), loaded back in processes that do
not import mltc_keras: a SavedModel with TensorFlow alone, ONNX with onnxruntime + tokenizers alone."""

import json

import numpy as np
import pytest

from conftest import cli, run_python

ARCHS = ["bilstm", "bag", "embed-head", "bert"]
# truncation (the tiny models read 16 tokens), unknown words, empty text, non-ASCII, control characters
TEXTS = ["so happy today", "why was it furious " * 12, "", "zqxj blorptastic unfathomableness",
         "café naïve RÉSUMÉ 日本語 🎉 ΟΔΟΣ", "tab\there\u200b and\u00a0nbsp, punctuation!?", "happy" + "y" * 120]

BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(name + " is blocked in this test")
sys.meta_path.insert(0, Block())
"""


def blocking(modules, code):
    """`code` run after any import of `modules` is made to fail."""
    return BLOCK.replace("BLOCKED", repr(set(modules))) + code


LOAD_SAVED_MODELS = """
import json, numpy as np, tensorflow as tf
import tensorflow_text  # registers the TF-Text ops the graph uses
texts = json.load(open("texts.json"))
for arch in {archs}:
    model = tf.saved_model.load(f"saved_model-{{arch}}")
    out = model.signatures["serving_default"](texts=tf.constant(texts))
    meta = model.signatures["metadata"]()
    np.save(f"saved_model-{{arch}}.npy", out["probabilities"].numpy())
    json.dump({{"labels": [[n.decode() for n in row] for row in out["labels"].numpy()],
               "label_names": [n.decode() for n in meta["label_names"].numpy()],
               "thresholds": meta["thresholds"].numpy().tolist()}}, open(f"saved_model-{{arch}}.json", "w"))
"""

RUN_ONNX = """
import json, numpy as np, onnxruntime
from tokenizers import Tokenizer
texts = json.load(open("texts.json"))
for arch in {archs}:
    tokenizer = Tokenizer.from_file(f"onnx-{{arch}}/tokenizer.json")
    session = onnxruntime.InferenceSession(f"onnx-{{arch}}/model.onnx")
    ids = np.array([e.ids for e in tokenizer.encode_batch(texts)], dtype=np.int64)
    np.save(f"onnx-{{arch}}.npy", session.run(["probabilities"], {{"input_ids": ids}})[0])
"""


@pytest.fixture(scope="module")
def exported(learned, tmp_path_factory):
    """Every arch exported both ways through the CLI's run(); the folder holding the exports."""
    from mltc_keras.commands import export
    from mltc_keras.options import ExportOptions

    root = tmp_path_factory.mktemp("exports")
    (root / "texts.json").write_text(json.dumps(TEXTS), encoding="utf-8")
    for arch in ARCHS:
        for fmt in ("saved_model", "onnx"):
            export.run(ExportOptions(model=learned.path(arch), format=fmt, output=str(root / f"{fmt}-{arch}")))
    return root


def test_saved_model_takes_raw_text_in_tensorflow_alone(learned, exported):
    import mltc_keras

    result = run_python(blocking(["mltc_keras", "keras_hub"], LOAD_SAVED_MODELS.format(archs=ARCHS)), cwd=exported)
    assert result.returncode == 0, result.stderr[-3000:]
    for arch in ARCHS:
        predictor = mltc_keras.load(learned.path(arch))
        np.testing.assert_allclose(np.load(exported / f"saved_model-{arch}.npy"), predictor.predict_proba(TEXTS),
                                   rtol=0, atol=1e-5, err_msg=arch)
        got = json.loads((exported / f"saved_model-{arch}.json").read_text())
        label_sets = [[name for name in row if name] for row in got["labels"]]
        assert label_sets == [p["labels"] for p in predictor.predict(TEXTS)], arch
        assert got["label_names"] == predictor.labels
        np.testing.assert_allclose(got["thresholds"], predictor.model.thresholds, rtol=1e-6)
        info = json.loads((exported / f"saved_model-{arch}" / "assets.extra" / "mltc_keras.json").read_text())
        assert info["non_core_ops"] == ["FastWordpieceTokenizeWithOffsets", "NormalizeUTF8"], info


def test_onnx_runs_on_onnxruntime_and_tokenizers_alone(learned, exported):
    import mltc_keras

    result = run_python(blocking(["mltc_keras", "keras", "tensorflow"], RUN_ONNX.format(archs=ARCHS)), cwd=exported)
    assert result.returncode == 0, result.stderr[-3000:]
    for arch in ARCHS:
        predictor = mltc_keras.load(learned.path(arch))
        np.testing.assert_allclose(np.load(exported / f"onnx-{arch}.npy"), predictor.predict_proba(TEXTS),
                                   rtol=0, atol=1e-5, err_msg=arch)
        labels = json.loads((exported / f"onnx-{arch}" / "labels.json").read_text())
        assert labels["labels"] == predictor.labels and labels["thresholds"] == predictor.model.thresholds
        assert (exported / f"onnx-{arch}" / "README.md").read_text().count("input_ids") >= 2


def as_checkpoint_ships_it(tokenizer):
    """`tokenizer` with BERT's special tokens as added tokens, as in a checkpoint's tokenizer.json
    (found in the raw text before normalisation)."""
    from tokenizers import Tokenizer as HFTokenizer

    from mltc_keras.text.tokenizer import Tokenizer

    hf = HFTokenizer.from_str(tokenizer.to_json())
    hf.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    assert len(json.loads(hf.to_str())["added_tokens"]) == 5
    return Tokenizer.from_json(hf.to_str())


@pytest.mark.parametrize("arch", ["bilstm", "bag", "checkpoint"])
def test_graph_tokenizer_gives_the_tokenizer_s_ids(learned, arch):
    """The in-graph tokenizer against the Rust one, on real comments and on characters each step
    of the normalisation handles, at a cut inside and beyond their lengths."""
    import pandas as pd
    import tensorflow as tf

    import mltc_keras
    from mltc_keras.export.graph_tokenizer import GraphTokenizer
    from mltc_keras.text.word_vocab import build_word_tokenizer

    comments = pd.read_csv("data/goemotions/test.csv", nrows=2000)["text"].tolist()
    tricky = TEXTS + [" ", "ﬁne ｆｕｌｌｗｉｄｔｈ ² Ⅻ ℃", "\x00nul\ufffd", "İstanbul ß Straße", "e\u0301 combining",
                      "\u2028para\u2029sep\x85nel", "x" * 99 + " " + "y" * 101, "don't [CLS] ##ing", "中文字符",
                      "a[SEP]b [sep] [SE\x01P] \x01x\x01 \x010\x01", "[MASK][MASK]x [PAD] [UNK]", "[CLS]"]
    tokenizer = mltc_keras.load(learned.path("bag" if arch == "bag" else "bilstm")).tokenizer
    if arch == "checkpoint":
        tokenizer = as_checkpoint_ships_it(tokenizer)
    if arch == "bag":  # a vocabulary of real words, not just the cue words' dozen
        tokenizer = build_word_tokenizer(comments + [t for t in tricky if "\x00" not in t], min_count=1)
    for max_length in (8, 64):
        graph = GraphTokenizer(tokenizer.to_json(), max_length, tokenizer.pad_id)
        for texts in (tricky, comments):
            got = graph(tf.constant(texts)).numpy()
            want = tokenizer.encode(texts, max_length)
            width = int((want != tokenizer.pad_id).sum(axis=1).max())
            np.testing.assert_array_equal(got, want[:, :width], err_msg=f"max_length {max_length}")


def test_an_untranslatable_tokenizer_is_named():
    from tokenizers import Tokenizer, models, pre_tokenizers

    from mltc_keras.export.graph_tokenizer import GraphTokenizer, UnsupportedTokenizer

    bpe = Tokenizer(models.BPE({"a": 0, "b": 1, "[PAD]": 2}, [], unk_token="a"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel()
    with pytest.raises(UnsupportedTokenizer, match="ByteLevel pre-tokenizer"):
        GraphTokenizer(bpe.to_str(), 16, 2)


def with_policy(config, name):
    """A serialized Keras object's config with every layer's dtype policy set to `name`."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy":
            return {**config, "config": {**config["config"], "name": name}}
        return {key: with_policy(value, name) for key, value in config.items()}
    if isinstance(config, list):
        return [with_policy(value, name) for value in config]
    return config


@pytest.mark.parametrize("arch", ["bag", "bilstm"])
def test_mixed_precision_network_exports_in_float32(learned, arch):
    """A network trained in mixed_bfloat16 is exported as a float32 copy with the same weights: it
    predicts as the float32 network does, and within bf16 rounding of the mixed one (README)."""
    import keras

    import mltc_keras
    from mltc_keras.export.onnx_model import float32_network, mixed_policies
    from mltc_keras.models.text_classifier import load_classifier

    classifier = load_classifier(learned.path(arch))
    mixed = keras.saving.deserialize_keras_object(
        with_policy(keras.saving.serialize_keras_object(classifier.network), "mixed_bfloat16"))
    mixed.set_weights(classifier.network.get_weights())
    assert mixed_policies(mixed) == ["mixed_bfloat16"]
    copy = float32_network(mixed)
    assert mixed_policies(copy) == [] and float32_network(classifier.network) is classifier.network
    ids = mltc_keras.load(learned.path(arch)).token_ids(TEXTS)
    float32 = np.asarray(copy.predict_on_batch(ids))
    np.testing.assert_allclose(float32, np.asarray(classifier.network.predict_on_batch(ids)), atol=1e-6)
    bf16_gap = np.abs(np.asarray(mixed.predict_on_batch(ids), dtype="float32") - float32).max()
    assert 0 < bf16_gap < 0.05, "the mixed network computes in bf16, within bf16 rounding of float32"


def test_onnx_runtime_predicts_like_keras_from_a_cache_made_once(learned, tmp_path, monkeypatch, capsys):
    import mltc_keras

    monkeypatch.setenv("MLTC_KERAS_CACHE", str(tmp_path / "cache"))
    for arch in ("bilstm", "bert"):
        keras_proba = mltc_keras.load(learned.path(arch)).predict_proba(TEXTS)
        np.testing.assert_allclose(mltc_keras.load(learned.path(arch), runtime="onnx").predict_proba(TEXTS),
                                   keras_proba, rtol=0, atol=1e-5)
        assert "exported" in capsys.readouterr().err
        mltc_keras.load(learned.path(arch), runtime="onnx")
        assert "exported" not in capsys.readouterr().err, "the second load reuses the cached export"
    assert len(list((tmp_path / "cache" / "exports").iterdir())) == 2


def test_export_refusals_are_one_line_and_write_nothing(learned, tmp_path):
    def export(model, fmt, output):
        return cli("export", "--model", model, "--format", fmt, "--output", output, cwd=tmp_path)

    assert export(learned.path("bag"), "onnx", tmp_path / "out").returncode == 0
    done = export(learned.path("bag"), "onnx", tmp_path / "out")
    assert done.returncode == 2 and done.stderr.count("error:") == 1 and "--overwrite" in done.stderr
    assert cli("ensemble", "--models", learned.path("bag"), learned.path("bilstm"), "--valid",
               learned.root / "valid.csv", "--output", tmp_path / "ens.keras", cwd=tmp_path).returncode == 0
    done = export(tmp_path / "ens.keras", "saved_model", tmp_path / "ens")
    assert done.returncode == 2 and done.stderr.startswith("error: ") and "is an ensemble" in done.stderr
    assert not (tmp_path / "ens").exists() and not list(tmp_path.glob(".ens*"))


def test_auto_runtime_takes_onnx_where_faster_once_exported(learned, tmp_path, monkeypatch):
    import mltc_keras
    import mltc_keras.export.onnx_model
    from mltc_keras.errors import InputError
    from mltc_keras.serving.runtimes import FASTER_ON_CPU, OnnxNetwork

    monkeypatch.setenv("MLTC_KERAS_CACHE", str(tmp_path / "cache"))
    for arch in ("bilstm", "bag"):
        assert not isinstance(mltc_keras.load(learned.path(arch), runtime="auto").network, OnnxNetwork), \
            "a one-off run does not pay for an export"
        assert isinstance(mltc_keras.load(learned.path(arch), runtime="onnx").network, OnnxNetwork)
        assert isinstance(mltc_keras.load(learned.path(arch), runtime="auto").network, OnnxNetwork) == \
            (FASTER_ON_CPU.get(arch) == "onnx"), "once exported, auto finds it cached"

    def broken(*args):
        raise RuntimeError("converter says no")

    monkeypatch.setattr(mltc_keras.export.onnx_model, "write_onnx", broken)
    monkeypatch.setenv("MLTC_KERAS_CACHE", str(tmp_path / "other-cache"))
    assert not isinstance(mltc_keras.load(learned.path("bilstm"), runtime="auto").network, OnnxNetwork)
    with pytest.raises(InputError, match="cannot export it to ONNX for the onnx runtime .*use the keras runtime"):
        mltc_keras.load(learned.path("bilstm"), runtime="onnx")
