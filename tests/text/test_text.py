import numpy as np
import pytest

from mltc_keras.text.tokenizer import Tokenizer, bundled_vocab_path

SMALL_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "the", "cat", "sat", "##s"]


@pytest.fixture(scope="module")
def bert():
    return Tokenizer.bundled_wordpiece()


@pytest.fixture
def small_vocab_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(SMALL_VOCAB) + "\n", encoding="utf-8")
    return path


def test_bundled_wordpiece_sizes(bert):
    assert bert.vocab_size == 30522
    assert bert.pad_id == 0
    assert bert.pad_token == "[PAD]"


def test_encode_shape_dtype_and_right_padding(bert):
    ids = bert.encode(["hello world", "the cat sat on the mat today", ""], 12)
    assert ids.shape == (3, 12)
    assert ids.dtype == np.int32
    # "hello world" -> [CLS] hello world [SEP] then pads
    assert ids[0, :4].tolist() == [101, 7592, 2088, 102]
    assert (ids[0, 4:] == bert.pad_id).all()
    # empty text is just [CLS] [SEP]
    assert ids[2, :2].tolist() == [101, 102]
    assert (ids[2, 2:] == 0).all()
    for row in ids:
        n = int((row != 0).sum())
        assert row[0] == 101
        assert row[n - 1] == 102
        assert (row[n:] == 0).all(), "padding must be on the right only"


def test_encode_truncation_keeps_cls_first_and_sep_last(bert):
    long_text = " ".join(["hello"] * 50)
    ids = bert.encode([long_text, "world"], 8)
    assert ids.shape == (2, 8)
    assert ids[0].tolist() == [101] + [7592] * 6 + [102]
    assert ids[1, :3].tolist() == [101, 2088, 102]
    # exactly fitting text is not altered
    exact = bert.encode([" ".join(["hello"] * 6)], 8)
    assert exact[0].tolist() == [101] + [7592] * 6 + [102]


def test_encode_lowercases_and_maps_unknown(bert):
    upper, lower = bert.encode(["HeLLo WORLD", "hello world"], 8)
    np.testing.assert_array_equal(upper, lower)
    ids = bert.encode(["hello \u2603 world"], 8)[0]  # snowman is not in the BERT vocabulary
    assert ids[:5].tolist() == [101, 7592, 100, 2088, 102]
    assert bert.vocabulary()[100] == "[UNK]"


def test_encode_more_rows_than_chunk(bert, monkeypatch):
    import mltc_keras.text.tokenizer as text

    monkeypatch.setattr(text, "_CHUNK", 3)
    texts = [f"hello {'world ' * i}" for i in range(8)]
    chunked = bert.encode(texts, 10)
    monkeypatch.setattr(text, "_CHUNK", 8192)
    np.testing.assert_array_equal(chunked, bert.encode(texts, 10))
    assert chunked[5, :8].tolist() == [101, 7592] + [2088] * 5 + [102]


def test_json_round_trip_gives_identical_ids(bert):
    texts = ["Hello, World!", "the cat sat on the mat " * 10, "unknown \u2603 char", ""]
    again = Tokenizer.from_json(bert.to_json())
    assert again.pad_id == bert.pad_id
    assert again.vocab_size == bert.vocab_size
    np.testing.assert_array_equal(again.encode(texts, 16), bert.encode(texts, 16))
    assert again.fingerprint() == bert.fingerprint()


def test_from_json_without_pad_token_raises(bert):
    with pytest.raises(ValueError, match="padding token"):
        Tokenizer.from_json(bert.to_json(), pad_token="<pad>")


def test_small_vocab_file(small_vocab_file, bert):
    tok = Tokenizer.from_vocab_file(str(small_vocab_file))
    assert tok.vocab_size == len(SMALL_VOCAB)
    assert tok.pad_id == 0
    assert tok.vocabulary() == SMALL_VOCAB
    assert tok.vocabulary() == small_vocab_file.read_text(encoding="utf-8").splitlines()
    assert tok.fingerprint() != bert.fingerprint()
    assert len(tok.fingerprint()) == 16
    ids = tok.encode(["Hello cats", "dog"], 6)
    assert ids.tolist() == [[2, 5, 8, 10, 3, 0], [2, 1, 3, 0, 0, 0]]


def test_fingerprint_changes_with_one_vocab_entry(tmp_path, small_vocab_file):
    other = tmp_path / "other.txt"
    other.write_text("\n".join(SMALL_VOCAB[:-1] + ["dog"]) + "\n", encoding="utf-8")
    a = Tokenizer.from_vocab_file(str(small_vocab_file))
    b = Tokenizer.from_vocab_file(str(other))
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint() == Tokenizer.from_vocab_file(str(small_vocab_file)).fingerprint()


def test_lowercase_false_keeps_case(small_vocab_file):
    tok = Tokenizer.from_vocab_file(str(small_vocab_file), lowercase=False)
    assert tok.encode(["Hello hello"], 5)[0].tolist() == [2, 1, 5, 3, 0]
    assert tok.fingerprint() != Tokenizer.from_vocab_file(str(small_vocab_file)).fingerprint()


def test_bundled_vocabulary_order_matches_file(bert):
    with open(bundled_vocab_path(), encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert bert.vocabulary() == lines


def test_tokens(bert):
    assert bert.tokens("Hello World \u2603", 16) == ["[CLS]", "hello", "world", "[UNK]", "[SEP]"]
    assert len(bert.tokens("hello world " * 10, 6)) == 6


def test_tokens_match_encoded_ids(bert):
    text = "The cat sat"
    tokens = bert.tokens(text, 16)
    ids = bert.encode([text], 16)[0]
    vocab = bert.vocabulary()
    assert [vocab[i] for i in ids[:len(tokens)]] == tokens


def test_tokens_match_encoded_ids_when_truncated(bert):
    text = " ".join(["hello"] * 20)
    tokens = bert.tokens(text, 8)
    ids = bert.encode([text], 8)[0]
    vocab = bert.vocabulary()
    assert tokens == [vocab[i] for i in ids]
