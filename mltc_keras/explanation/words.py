"""The words of a text (whitespace-separated, with their character spans) and the mapping of
tokens onto them."""

import re

import numpy as np

_WORD = re.compile(r"\S+")


def word_spans(text):
    """[(start, end)] of each whitespace-separated word of `text`, in order."""
    return [match.span() for match in _WORD.finditer(text)]


def token_words(token_spans, spans):
    """For each token (its (start, end) in the text, or None for a special token), the index of
    the word its first character falls in, or -1 when it belongs to none."""
    starts = np.array([start for start, _ in spans], dtype=np.int64)
    index = []
    for span in token_spans:
        if span is None or not spans:
            index.append(-1)
            continue
        word = int(np.searchsorted(starts, span[0], side="right")) - 1
        index.append(word if word >= 0 and span[0] < spans[word][1] else -1)
    return np.asarray(index, dtype=np.int64)


def merge_onto_words(token_scores, token_word, n_words):
    """(n_words, ...) sums of `token_scores` (n_tokens, ...) over the tokens of each word; words
    with no token (cut off by the max length) get 0."""
    token_scores = np.asarray(token_scores, dtype="float64")
    merged = np.zeros((n_words,) + token_scores.shape[1:])
    keep = token_word >= 0
    np.add.at(merged, token_word[keep], token_scores[keep])
    return merged


def without_words(text, spans, drop):
    """`text` with the words at indices `drop` deleted (the rest, whitespace included, unchanged)."""
    pieces, at = [], 0
    for i in sorted(set(int(d) for d in drop)):
        start, end = spans[i]
        pieces.append(text[at:start])
        at = end
    pieces.append(text[at:])
    return "".join(pieces)
