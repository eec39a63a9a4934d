"""A report's page of explained examples: a few texts the model gets right and a few it gets
wrong, each explained (occlusion) for its true and predicted labels, so a reader sees what the
model leans on where it errs."""

import numpy as np

from mltc_keras.explanation.html import render

WORDS = (3, 60)  # texts of this many words read well on a page


def pick_examples(texts, y_true, y_pred, per_kind=3):
    """(right, wrong): row indices, in file order, of texts of a readable length whose predicted
    label set equals the true one (with at least one label), and of texts where they differ."""
    right, wrong = [], []
    for i, text in enumerate(texts):
        if not WORDS[0] <= len(text.split()) <= WORDS[1]:
            continue
        same = bool((y_true[i] == y_pred[i]).all())
        kind = right if same and y_true[i].any() else wrong if not same else None
        if kind is not None and len(kind) < per_kind:
            kind.append(i)
        if len(right) == len(wrong) == per_kind:
            break
    return right, wrong


def examples_page(predictor, texts, y_true, proba, thresholds, per_kind=3):
    """The HTML page, or None when no text qualifies."""
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(proba) >= np.asarray(thresholds)
    right, wrong = pick_examples(texts, y_true, y_pred, per_kind)
    items, captions = [], []
    for i, kind in [(i, "right") for i in right] + [(i, "wrong") for i in wrong]:
        true = [name for name, on in zip(predictor.labels, y_true[i]) if on]
        predicted = [name for name, on in zip(predictor.labels, y_pred[i]) if on]
        asked = list(dict.fromkeys(true + predicted)) or None
        explanation = predictor.explain(texts[i], labels=asked)
        items.append((texts[i], {label: float(proba[i][predictor.labels.index(label)]) for label in explanation},
                      explanation))
        captions.append(f"row {i + 1}, {kind}: true {', '.join(true) or '(none)'}; "
                        f"predicted {', '.join(predicted) or '(none)'}")
    if not items:
        return None
    return render(items, "occlusion", "score: the label's probability minus its probability with the word deleted; "
                  "each text is explained for its true and its predicted labels", captions)
