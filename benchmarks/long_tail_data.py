"""A synthetic data set of many rare labels, for the regime the suite's two real sets lack.

    python benchmarks/long_tail_data.py OUT_FOLDER [--labels 735] [--train 11000] [--seed 1]
    python benchmarks/suite.py --data OUT_PARENT --datasets NAME --archs bilstm,bag --tfidf

Issue 10 saw bilstm learn nothing on a held-back set of short question titles with 735 labels and
a long tail (11k training rows). This writes a set of that shape: label frequencies follow Zipf(1.1),
each text carries one to three labels, and each label has two cue words of its own, whole words of
the bert-base-uncased vocabulary, so each reads as one token. A text is 4 to 8 filler words (other
whole words, shared by every label) with one of its labels' cues put in at a random place; a cue is
left out of 1 text in 10, so the labels are learnable but not perfectly separable. The head of the
label distribution has hundreds of examples, the tail one to five.

Writes train.csv, valid.csv and test.csv (columns: text, then label_0001 ...) to OUT_FOLDER.
"""

import argparse
import csv
from pathlib import Path

import numpy as np

VOCAB = Path(__file__).resolve().parents[1] / "mltc_keras" / "resources" / "bert-base-uncased-vocab.txt"


def whole_words(vocab=VOCAB):
    """The vocabulary's alphabetic whole words of 4 to 10 letters (no ## pieces, no [special] tokens)."""
    words = [line.strip() for line in vocab.read_text(encoding="utf-8").splitlines()]
    return [w for w in words if w.isascii() and w.isalpha() and 4 <= len(w) <= 10]


def make_rows(n, label_p, cues, fillers, rng):
    rows = []
    for _ in range(n):
        labels = rng.choice(len(label_p), size=rng.integers(1, 4), replace=False, p=label_p)
        words = list(rng.choice(fillers, size=rng.integers(4, 9)))
        for label in labels:
            if rng.random() >= 0.1:
                words.insert(rng.integers(0, len(words) + 1), cues[label][rng.integers(0, len(cues[label]))])
        target = np.zeros(len(label_p), dtype=int)
        target[labels] = 1
        rows.append((" ".join(words), target))
    return rows


def write(path, rows, names):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", *names])
        writer.writerows([text, *target] for text, target in rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--labels", type=int, default=735)
    parser.add_argument("--train", type=int, default=11_000)
    parser.add_argument("--valid", type=int, default=1_500)
    parser.add_argument("--test", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    words = rng.permutation(whole_words())
    cues = words[:2 * args.labels].reshape(args.labels, 2)
    fillers = words[2 * args.labels:2 * args.labels + 3_000]
    weights = 1.0 / np.arange(1, args.labels + 1) ** 1.1
    label_p = weights / weights.sum()
    names = [f"label_{i:04d}" for i in range(1, args.labels + 1)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid", "test"):
        rows = make_rows(getattr(args, split), label_p, cues, fillers, rng)
        write(out / f"{split}.csv", rows, names)
        counts = np.sum([target for _, target in rows], axis=0)
        print(f"{out / split}.csv: {len(rows)} texts, labels with a positive {int((counts > 0).sum())}, "
              f"with 1-5 positives {int(((counts > 0) & (counts <= 5)).sum())}")


if __name__ == "__main__":
    main()
