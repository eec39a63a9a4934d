"""A model's tokenizer as TensorFlow ops: raw strings in, the same token ids as
`mltc_keras.text.tokenizer.Tokenizer.encode` out, so a SavedModel can take text.

It reads the Hugging Face tokenizer JSON stored in the model and rebuilds the two pipelines
mltc-keras makes: BERT WordPiece (BertNormalizer, BertPreTokenizer, WordPiece, [CLS]/[SEP]) and the
word-level vocabulary of `bag` (NFKC, lower case, BertPreTokenizer, WordLevel). Anything else
raises `UnsupportedTokenizer` naming the part. The normalisation and splitting are core TensorFlow
ops (regex_replace, lower, split); Unicode normalisation (`NormalizeUTF8`) and the WordPiece lookup
(`FastWordpieceTokenizeWithOffsets`) come from TensorFlow Text.

Special added tokens ([CLS], [SEP], [MASK]... as a checkpoint's tokenizer.json lists them) are
found in the raw text, as the Rust tokenizer finds them, and each becomes one word no input can
spell: a control character (_MARK), its index, _MARK. BertNormalizer drops every control character
of the input, so only these words survive with one; they sit at the end of the lookup's vocabulary
and are mapped to their token ids after it.

Known differences from the Rust tokenizer: unassigned code points (Unicode category Cn) are kept
where BertNormalizer drops them, and a word holding a NUL character is [UNK] even when the `bag`
vocabulary has it.
"""

import json

_MARK = "\x01"  # brackets the words that stand for added tokens
_LONG_WORD = 100  # the WordPiece default max_input_chars_per_word
# the Unicode White_Space property (what the Rust tokenizer splits on)
_WHITESPACE = r"[\t\n\x0b\x0c\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
# BertPreTokenizer's punctuation: ASCII punctuation and every Unicode P* character
_PUNCTUATION = r"([!-/:-@\[-`{-~]|\p{P})"
_CJK = (r"([\x{4e00}-\x{9fff}\x{3400}-\x{4dbf}\x{20000}-\x{2a6df}\x{2a700}-\x{2b73f}\x{2b740}-\x{2b81f}"
        r"\x{2b920}-\x{2ceaf}\x{f900}-\x{faff}\x{2f800}-\x{2fa1f}])")


class UnsupportedTokenizer(ValueError):
    pass


def _re2_literal(text):
    """`text` as an RE2 pattern matching itself."""
    return "".join("\\" + c if c in "\\^$.|?*+()[]{}" else c for c in text)


def _added_tokens(spec):
    """[(content, id)] of the tokenizer's added tokens, longest first (the Rust tokenizer prefers
    the longest match). Only special tokens matched verbatim in the raw text are carried."""
    added = spec.get("added_tokens") or []
    for token in added:
        _require(token.get("special") and not token.get("normalized") and not token.get("lstrip")
                 and not token.get("rstrip") and not token.get("single_word"),
                 f"the added token {token['content']!r} (not special, or matched after normalisation "
                 "or with its spaces)")
    return sorted(((token["content"], token["id"]) for token in added), key=lambda item: -len(item[0]))


def _require(condition, what):
    if not condition:
        raise UnsupportedTokenizer(f"its tokenizer has {what}, which the in-graph tokenizer does not carry")


def _special_tokens(post_processor):
    """The ([CLS] id, [SEP] id) a post-processor wraps every text in, or None for no post-processor."""
    if post_processor is None:
        return None
    kind = post_processor.get("type")
    if kind == "BertProcessing":
        return post_processor["cls"][1], post_processor["sep"][1]
    if kind == "TemplateProcessing":
        single = [next(iter(piece.values()))["id"] for piece in post_processor["single"]]
        _require(len(single) == 3 and single[1] == "A", f"the template {single}")
        return (post_processor["special_tokens"][single[0]]["ids"][0],
                post_processor["special_tokens"][single[2]]["ids"][0])
    raise UnsupportedTokenizer(f"its tokenizer has a {kind} post-processor, which the in-graph tokenizer does not carry")


