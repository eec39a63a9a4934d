"""Faithfulness of the explanation methods (ERASER's comprehensiveness), per model and method.

    python benchmarks/explain_faithfulness.py --models A.keras [B.keras ...] --data test.csv
        [--n 200] [--methods occlusion,gradients,attention] [--json out.json]

For n test texts of at least 4 words (drawn with a fixed seed) and each text's top-scored label:
delete the k words the method scores highest (k = 1, 3) and measure the drop in that label's
probability; delete k words drawn at random (5 draws, averaged) for the baseline. Prints the mean
drop of each, their ratio (top-k / random: above 1, the method finds words that matter more than
chance) and the seconds per explanation. A method a model cannot offer is reported as such.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

KS = (1, 3)
RANDOM_DRAWS = 5


def sample_texts(path, n, seed=0):
    from mltc_keras.data.reader import read_text_csv

    texts = [t for t in read_text_csv(path)["text"].tolist() if len(t.split()) >= max(KS) + 1]
    rng = np.random.default_rng(seed)
    return [texts[i] for i in sorted(rng.choice(len(texts), size=min(n, len(texts)), replace=False))]


def faithfulness(predictor, texts, method, seed=0):
    from mltc_keras.explanation.words import without_words, word_spans

    rng = np.random.default_rng(seed)
    proba = predictor.predict_proba(texts)
    tops = proba.argmax(axis=1)
    started = time.perf_counter()
    scores = [predictor.explain(text, labels=[predictor.labels[j]], method=method)[predictor.labels[j]]
              for text, j in zip(texts, tops)]
    seconds = (time.perf_counter() - started) / len(texts)
    deleted, where = [], []  # texts with words removed, and (row, k, "top" | "random")
    for row, (text, words) in enumerate(zip(texts, scores)):
        spans = word_spans(text)
        order = np.argsort([-s for _, s in words], kind="stable")
        for k in KS:
            deleted.append(without_words(text, spans, order[:k]))
            where.append((row, k, "top"))
            for _ in range(RANDOM_DRAWS):
                deleted.append(without_words(text, spans, rng.choice(len(spans), size=k, replace=False)))
                where.append((row, k, "random"))
    after = predictor.predict_proba(deleted)
    drops = {(k, kind): [] for k in KS for kind in ("top", "random")}
    for (row, k, kind), p in zip(where, after):
        drops[(k, kind)].append(proba[row, tops[row]] - p[tops[row]])
    out = {"seconds_per_explanation": seconds}
    for k in KS:
        top, rand = float(np.mean(drops[(k, "top")])), float(np.mean(drops[(k, "random")]))
        out[f"k{k}"] = {"drop_top": top, "drop_random": rand, "ratio": top / rand if rand > 0 else None}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--methods", default="occlusion,gradients,attention")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    import mltc_keras

    texts = sample_texts(args.data, args.n)
    rows = []
    for path in args.models:
        predictor = mltc_keras.load(path)
        for method in args.methods.split(","):
            row = {"model": str(path), "arch": predictor.model.arch, "method": method, "n": len(texts)}
            try:
                row.update(faithfulness(predictor, texts, method))
            except ValueError as exc:
                row["unavailable"] = str(exc)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"data": args.data, "rows": rows}, indent=2) + "\n")
    print(table(rows))


def ratio(cell):
    """The ratio as text; none when random deletions did not lower the probability on average."""
    return f"{cell['ratio']:.1f}x" if cell["ratio"] is not None else "random drop <= 0"


def table(rows):
    lines = ["| model | arch | method | k=1 drop top / random (ratio) | k=3 drop top / random (ratio) | s per explanation |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        if "unavailable" in r:
            lines.append(f"| {Path(r['model']).name} | {r['arch']} | {r['method']} | not offered: {r['unavailable']} | | |")
            continue
        cells = [f"{r[f'k{k}']['drop_top']:.3f} / {r[f'k{k}']['drop_random']:.3f} ({ratio(r[f'k{k}'])})" for k in KS]
        lines.append(f"| {Path(r['model']).name} | {r['arch']} | {r['method']} | {cells[0]} | {cells[1]} "
                     f"| {r['seconds_per_explanation']:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
