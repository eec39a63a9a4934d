"""Pretrained encoders from a Hugging Face folder, their pooling, clear errors, and the embedding cache."""

import json

import numpy as np
import pytest
from safetensors.numpy import save_file

from mltc_keras.encoders.embedding_cache import cache_path, embed_cached
from mltc_keras.encoders.pretrained import encoder_network, layer_indices, load_pretrained
from tiny_bert import make_tiny_bert, make_tiny_distilbert, tiny_bert_weights

TEXTS = ["so happy today", "why", "", "furious and then why why why it was really very so happy"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return make_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="module")
def pretrained(checkpoint):
    return load_pretrained(str(checkpoint))


def test_loads_folder_with_its_own_tokenizer(pretrained, checkpoint):
    assert pretrained.hidden_dim == 8 and pretrained.max_sequence_length == 64
    vocab = (checkpoint / "vocab.txt").read_text().split()
    assert pretrained.tokenizer.vocabulary() == vocab
    ids = pretrained.tokenizer.encode(["so happy"], 6)[0]
    assert [vocab[i] for i in ids] == ["[CLS]", "so", "happy", "[SEP]", "[PAD]", "[PAD]"]


def test_mean_and_cls_pooling_read_the_encoder_outputs(pretrained):
    ids = pretrained.tokenizer.encode(TEXTS, 20)
    mask = (ids != pretrained.tokenizer.pad_id).astype("int32")
    sequence = pretrained.backbone.predict(
        {"token_ids": ids, "padding_mask": mask, "segment_ids": np.zeros_like(ids)}, verbose=0)["sequence_output"]
    mean = encoder_network(pretrained.backbone, pretrained.tokenizer.pad_id, "mean").predict(ids, verbose=0)
    expected = (sequence * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    np.testing.assert_allclose(mean, expected, atol=1e-5)
    cls = encoder_network(pretrained.backbone, pretrained.tokenizer.pad_id, "cls").predict(ids, verbose=0)
    np.testing.assert_allclose(cls, sequence[:, 0], atol=1e-5)


def test_padding_does_not_change_the_embedding(pretrained):
    encoder = encoder_network(pretrained.backbone, pretrained.tokenizer.pad_id, "mean")
    wide = encoder.predict(pretrained.tokenizer.encode(TEXTS, 40), verbose=0)
    narrow = encoder.predict(pretrained.tokenizer.encode(TEXTS, 40)[:, :16], verbose=0)
    np.testing.assert_allclose(wide, narrow, atol=1e-5)


def test_unknown_pooling_is_refused(pretrained):
    with pytest.raises(ValueError, match="'max': an encoder pools with one of mean, cls"):
        encoder_network(pretrained.backbone, 0, "max")


def _broken(tmp_path, checkpoint, drop=(), **changes):
    folder = tmp_path / "broken"
    folder.mkdir(parents=True)
    for path in checkpoint.iterdir():
        if path.name not in drop:
            (folder / path.name).write_bytes(path.read_bytes())
    for name, write in changes.items():
        write(folder)
    return folder


def test_folder_errors_say_what_was_looked_for(tmp_path, checkpoint):
    with pytest.raises(ValueError, match="no config.json"):
        load_pretrained(str(_broken(tmp_path / "a", checkpoint, drop=("config.json",))))
    with pytest.raises(ValueError, match="no model.safetensors"):
        load_pretrained(str(_broken(tmp_path / "b", checkpoint, drop=("model.safetensors",))))
    with pytest.raises(ValueError, match="no tokenizer.json or vocab.txt"):
        load_pretrained(str(_broken(tmp_path / "c", checkpoint, drop=("vocab.txt",))))
    with pytest.raises(ValueError, match="no such folder"):
        load_pretrained(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="give an encoder"):
        load_pretrained(None)


def test_wrong_shapes_and_mixed_folders_are_refused(tmp_path, checkpoint):
    vocab_size = len((checkpoint / "vocab.txt").read_text().split())

    def wrong_hidden(folder):  # config says hidden 8, the weights are 12 wide
        save_file(tiny_bert_weights(vocab_size, 12, 1, 16, 64), str(folder / "model.safetensors"))

    with pytest.raises(ValueError, match="keras-hub cannot build an encoder"):
        load_pretrained(str(_broken(tmp_path / "d", checkpoint, shapes=wrong_hidden)))

    def longer_vocab(folder):
        words = (folder / "vocab.txt").read_text().split() + [f"extra{i}" for i in range(10)]
        (folder / "vocab.txt").write_text("\n".join(words) + "\n")

    with pytest.raises(ValueError, match="mixes two checkpoints"):
        load_pretrained(str(_broken(tmp_path / "e", checkpoint, vocab=longer_vocab)))

    def unknown_model_type(folder):
        config = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**config, "model_type": "no-such-model"}))

    with pytest.raises(ValueError, match="keras-hub cannot build an encoder"):
        load_pretrained(str(_broken(tmp_path / "f", checkpoint, config=unknown_model_type)))


def test_layer_indices():
    assert layer_indices("last", 6) == [6]
    assert layer_indices("all", 6) == [0, 1, 2, 3, 4, 5, 6]
    assert layer_indices("0,6", 6) == [0, 6]
    for bad in ("7", "-1", "1,1", "first", ""):
        with pytest.raises(ValueError, match="indices|last layer"):
            layer_indices(bad, 6)


