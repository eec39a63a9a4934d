import numpy as np
import pytest

from mltc_keras.text.tokenizer import Tokenizer
from mltc_keras.text.word_vocab import build_word_tokenizer

TEXTS = ["The cat sat.", "the CAT ran!", "A dog ran, the dog sat?", "zebra"]
# counts: the 3, cat 2, dog 2, ran 2, sat 2, "." 1, "!" 1, "," 1, "?" 1, a 1, zebra 1


def test_vocabulary_order_and_min_count():
    tok = build_word_tokenizer(TEXTS, min_count=2)
    assert tok.vocabulary() == ["[PAD]", "[UNK]", "the", "cat", "dog", "ran", "sat"]
    assert tok.pad_id == 0
    assert tok.vocab_size == 7


def test_min_count_one_keeps_punctuation_as_tokens():
    vocab = build_word_tokenizer(TEXTS, min_count=1).vocabulary()
    assert vocab[:7] == ["[PAD]", "[UNK]", "the", "cat", "dog", "ran", "sat"]
    assert vocab[7:] == sorted(["!", ",", ".", "?", "a", "zebra"])  # count-1 ties, alphabetical


def test_max_vocab_cuts_least_frequent():
    assert build_word_tokenizer(TEXTS, min_count=1, max_vocab=3).vocabulary() == [
        "[PAD]", "[UNK]", "the", "cat", "dog"]


def test_encode_lowercases_splits_punctuation_maps_oov_and_pads():
    tok = build_word_tokenizer(TEXTS, min_count=2)
    ids = tok.encode(["THE Cat, sat!", "unknown dog", "cat " * 10], max_length=6)
    assert ids.dtype == np.int32
    the, cat, dog, ran, sat = range(2, 7)
    np.testing.assert_array_equal(ids, [[the, cat, 1, sat, 1, 0],   # "," and "!" are words of their own, OOV
                                        [1, dog, 0, 0, 0, 0],
                                        [cat] * 6])
    assert tok.tokens("The CAT, sat!", 10) == ["the", "cat", "[UNK]", "sat", "[UNK]"]
    assert build_word_tokenizer(TEXTS, min_count=1).tokens("The CAT, sat!?", 10) == [
        "the", "cat", ",", "sat", "!", "?"]  # each punctuation mark is a token of its own
    assert tok.tokens("catdog", 10) == ["[UNK]"]


def test_no_special_tokens_added():
    tok = build_word_tokenizer(TEXTS)
    np.testing.assert_array_equal(tok.encode(["the"], 3), [[2, 0, 0]])


def test_json_round_trip_gives_identical_encoding():
    tok = build_word_tokenizer(TEXTS, min_count=1)
    again = Tokenizer.from_json(tok.to_json())
    texts = ["The zebra RAN, fast!", "", "ｃａｔ sat"]  # full-width letters: NFKC -> "cat"
    np.testing.assert_array_equal(again.encode(texts, 8), tok.encode(texts, 8))
    assert again.vocabulary() == tok.vocabulary()
    assert again.fingerprint() == tok.fingerprint()
    assert again.pad_id == 0
    assert tok.encode(["ｃａｔ"], 2)[0, 0] == tok.vocabulary().index("cat")


@pytest.mark.parametrize("kwargs", [dict(oov_buckets=2), dict(min_count=0), dict(max_vocab=0)])
def test_bad_options(kwargs):
    with pytest.raises(ValueError):
        build_word_tokenizer(TEXTS, **kwargs)
