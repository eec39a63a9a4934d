"""Tokenizers: raw texts -> right-padded matrices of token ids.

Every tokenizer is a Hugging Face `tokenizers.Tokenizer` (Rust, batched, parallel), so whatever
the source (the bundled BERT WordPiece vocabulary, a checkpoint's tokenizer.json) it serialises
to one JSON string that travels inside the model file.
"""

import hashlib
from importlib import resources

import numpy as np
from tokenizers import Tokenizer as _HFTokenizer
from tokenizers import models, normalizers, pre_tokenizers, processors

BUNDLED_VOCAB = "bert-base-uncased-vocab.txt"
_CHUNK = 8192


def bundled_vocab_path():
    return str(resources.files("mltc_keras.resources").joinpath(BUNDLED_VOCAB))


def _bert_wordpiece(vocab, lowercase=True):
    """BERT's tokenization over `vocab` ({token: id})."""
    tok = _HFTokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.BertProcessing(("[SEP]", vocab["[SEP]"]), ("[CLS]", vocab["[CLS]"]))
    return tok


def _truncate(items, special_mask, max_length):
    """The first `max_length` items, keeping a closing special token (BERT's [SEP]) at the end."""
    kept = list(items[:max_length])
    if len(items) > max_length and special_mask[-1]:
        kept[-1] = items[-1]
    return kept


class Tokenizer:
    """Turns texts into int32 id matrices of a fixed width, padded on the right with `pad_id`."""

    def __init__(self, hf_tokenizer, pad_token="[PAD]"):
        self._tok = hf_tokenizer
        self._tok.no_padding()
        self._tok.no_truncation()
        self.pad_token = pad_token
        pad_id = hf_tokenizer.token_to_id(pad_token)
        if pad_id is None:
            raise ValueError(f"tokenizer has no padding token {pad_token!r}")
        self.pad_id = pad_id

    @classmethod
    def bundled_wordpiece(cls):
        """BERT's uncased WordPiece (bert-base-uncased vocabulary, shipped in the package)."""
        return cls.from_vocab_file(bundled_vocab_path())

    @classmethod
    def from_vocab_file(cls, vocab_path, lowercase=True):
        """WordPiece over a BERT vocab.txt (one token per line, in id order)."""
        return cls(_bert_wordpiece(models.WordPiece.read_file(vocab_path), lowercase=lowercase))

    @classmethod
    def from_vocab_list(cls, tokens, lowercase=True):
        """WordPiece over `tokens` in id order."""
        return cls(_bert_wordpiece({token: i for i, token in enumerate(tokens)}, lowercase=lowercase))

    @classmethod
    def from_json(cls, text, pad_token="[PAD]"):
        return cls(_HFTokenizer.from_str(text), pad_token=pad_token)

    def to_json(self):
        return self._tok.to_str()

    @property
    def vocab_size(self):
        return self._tok.get_vocab_size(with_added_tokens=True)

    def vocabulary(self):
        """Tokens in id order."""
        vocab = self._tok.get_vocab(with_added_tokens=True)
        return sorted(vocab, key=vocab.get)

    def fingerprint(self):
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()[:16]

    @property
    def frame_ids(self):
        """(start id, end id) of the special tokens put around every text (BERT's [CLS] and [SEP]),
        or None when it puts no such pair."""
        ids = self._tok.encode("").ids
        return tuple(ids) if len(ids) == 2 else None

    def token_ids(self, texts):
        """Each text's ids, special tokens included, uncut and unpadded."""
        return [enc.ids for start in range(0, len(texts), _CHUNK)
                for enc in self._tok.encode_batch(list(texts[start:start + _CHUNK]))]

    def tokens(self, text, max_length):
        """The tokens the model sees for one text (for reading attention weights)."""
        enc = self._tok.encode(text)
        return _truncate(enc.tokens, enc.special_tokens_mask, max_length)

    def spans(self, text, max_length):
        """(start, end) in `text` of each token the model sees for it, in order (None for special
        tokens such as [CLS]): what maps scores of tokens back onto the words of the input."""
        enc = self._tok.encode(text)
        spans = [None if special else span for span, special in zip(enc.offsets, enc.special_tokens_mask)]
        return _truncate(spans, enc.special_tokens_mask, max_length)

    def encode(self, texts, max_length, progress=False, out=None):
        """(len(texts), max_length) int32 ids; longer texts are cut, keeping their first tokens.
        They are written into `out` (a memory map, say) when it is given."""
        ids = np.empty((len(texts), max_length), dtype=np.int32) if out is None else out
        ids[:] = self.pad_id
        starts = range(0, len(texts), _CHUNK)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="tokenizing", unit="chunk", total=len(starts))
        for start in starts:
            for row, enc in enumerate(self._tok.encode_batch(list(texts[start:start + _CHUNK])), start):
                seq = _truncate(enc.ids, enc.special_tokens_mask, max_length)
                ids[row, :len(seq)] = seq
        return ids
