"""`explain(predictor, text, ...)`: {label: [(word, score), ...]} for one text, by any of METHODS."""

import numpy as np

from mltc_keras.explanation import METHODS
from mltc_keras.explanation.occlusion import occlusion_from, occlusion_texts
from mltc_keras.explanation.words import merge_onto_words, token_words, word_spans


def explained_labels(predictor, proba, labels=None):
    """The labels asked for (ValueError naming an unknown one), else those at or above their
    thresholds, else the top-scored one."""
    if labels:
        unknown = [name for name in labels if name not in predictor.labels]
        if unknown:
            raise ValueError(f"unknown label {unknown[0]!r}; the model's labels are {', '.join(predictor.labels)}")
        return list(dict.fromkeys(labels))
    cut = np.asarray([predictor.thresholds[name] for name in predictor.labels])
    chosen = [name for name, p, t in zip(predictor.labels, proba, cut) if p >= t]
    return chosen or [predictor.labels[int(np.argmax(proba))]]


def token_scores(predictor, text, label_indices, method, steps):
    """(n_tokens, n_labels) per-token scores of `method` (gradients, attention) for a single model."""
    if predictor.tokenizer is None:
        raise ValueError(f"method {method!r} reads one network's tokens; an ensemble is explained by occlusion")
    ids = predictor.token_ids([text])[0]
    ids = ids[ids != predictor.tokenizer.pad_id]
    if method == "gradients":
        from mltc_keras.explanation.gradients import integrated_gradients

        scores, _, _ = integrated_gradients(predictor.model.network, ids, label_indices, vocab_size=predictor.tokenizer.vocab_size,
                                            pad_id=predictor.tokenizer.pad_id, steps=steps)
        return scores
    weights = np.asarray(predictor.readout("attention").predict_on_batch(ids[None, :].astype("int32")))[0, :len(ids)]
    return np.repeat(weights[:, None], len(label_indices), axis=1)


def _by_label(text, spans, scores, predictor, names):
    words = [text[start:end] for start, end in spans]
    columns = [predictor.labels.index(name) for name in names]
    return {name: [(word, float(score)) for word, score in zip(words, scores[:, c])] for name, c in zip(names, columns)}


def from_occlusion(predictor, text, proba, labels=None):
    """The occlusion explanation of `text` from `proba`, the probabilities of its
    `occlusion_texts` (which a server computes in its own batches)."""
    proba = np.asarray(proba)
    names = explained_labels(predictor, proba[0], labels)
    return _by_label(text, word_spans(text), occlusion_from(proba), predictor, names)


def explain(predictor, text, labels=None, method="occlusion", steps=32):
    """{label: [(word, score)]}: each whitespace-separated word of `text` in order with its score
    for that label, for the labels asked for or predicted (see `explained_labels`). ValueError for
    an unknown method or label, or a method the model cannot offer."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    spans = word_spans(text)
    if method == "occlusion":
        return from_occlusion(predictor, text, predictor.predict_proba(occlusion_texts(text, spans)), labels)
    names = explained_labels(predictor, predictor.predict_proba([text])[0], labels)
    columns = [predictor.labels.index(name) for name in names]
    per_token = token_scores(predictor, text, columns, method, steps)
    spans_of_tokens = predictor.tokenizer.spans(text, predictor.model.max_length)
    merged = merge_onto_words(per_token, token_words(spans_of_tokens, spans), len(spans))
    full = np.zeros((len(spans), len(predictor.labels)))
    full[:, columns] = merged
    return _by_label(text, spans, full, predictor, names)
