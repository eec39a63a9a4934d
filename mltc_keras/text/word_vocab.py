"""A word-level tokenizer whose vocabulary is counted from the training texts (for `--arch bag`).

Texts are NFKC-normalised and lower-cased, then split on whitespace and punctuation (BERT's
pre-tokenizer: every punctuation character is a token of its own). Ids:

    0                 "[PAD]"
    1                 "[UNK]"   (every word not in the vocabulary)
    2, 3, ...         words by descending count, ties in alphabetical order, count >= min_count,
                      at most max_vocab of them

No [CLS]/[SEP] are added. The result is a `mltc_keras.text.tokenizer.Tokenizer`, so it serialises with
`to_json`/`from_json` and `encode` gives right-padded int32 ids like the WordPiece tokenizers.
"""

from collections import Counter

from tokenizers import Tokenizer as _HFTokenizer
from tokenizers import models, normalizers, pre_tokenizers

from mltc_keras.text.tokenizer import Tokenizer

PAD_TOKEN = "[PAD]"
UNK_TOKEN = "[UNK]"


def _word_level(vocab):
    tok = _HFTokenizer(models.WordLevel(vocab, unk_token=UNK_TOKEN))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return tok


def _check(min_count, max_vocab, oov_buckets):
    if oov_buckets != 1:
        raise ValueError(f"oov_buckets={oov_buckets}: only 1 out-of-vocabulary bucket ([UNK]) is supported")
    if not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"min_count {min_count}: must be a whole number >= 1")
    if max_vocab is not None and (not isinstance(max_vocab, int) or max_vocab < 1):
        raise ValueError(f"max_vocab {max_vocab}: must be a whole number >= 1")


def count_words(texts):
    """Counter of the normalised, pre-tokenised words in `texts` (exactly what the tokenizer will see)."""
    tok = _word_level({PAD_TOKEN: 0, UNK_TOKEN: 1})
    normalize, split = tok.normalizer.normalize_str, tok.pre_tokenizer.pre_tokenize_str
    counts = Counter()
    for text in texts:
        counts.update(word for word, _ in split(normalize(text)))
    return counts


def build_word_tokenizer(texts, min_count=2, max_vocab=50000, oov_buckets=1):
    """A word-level `Tokenizer` over the words of `texts` seen at least `min_count` times.

    `max_vocab` caps the number of words (the special tokens [PAD] and [UNK] come on top;
    None for no cap). Only `oov_buckets=1` is supported: every unknown word maps to [UNK] (id 1).
    """
    _check(min_count, max_vocab, oov_buckets)
    counts = count_words(texts)
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    if max_vocab is not None:
        words = words[:max_vocab]
    vocab = {PAD_TOKEN: 0, UNK_TOKEN: 1}
    for word in words:
        vocab.setdefault(word, len(vocab))
    return Tokenizer(_word_level(vocab), pad_token=PAD_TOKEN)
