"""`--arch embed-head` and `mltc-keras embed` through the CLI, over a tiny BERT checkpoint made here."""

import json
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from conftest import cli, inputs_of_width, make_rows, run_python
from arch_harness import run_arch_test
from mltc_keras.errors import InputError
from mltc_keras.models import get_arch
from mltc_keras.models.embed_head import Spec
from mltc_keras.options import resolve_train_options
from tiny_bert import train_on_tiny_bert

HEAD = ["--hidden-units", "16,8", "--max-length", "16", "--batch-size", "16", "--window", "6"]
TEXTS = ["so happy today", "furious why", "the a day", ""]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_on_tiny_bert(tmp_path_factory.mktemp("embed_head"), "embed-head", "models/eh.keras",
                              "--epochs", "3", *HEAD)


def test_the_arch_harness(tmp_path):
    vectors = np.random.default_rng(0).normal(size=(6, 16)).astype("float32")
    run_arch_test("embed-head", dict(hidden_units="8", dropout=0.1, token_path=0), inputs_of_width(16), vectors,
                  tmp_path, token_inputs=False)


def test_head_spec():
    model = get_arch("embed-head").build(Spec(token_path=0), inputs_of_width(384), 28)
    assert [model.get_layer(f"hidden_{i}").units for i in (1, 2)] == [512, 256]
    assert [model.get_layer(f"dropout_{i}").rate for i in (1, 2)] == [0.3, 0.3]
    assert model.get_layer("probabilities").units == 28
    assert model.get_layer("probabilities").compute_dtype == "float32"
    with pytest.raises(InputError, match="--pooling max: 'max': an encoder pools with one of mean, cls"):
        resolve_train_options({"arch": "embed-head", "pretrained": "x", "pooling": "max"})


def test_linear_path_puts_the_embeddings_beside_the_last_hidden_layer():
    model = get_arch("embed-head").build(Spec(token_path=0), inputs_of_width(384), 28)
    assert model.get_layer("with_embeddings").output.shape[-1] == 256 + 384
    assert model.get_layer("probabilities").input.shape[-1] == 256 + 384


@pytest.mark.parametrize("options, width", [(dict(linear_path=False), 256), (dict(hidden_units="none"), 384)])
def test_output_layer_reads_the_mlp_alone_or_the_embeddings_once(options, width):
    model = get_arch("embed-head").build(Spec(token_path=0, **options), inputs_of_width(384), 28)
    assert "with_embeddings" not in [layer.name for layer in model.layers]
    assert model.get_layer("probabilities").input.shape[-1] == width


def test_token_path_feeds_the_mean_and_max_of_the_non_padding_token_vectors_to_the_mlp_and_beside_it():
    tokens = SimpleNamespace(width=16, vocab_size=50, tokenizer=SimpleNamespace(pad_id=1))  # pad 1, as RoBERTa's
    model = get_arch("embed-head").build(Spec(hidden_units="8", token_path=4), tokens, 3)
    assert [tensor.name for tensor in model.inputs] == ["embeddings", "token_ids"]
    assert model.get_layer("hidden_1").input.shape[-1] == 16 + 2 * 4, "the MLP reads the token vector too"
    assert model.get_layer("probabilities").input.shape[-1] == 8 + 16 + 2 * 4
    table = model.get_layer("token_embedding").embeddings.numpy()
    pooled = keras.Model(model.inputs, model.get_layer("token_pooled").output)
    x = {"embeddings": np.zeros((2, 16), "float32"), "token_ids": np.array([[5, 6, 1, 1], [1, 1, 1, 1]], "int32")}
    expected = [np.concatenate([table[[5, 6]].mean(axis=0), table[[5, 6]].max(axis=0)]), np.zeros(8)]
    np.testing.assert_allclose(pooled.predict(x, verbose=0), expected, atol=1e-6)


@pytest.mark.parametrize("pooling, width", [("mean", 4), ("max", 4), ("max,mean", 8)])
def test_token_pooling_follows_the_spec(pooling, width):
    tokens = SimpleNamespace(width=16, vocab_size=50, tokenizer=SimpleNamespace(pad_id=0))
    model = get_arch("embed-head").build(Spec(hidden_units="8", token_path=4, token_pooling=pooling), tokens, 3)
    assert sorted(l.name for l in model.layers if l.name.endswith("_pool")) == sorted(
        f"token_{p}_pool" for p in pooling.split(","))
    assert model.get_layer("hidden_1").input.shape[-1] == 16 + width


def test_token_pooling_needs_a_pooling():
    with pytest.raises(InputError, match="--token-pooling"):
        resolve_train_options({"arch": "embed-head", "pretrained": "x", "token_pooling": "none"})


def test_without_hidden_layers_the_output_layer_reads_embeddings_and_token_vector_once():
    tokens = SimpleNamespace(width=16, vocab_size=50, tokenizer=SimpleNamespace(pad_id=0))
    model = get_arch("embed-head").build(Spec(hidden_units="none", token_path=4), tokens, 3)
    assert not {"with_embeddings", "with_tokens"} & {layer.name for layer in model.layers}
    assert model.get_layer("probabilities").input.shape[-1] == 16 + 2 * 4


def test_training_reads_cached_embeddings_and_saves_encoder_and_head(trained):
    entries = sorted((trained / "cache" / "embeddings").glob("*.npy"))
    assert len(entries) == 2, "train and valid were each embedded once"
    options = json.loads(run_python(
        "import json, mltc_keras; m = mltc_keras.load('models/eh.keras').model; "
        "print(json.dumps({'arch': m.arch, **m.options}))", trained).stdout.splitlines()[-1])
    assert options["arch"] == "embed-head"
    assert (options["loss"], options["learning_rate"]) == ("bce", 1e-3)
    assert options["model"]["pretrained"] == "tiny-bert" and options["model"]["pooling"] == "mean"
    assert (options["model"]["layers"], options["model"]["normalize"]) == ("all", True)


