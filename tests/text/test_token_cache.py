import numpy as np
import pytest

from mltc_keras.text.tokenizer import Tokenizer
from mltc_keras.text.token_cache import cache_key, default_cache_dir, encode_cached

TEXTS = ["hello world", "The cat sat on the mat", "", "unknown \u2603"]


class CountingTokenizer:
    """Wraps a real tokenizer and counts calls to encode."""

    def __init__(self, tok):
        self.tok = tok
        self.calls = 0

    def encode(self, texts, max_length, progress=False, out=None):
        self.calls += 1
        return self.tok.encode(texts, max_length, progress=progress, out=out)

    def fingerprint(self):
        return self.tok.fingerprint()


@pytest.fixture(scope="module")
def bert():
    return Tokenizer.bundled_wordpiece()


@pytest.fixture
def counting(bert):
    return CountingTokenizer(bert)


def entries(cache_dir):
    folder = cache_dir / "tokens"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_same_ids_as_encode(bert, tmp_path):
    ids = encode_cached(bert, TEXTS, 10, tmp_path)
    np.testing.assert_array_equal(ids, bert.encode(TEXTS, 10))
    assert ids.dtype == np.int32
    files = entries(tmp_path)
    assert [f.name for f in files] == [f"{cache_key(TEXTS, bert, 10)}.npy"]


def test_second_call_reads_cache(counting, tmp_path):
    first = encode_cached(counting, TEXTS, 10, tmp_path)
    assert counting.calls == 1
    second = encode_cached(counting, TEXTS, 10, tmp_path)
    assert counting.calls == 1, "second call tokenized again instead of reading the cache"
    np.testing.assert_array_equal(first, second)
    assert second.dtype == np.int32


def test_monkeypatched_encode_not_called_on_hit(bert, tmp_path, monkeypatch):
    encode_cached(bert, TEXTS, 10, tmp_path)

    def boom(*args, **kwargs):
        raise AssertionError("encode called on a cache hit")

    monkeypatch.setattr(bert, "encode", boom)
    np.testing.assert_array_equal(encode_cached(bert, TEXTS, 10, tmp_path), Tokenizer.bundled_wordpiece().encode(TEXTS, 10))


def test_key_changes_with_texts_length_and_tokenizer(bert, tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]) + "\n")
    small = Tokenizer.from_vocab_file(str(vocab))
    base = cache_key(TEXTS, bert, 10)
    assert cache_key(list(TEXTS), bert, 10) == base
    assert cache_key(TEXTS[:-1] + ["unknown \u2604"], bert, 10) != base
    assert cache_key(TEXTS[1:], bert, 10) != base
    assert cache_key(TEXTS, bert, 11) != base
    assert cache_key(TEXTS, small, 10) != base
    # concatenation does not collide with a different split into rows
    assert cache_key(["ab", "c"], bert, 10) != cache_key(["a", "bc"], bert, 10)


def test_distinct_inputs_get_distinct_entries(counting, tmp_path):
    a = encode_cached(counting, TEXTS, 10, tmp_path)
    b = encode_cached(counting, TEXTS, 6, tmp_path)
    c = encode_cached(counting, TEXTS[::-1], 10, tmp_path)
    assert counting.calls == 3
    assert a.shape == (4, 10) and b.shape == (4, 6)
    np.testing.assert_array_equal(c, a[::-1])
    assert len(entries(tmp_path)) == 3
    encode_cached(counting, TEXTS, 6, tmp_path)
    assert counting.calls == 3


def test_no_tmp_files_left(bert, tmp_path):
    encode_cached(bert, TEXTS, 10, tmp_path)
    encode_cached(bert, TEXTS, 12, tmp_path)
    names = [p.name for p in (tmp_path / "tokens").iterdir()]
    assert len(names) == 2
    assert not [n for n in names if "tmp" in n or n.startswith(".")]
    assert all(n.endswith(".npy") for n in names)


def test_wrong_shape_entry_is_recomputed(counting, tmp_path):
    key = cache_key(TEXTS, counting, 10)
    folder = tmp_path / "tokens"
    folder.mkdir()
    np.save(folder / f"{key}.npy", np.full((3, 10), 7, dtype=np.int32))
    ids = encode_cached(counting, TEXTS, 10, tmp_path)
    assert counting.calls == 1
    np.testing.assert_array_equal(ids, counting.tok.encode(TEXTS, 10))
    # the bad entry was replaced by a good one
    np.testing.assert_array_equal(np.load(folder / f"{key}.npy"), ids)
    encode_cached(counting, TEXTS, 10, tmp_path)
    assert counting.calls == 1


@pytest.mark.parametrize("content", [b"\x93NUMPY garbage, not an array", b""], ids=["garbage", "empty"])
def test_damaged_entry_is_recomputed(counting, tmp_path, content):
    key = cache_key(TEXTS, counting, 10)
    folder = tmp_path / "tokens"
    folder.mkdir()
    (folder / f"{key}.npy").write_bytes(content)
    ids = encode_cached(counting, TEXTS, 10, tmp_path)
    np.testing.assert_array_equal(ids, counting.tok.encode(TEXTS, 10))


def test_truncated_entry_is_recomputed(counting, tmp_path):
    ids = encode_cached(counting, TEXTS, 10, tmp_path)
    (entry,) = entries(tmp_path)
    entry.write_bytes(entry.read_bytes()[:-20])
    again = encode_cached(counting, TEXTS, 10, tmp_path)
    np.testing.assert_array_equal(again, ids)


def test_default_cache_dir_from_env(tmp_path, monkeypatch, bert):
    monkeypatch.setenv("MLTC_KERAS_CACHE", str(tmp_path / "envcache"))
    assert default_cache_dir() == tmp_path / "envcache"
    encode_cached(bert, TEXTS, 8)
    assert len(entries(tmp_path / "envcache")) == 1


def test_key_separates_texts_that_contain_nul(bert):
    assert cache_key(["a\0", "b"], bert, 10) != cache_key(["a", "\0b"], bert, 10)
