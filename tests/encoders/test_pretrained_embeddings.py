import numpy as np
import pytest
from safetensors.numpy import save_file

from mltc_keras.errors import InputError, reraise
from mltc_keras.encoders.token_embeddings import load_embeddings, project

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"word{i}" for i in range(35)]
TARGET_STD = 0.05 / np.sqrt(3)


def checkpoint(folder, vocab=VOCAB, matrix=None, d=12, name="embeddings.word_embeddings.weight", extra=None,
               write_vocab=True, write_weights=True, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    if matrix is None:
        matrix = np.random.default_rng(seed).normal(size=(len(vocab), d)).astype("float32")
    if write_vocab:
        (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    if write_weights:
        tensors = {} if name is None else {name: matrix}
        tensors.update(extra or {})
        save_file(tensors, str(folder / "model.safetensors"))
    return matrix


@pytest.mark.parametrize("dim", [4, 12, 20])
def test_load_shape_dtype_and_spread(tmp_path, dim):
    checkpoint(tmp_path / "ckpt", d=12)
    out = load_embeddings(tmp_path / "ckpt", VOCAB, dim)
    assert out.shape == (len(VOCAB), dim)
    assert out.dtype == np.float32
    assert np.isclose(out.std(), TARGET_STD, rtol=1e-4)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-6)
    if dim > 12:
        assert (out[:, 12:] == 0).all()


def test_load_accepts_string_path_and_prefixed_key(tmp_path):
    checkpoint(tmp_path / "ckpt", name="bert.embeddings.word_embeddings.weight",
               extra={"bert.embeddings.position_embeddings.weight": np.ones((8, 12), "float32")})
    out = load_embeddings(str(tmp_path / "ckpt"), VOCAB, 6)
    assert out.shape == (len(VOCAB), 6)


def test_load_casts_float16_and_uses_short_name(tmp_path):
    m = checkpoint(tmp_path / "ckpt", name="word_embeddings.weight",
                   matrix=np.random.default_rng(1).normal(size=(len(VOCAB), 12)).astype("float16"))
    out = load_embeddings(tmp_path / "ckpt", VOCAB, 12)
    assert out.dtype == np.float32
    # dim == d: centred and rescaled, nothing else
    expected = m.astype("float32") - m.astype("float32").mean(axis=0)
    np.testing.assert_allclose(out, expected * (TARGET_STD / expected.std()), rtol=1e-4, atol=1e-6)


def test_padding_keeps_original_columns(tmp_path):
    m = checkpoint(tmp_path / "ckpt", d=5)
    out = load_embeddings(tmp_path / "ckpt", VOCAB, 8)
    centred = m - m.mean(axis=0)
    scale = out[:, 0] / centred[:, 0]
    np.testing.assert_allclose(out[:, :5], centred * scale[0], rtol=1e-4, atol=1e-6)
    assert (out[:, 5:] == 0).all()


def test_project_keeps_top_principal_direction():
    rng = np.random.default_rng(0)
    direction = rng.normal(size=16)
    direction /= np.linalg.norm(direction)
    coeff = rng.normal(size=200) * 10.0
    matrix = (np.outer(coeff, direction) + rng.normal(size=(200, 16)) * 0.1 + 3.0).astype("float32")
    out = project(matrix, 4)
    assert out.shape == (200, 4)
    assert out.dtype == np.float32
    along = (matrix - matrix.mean(axis=0)) @ direction
    r = np.corrcoef(out[:, 0], along)[0, 1]
    assert abs(r) > 0.99
    # the other columns carry the small noise only, and are uncorrelated with the first
    assert out[:, 0].std() > 10 * out[:, 1:].std(axis=0).max()
    assert abs(np.corrcoef(out[:, 0], out[:, 1])[0, 1]) < 1e-3
    assert np.isclose(out.std(), TARGET_STD, rtol=1e-4)


def test_project_columns_ordered_by_variance():
    rng = np.random.default_rng(1)
    matrix = (rng.normal(size=(300, 6)) * np.array([1.0, 8.0, 0.5, 4.0, 2.0, 0.1])).astype("float32")
    out = project(matrix, 3)
    stds = out.std(axis=0)
    assert stds[0] > stds[1] > stds[2]
    # columns 1, 3 and 4 (std 8, 4, 2) are the top three directions
    for col, src in enumerate([1, 3, 4]):
        assert abs(np.corrcoef(out[:, col], matrix[:, src])[0, 1]) > 0.99


def test_project_shape_when_vocab_smaller_than_width():
    matrix = np.random.default_rng(0).normal(size=(6, 32)).astype("float32")
    assert project(matrix, 16).shape == (6, 16)


def error_message(source, vocab=VOCAB, dim=4):
    """The one line a user sees: the option's flag and value, then what is wrong."""
    with pytest.raises(InputError) as caught, reraise("--init-embeddings", source):
        load_embeddings(source, vocab, dim)
    message = str(caught.value)
    assert str(source) in message
    assert "\n" not in message
    return message


def test_error_folder_missing(tmp_path):
    assert "not a folder" in error_message(tmp_path / "nope")


def test_error_folder_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    assert "not a folder" in error_message(tmp_path / "file")


def test_error_vocab_missing(tmp_path):
    checkpoint(tmp_path / "ckpt", write_vocab=False)
    assert "vocab.txt" in error_message(tmp_path / "ckpt")


def test_error_vocab_differs(tmp_path):
    checkpoint(tmp_path / "ckpt", vocab=VOCAB[:-1] + ["other"])
    assert "differs" in error_message(tmp_path / "ckpt")


def test_error_vocab_order_differs(tmp_path):
    swapped = VOCAB[:5] + [VOCAB[6], VOCAB[5]] + VOCAB[7:]
    checkpoint(tmp_path / "ckpt", vocab=swapped)
    assert "differs" in error_message(tmp_path / "ckpt")


def test_error_weights_missing(tmp_path):
    checkpoint(tmp_path / "ckpt", write_weights=False)
    assert "model.safetensors" in error_message(tmp_path / "ckpt")


def test_error_no_embedding_tensor(tmp_path):
    checkpoint(tmp_path / "ckpt", name=None, extra={"encoder.layer.0.weight": np.ones((4, 4), "float32")})
    assert "no word embedding matrix" in error_message(tmp_path / "ckpt")


def test_error_row_count_mismatch(tmp_path):
    # the checkpoint's vocab.txt matches, but its matrix has one row too many
    checkpoint(tmp_path / "ckpt", matrix=np.ones((len(VOCAB) + 1, 12), "float32"))
    message = error_message(tmp_path / "ckpt")
    assert f"{len(VOCAB) + 1} embedding rows" in message
    assert f"{len(VOCAB)} vocabulary entries" in message


def test_matches_tokenizer_vocabulary(tmp_path):
    from mltc_keras.text.tokenizer import Tokenizer

    checkpoint(tmp_path / "ckpt")
    tok = Tokenizer.from_vocab_file(str(tmp_path / "ckpt" / "vocab.txt"))
    out = load_embeddings(tmp_path / "ckpt", tok.vocabulary(), 8)
    assert out.shape == (tok.vocab_size, 8)


def test_bundled_embeddings_are_real_minilm_rows():
    from mltc_keras.encoders.token_embeddings import BUNDLED, bundled_matrix
    from mltc_keras.text.tokenizer import Tokenizer

    vocab = Tokenizer.bundled_wordpiece().vocabulary()
    matrix = bundled_matrix()
    assert matrix.shape == (30522, 384) and np.isfinite(matrix).all()
    row = {token: matrix[vocab.index(token)] for token in ("happy", "glad", "sad", "wednesday")}

    def cos(a, b):
        return float(row[a] @ row[b] / np.linalg.norm(row[a]) / np.linalg.norm(row[b]))

    assert cos("happy", "glad") > cos("happy", "wednesday") + 0.1
    projected = load_embeddings(BUNDLED, vocab, 32)
    assert projected.shape == (30522, 32) and projected.dtype == np.float32


def test_bundled_embeddings_refuse_another_vocabulary():
    with pytest.raises(ValueError, match="bundled"):
        load_embeddings("bundled", ["[PAD]", "[UNK]", "a"], 8)
