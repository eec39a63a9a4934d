"""The explain command: per-label word scores for --text, printed, and as --json / --html."""

from dataclasses import dataclass
from pathlib import Path

from mltc_keras.data.atomic import refuse_existing, write_atomic, write_json_atomic
from mltc_keras.errors import reraise
from mltc_keras.explanation.html import render
from mltc_keras.serving.predictor import load

SHOWN = 5  # words printed per label, by |score|

NOTES = {"occlusion": "score: the label's probability minus its probability with the word deleted",
         "gradients": "score: integrated gradients of the label's probability on the word's token embeddings",
         "attention": "score: the attention weight on the word (where the model looked; the same for every "
                      "label, not an attribution)"}


@dataclass
class ExplainResult:
    method: str
    items: list   # [(text, {label: probability}, {label: [(word, score)]})]
    written: list


def run(opts):
    for path, option in ((opts.html, "--html"), (opts.json, "--json")):
        if path:
            refuse_existing(path, opts.overwrite, option)
    predictor = load(opts.model)
    items = []
    for text, row in zip(opts.text, predictor.predict_proba(opts.text)):
        option, value = ("--label", " ".join(opts.label)) if opts.label else ("--method", opts.method)
        with reraise(option, value):
            explanation = predictor.explain(text, labels=opts.label, method=opts.method, steps=opts.steps)
        proba = dict(zip(predictor.labels, row.tolist()))
        items.append((text, {label: proba[label] for label in explanation}, explanation))
    written = []
    if opts.json:
        write_json_atomic(opts.json, {"model": str(opts.model), "method": opts.method, "note": NOTES[opts.method],
                                      "explanations": [{"text": text, "probabilities": probabilities,
                                                        "words": {label: [[w, s] for w, s in words]
                                                                  for label, words in explanation.items()}}
                                                       for text, probabilities, explanation in items]},
                          overwrite=opts.overwrite)
        written.append(Path(opts.json))
    if opts.html:
        page = render(items, opts.method, NOTES[opts.method])
        write_atomic(opts.html, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"), overwrite=opts.overwrite,
                     option="--html")
        written.append(Path(opts.html))
    return ExplainResult(opts.method, items, written)


def format(result):
    """Per text and label: the words that move it most, with their signed scores."""
    lines = [f"method  {result.method} ({NOTES[result.method]})"]
    for text, probabilities, explanation in result.items:
        lines.append(f"\n{text}")
        for label, words in explanation.items():
            top = sorted(words, key=lambda ws: -abs(ws[1]))[:SHOWN]
            shown = ", ".join(f"{w} {s:+.3f}" for w, s in top) or "(no words)"
            lines.append(f"  {label} (p={probabilities[label]:.3f}): {shown}")
    lines += [f"wrote {path}" for path in result.written]
    return "\n".join(lines)