def test_saved_model_predicts_raw_text_identically_in_a_fresh_process(trained):
    import mltc_keras

    here = mltc_keras.load(trained / "models" / "eh.keras").predict_proba(TEXTS)
    code = (f"import numpy as np, mltc_keras; "
            f"np.save('p.npy', mltc_keras.load('models/eh.keras').predict_proba({TEXTS!r}))")
    result = run_python(code, trained)
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(trained / "p.npy"), here)
    assert here.shape == (4, 3) and np.isfinite(here).all()


def test_encoder_in_the_file_is_the_frozen_checkpoint(trained):
    import mltc_keras
    from mltc_keras.encoders.pretrained import encoder_network, load_pretrained

    model = mltc_keras.load(trained / "models" / "eh.keras").model
    saved_encoder = next(layer for layer in model.network.layers if layer.name == "encoder")
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == model.network.get_layer("embed_head").count_params(), "only the head is trainable"
    original = load_pretrained(str(trained / "tiny-bert"))
    ids = original.tokenizer.encode(TEXTS, 16)
    expected = encoder_network(original.backbone, original.tokenizer.pad_id, "mean", "all", True,
                               window=6).predict(ids, verbose=0)
    assert expected.shape == (4, 16), "the embedding output and the one block, 8 wide each"
    np.testing.assert_allclose(saved_encoder.predict(ids, verbose=0), expected, atol=1e-6)


def test_evaluate_and_predict_work_like_any_model(trained):
    result = cli("evaluate", "--model", "models/eh.keras", "--data", "valid.csv", cwd=trained)
    assert result.returncode == 0, result.stderr
    assert "macro_f1" in result.stdout
    result = cli("predict", "--model", "models/eh.keras", "--text", "so happy today", cwd=trained)
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout.splitlines()[-1])["scores"]) == {"joy", "anger", "question"}


def test_head_checkpoint_is_refused_with_a_clear_error(trained):
    result = cli("predict", "--model", "logs/eh/best.keras", "--text", "hi", cwd=trained)
    assert result.returncode == 2
    assert "training checkpoint of a head over sentence embeddings" in result.stderr.splitlines()[-1]


def test_embed_command_writes_npy_in_row_order_and_shares_the_cache(trained):
    entries = {p.name: p.stat().st_mtime_ns for p in (trained / "cache" / "embeddings").glob("*.npy")}
    result = cli("embed", "--pretrained", "tiny-bert", "--input", "train.csv", "--output", "train.npy",
                 "--max-length", "16", "--layers", "all", "--normalize", "--window", "6", cwd=trained)
    assert result.returncode == 0, result.stderr
    assert "160 rows x 16" in result.stdout
    after = {p.name: p.stat().st_mtime_ns for p in (trained / "cache" / "embeddings").glob("*.npy")}
    assert after == entries, "train.csv was embedded by training already: read from the cache"
    vectors = np.load(trained / "train.npy")
    assert vectors.shape == (160, 16) and vectors.dtype == np.float32

    from mltc_keras.encoders.pretrained import encoder_network, load_pretrained

    original = load_pretrained(str(trained / "tiny-bert"))
    texts = [row[0] for row in make_rows(160, seed=1)]
    expected = encoder_network(original.backbone, 0, "mean", "all", True, window=6
                               ).predict(original.tokenizer.encode(texts, 16), verbose=0)
    np.testing.assert_allclose(vectors, expected, atol=1e-5)

    result = cli("embed", "--pretrained", "tiny-bert", "--input", "valid.csv", "--output", "last.npy",
                 "--max-length", "16", cwd=trained)
    assert result.returncode == 0, result.stderr
    assert np.load(trained / "last.npy").shape == (48, 8), "by default: the last layer's mean, a sentence embedding"


def test_embed_refuses_bad_output_and_existing_files(trained):
    result = cli("embed", "--pretrained", "tiny-bert", "--input", "valid.csv", "--output", "v.csv", cwd=trained)
    assert result.returncode == 2 and ".npy" in result.stderr.splitlines()[-1]
    (trained / "kept.npy").write_bytes(b"precious")
    result = cli("embed", "--pretrained", "tiny-bert", "--input", "valid.csv", "--output", "kept.npy", cwd=trained)
    assert result.returncode == 2 and "--overwrite" in result.stderr.splitlines()[-1]
    assert (trained / "kept.npy").read_bytes() == b"precious"
    result = cli("embed", "--pretrained", "no-such-folder/", "--input", "valid.csv", "--output", "n.npy", cwd=trained)
    assert result.returncode == 2 and "no such folder" in result.stderr.splitlines()[-1]
    assert not (trained / "n.npy").exists()


def test_embed_head_needs_pretrained(trained):
    result = cli("train", "--arch", "embed-head", "--train", "train.csv", "--output", "x.keras", cwd=trained)
    assert result.returncode == 2
    assert "--pretrained" in result.stderr.splitlines()[-1]
    assert not (trained / "x.keras").exists()


@pytest.mark.parametrize("window, message", [("2", "use 3 or more, or 0"), ("65", "at most 64 tokens at a time")])
def test_a_window_the_encoder_cannot_read_is_refused(trained, window, message):
    result = cli("embed", "--pretrained", "tiny-bert", "--input", "valid.csv", "--output", "w.npy",
                 "--window", window, cwd=trained)
    assert result.returncode == 2
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"error: --window {window}: ") and message in last
    assert not (trained / "w.npy").exists()
