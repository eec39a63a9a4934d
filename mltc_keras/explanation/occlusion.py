"""Occlusion: the drop in each label's probability when one word is deleted from the text."""

import numpy as np

from mltc_keras.explanation.words import without_words, word_spans


def occlusion_texts(text, spans=None):
    """The texts to score: `text` itself, then `text` without each of its words in turn."""
    spans = word_spans(text) if spans is None else spans
    return [text] + [without_words(text, spans, [i]) for i in range(len(spans))]


def occlusion_from(proba):
    """(n_words, n_labels) scores from the probabilities of `occlusion_texts`:
    p(text) - p(text without word i)."""
    proba = np.asarray(proba, dtype="float64")
    return proba[0] - proba[1:]