def test_all_layers_are_pooled_normalized_and_concatenated(pretrained):
    ids = pretrained.tokenizer.encode(TEXTS, 20)
    last = encoder_network(pretrained.backbone, 0, "mean").predict(ids, verbose=0)
    both = encoder_network(pretrained.backbone, 0, "mean", layers="all").predict(ids, verbose=0)
    assert both.shape == (len(TEXTS), 16)
    np.testing.assert_allclose(both[:, 8:], last, atol=1e-5)
    assert not np.allclose(both[:, :8], last, atol=1e-3), "layer 0 is the embedding output, not the last block"
    unit = encoder_network(pretrained.backbone, 0, "mean", layers="0,1", normalize=True).predict(ids, verbose=0)
    np.testing.assert_allclose(unit[:, 8:], last / np.linalg.norm(last, axis=1, keepdims=True), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(unit[:, :8], axis=1), 1.0, atol=1e-5)


def test_embeddings_are_cached_memory_mapped_and_recomputed_when_damaged(pretrained, tmp_path):
    encoder = encoder_network(pretrained.backbone, pretrained.tokenizer.pad_id, "mean")
    direct = encoder.predict(pretrained.tokenizer.encode(TEXTS, 32), verbose=0)
    first = embed_cached(pretrained, encoder, "mean", TEXTS, 32, tmp_path)
    assert isinstance(first, np.memmap) and first.shape == (len(TEXTS), 8)
    np.testing.assert_allclose(first, direct, atol=1e-5)

    path = cache_path(pretrained, "mean", TEXTS, 32, tmp_path)
    stamp = path.stat().st_mtime_ns
    again = embed_cached(pretrained, encoder, "mean", TEXTS, 32, tmp_path)
    assert path.stat().st_mtime_ns == stamp, "the second call reads the cache"
    np.testing.assert_array_equal(again, first)

    assert cache_path(pretrained, "cls", TEXTS, 32, tmp_path) != path
    assert cache_path(pretrained, "mean", TEXTS, 16, tmp_path) != path
    assert cache_path(pretrained, "mean", TEXTS[:-1], 32, tmp_path) != path

    path.write_bytes(path.read_bytes()[:100])  # a truncated entry
    repaired = embed_cached(pretrained, encoder, "mean", TEXTS, 32, tmp_path)
    np.testing.assert_allclose(repaired, direct, atol=1e-5)
    assert not list(path.parent.glob(".*tmp*"))


def test_fingerprint_follows_the_weights(tmp_path, checkpoint, pretrained):
    other = _broken(tmp_path, checkpoint, weights=lambda folder: save_file(
        tiny_bert_weights(len(pretrained.tokenizer.vocabulary()), 8, 1, 16, 64, seed=1), str(folder / "model.safetensors")))
    assert load_pretrained(str(other)).fingerprint != pretrained.fingerprint


def test_a_distilbert_checkpoint_loads_and_pools_every_layer(tmp_path):
    """Another family keras-hub converts: no segment ids, its own weight names."""
    distil = load_pretrained(str(make_tiny_distilbert(tmp_path / "distil")))
    assert type(distil.backbone).__name__ == "DistilBertBackbone" and "segment_ids" not in distil.backbone.input
    ids = distil.tokenizer.encode(TEXTS, 20)
    mask = (ids != 0).astype("int32")
    sequence = distil.backbone.predict({"token_ids": ids, "padding_mask": mask}, verbose=0)
    expected = (sequence * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    last = encoder_network(distil.backbone, 0, "mean").predict(ids, verbose=0)
    np.testing.assert_allclose(last, expected, atol=1e-5)
    every = encoder_network(distil.backbone, 0, "mean", layers="all").predict(ids, verbose=0)
    assert every.shape == (len(TEXTS), 16)
    np.testing.assert_allclose(every[:, 8:], last, atol=1e-5)


def test_windows_read_a_long_text_as_the_weighted_mean_of_its_pieces(pretrained):
    tok = pretrained.tokenizer
    start, end = tok.frame_ids
    window = 5  # three tokens of text each
    windowed = encoder_network(pretrained.backbone, tok.pad_id, "mean", "all", True, window=window)
    plain = encoder_network(pretrained.backbone, tok.pad_id, "mean", "all", False)
    ids = tok.encode(TEXTS, 20)
    got = windowed.predict(ids, verbose=0)
    for row, text_ids in enumerate(tok.token_ids(TEXTS)):
        content = text_ids[1:-1]
        pieces = [content[i:i + window - 2] for i in range(0, len(content), window - 2)] or [[]]
        framed = tok.encode([""], window).repeat(len(pieces), 0)
        for i, piece in enumerate(pieces):
            framed[i, :len(piece) + 2] = [start, *piece, end]
        vectors = plain.predict(framed, verbose=0)
        weights = np.array([max(len(piece), 1) for piece in pieces], dtype="float32")
        mean = (vectors * weights[:, None]).sum(0) / weights.sum()
        expected = np.concatenate([part / np.linalg.norm(part) for part in np.split(mean, 2)])
        np.testing.assert_allclose(got[row], expected, atol=1e-5)
    short = encoder_network(pretrained.backbone, tok.pad_id, "mean", "all", True, window=16)
    whole = encoder_network(pretrained.backbone, tok.pad_id, "mean", "all", True)
    np.testing.assert_allclose(short.predict(ids[:3], verbose=0), whole.predict(ids[:3], verbose=0), atol=1e-5,
                               err_msg="a text that fits one window reads as without windows")