class GraphTokenizer:
    """`tokenizer_json` (a Hugging Face tokenizer) as a function of a [n] tf.string tensor returning
    [n, width] int32 ids, right-padded with `pad_id`, width the longest row (at most `max_length`)."""

    def __init__(self, tokenizer_json, max_length, pad_id):
        import tensorflow_text as tf_text

        spec = json.loads(tokenizer_json)
        model, normalizer = spec["model"], spec.get("normalizer") or {}
        pre_tokenizer = (spec.get("pre_tokenizer") or {}).get("type")
        _require(pre_tokenizer == "BertPreTokenizer", f"a {pre_tokenizer} pre-tokenizer")
        self.added = _added_tokens(spec)
        self.max_length, self.pad_id = int(max_length), int(pad_id)
        self.special = _special_tokens(spec.get("post_processor"))
        vocab = sorted(model["vocab"], key=model["vocab"].get)
        _require([model["vocab"][t] for t in vocab] == list(range(len(vocab))), "gaps in its vocabulary ids")
        # the lookup's trie takes no NUL: such an entry keeps its id under a name no input word can
        # have ("[" is punctuation, a word of its own), so a word with a NUL becomes [UNK]
        vocab = [f"[nul-{i}]" if "\x00" in token else token for i, token in enumerate(vocab)]
        # the added tokens' words; ids at and beyond len(vocab) are mapped to theirs by self.ids
        self.ids = list(range(len(vocab))) + [token_id for _, token_id in self.added] if self.added else None
        vocab += [f"{_MARK}{i}{_MARK}" for i in range(len(self.added))]
        if model["type"] == "WordPiece":
            _require(normalizer.get("type") == "BertNormalizer", f"a {normalizer.get('type')} normalizer")
            # BertNormalizer's clean_text drops control characters, so a _MARK can bracket added tokens
            self.marks = normalizer.get("clean_text", True)
            _require(self.marks or not self.added, "added tokens and no clean_text")
            self.normalize = _bert_normalizer(normalizer)
            self.long_word = model.get("max_input_chars_per_word", _LONG_WORD)
            suffix = model.get("continuing_subword_prefix", "##")
        elif model["type"] == "WordLevel":
            _require(not self.added, "added tokens in a word-level vocabulary")
            self.marks = False
            kinds = [step.get("type") for step in normalizer.get("normalizers", [])]
            _require(normalizer.get("type") == "Sequence" and kinds == ["NFKC", "Lowercase"],
                     f"the normalizers {kinds or normalizer.get('type')}")
            self.normalize = _nfkc_lowercase
            self.long_word = None
            # "#" is punctuation, a word of its own, so no word starts with "##": WordPiece finds
            # whole words or [UNK]
            suffix = "##"
        else:
            raise UnsupportedTokenizer(f"its tokenizer is a {model['type']} model, which the in-graph tokenizer "
                                       "does not carry (WordPiece and WordLevel only)")
        self.unk_token = model["unk_token"]
        self.wordpiece = tf_text.FastWordpieceTokenizer(
            vocab=vocab, suffix_indicator=suffix, max_bytes_per_word=4 * (self.long_word or 1000),
            token_out_type="int32", unknown_token=self.unk_token, no_pretokenization=True,
            support_detokenization=False)

    def words(self, texts):
        """[n, (words)] ragged strings: the normalised, pre-tokenised words."""
        import tensorflow as tf

        texts = tf.strings.regex_replace(self.normalize(self.mark_added(texts)), _WHITESPACE, " ")
        words = tf.strings.split(tf.strings.regex_replace(texts, _PUNCTUATION, r" \1 "))
        if self.long_word is None:
            return words
        # a word over the limit is one [UNK], as in the Rust WordPiece
        return tf.ragged.map_flat_values(
            lambda w: tf.where(tf.strings.length(w, unit="UTF8_CHAR") > self.long_word, self.unk_token, w), words)

    def mark_added(self, texts):
        """`texts` with each added token replaced by its word, and the input's own _MARK made a
        NUL (BertNormalizer drops both, so the words of added tokens alone keep a _MARK)."""
        import tensorflow as tf

        if not self.marks:
            return texts
        texts = tf.strings.regex_replace(texts, _MARK, "\x00")
        for i, (content, _) in enumerate(self.added):
            texts = tf.strings.regex_replace(texts, _re2_literal(content), f" {_MARK}{i}{_MARK} ")
        return texts

    def __call__(self, texts):
        import tensorflow as tf

        ids = self.wordpiece.tokenize(self.words(texts)).merge_dims(1, 2)
        if self.ids is not None:
            ids = tf.ragged.map_flat_values(tf.gather, tf.constant(self.ids, tf.int32), ids)
        if self.special is None:
            ids = ids[:, :self.max_length]
        else:
            cls, sep = self.special
            body = ids[:, :self.max_length - 2]
            rows = body.nrows(out_type="int32")
            ids = tf.concat([tf.fill([rows, 1], cls), body, tf.fill([rows, 1], sep)], axis=1)
        return ids.to_tensor(default_value=self.pad_id)


def _bert_normalizer(config):
    """BertNormalizer: drop control characters, spaces for whitespace, spaces around CJK
    ideographs, strip accents (NFD, drop non-spacing marks), lower case; as configured."""
    import tensorflow as tf
    import tensorflow_text as tf_text

    lowercase = config.get("lowercase", True)
    strip_accents = lowercase if config.get("strip_accents") is None else config["strip_accents"]

    def normalize(texts):
        if config.get("clean_text", True):
            texts = tf.strings.regex_replace(texts, r"[\x00\x{fffd}]|[^\P{C}\t\n\r\x01]", "")  # _MARK stays
            texts = tf.strings.regex_replace(texts, _WHITESPACE, " ")
        if config.get("handle_chinese_chars", True):
            texts = tf.strings.regex_replace(texts, _CJK, r" \1 ")
        if strip_accents:
            texts = tf.strings.regex_replace(tf_text.normalize_utf8(texts, "NFD"), r"\p{Mn}", "")
        return _lowercase(texts) if lowercase else texts

    return normalize


def _nfkc_lowercase(texts):
    import tensorflow_text as tf_text

    return _lowercase(tf_text.normalize_utf8(texts, "NFKC"))


def _lowercase(texts):
    """Unicode lower case character by character, as Rust's char::to_lowercase (ICU's own maps a
    word-final capital sigma to "ς"); lower() stops at a NUL, so the pieces between them go alone."""
    import tensorflow as tf

    pieces = tf.strings.split(tf.strings.regex_replace(texts, "\u03a3", "\u03c3"), "\x00")
    return tf.strings.reduce_join(tf.strings.lower(pieces, encoding="utf-8"), axis=-1, separator="\x00")
