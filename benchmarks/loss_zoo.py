"""Each loss on one arch over several seeds: test macro-F1 and the F1 of the rarest labels.

Runs benchmarks/goemotions.sh once per (loss, seed) (skipping runs whose results exist), then
prints a Markdown table of the mean and spread over seeds.

Usage: python benchmarks/loss_zoo.py [--arch bag] [--losses bce,focal,weighted-bce] [--seeds 1,2,3] [-- extra train options]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
RARE = 10  # the labels with the fewest training positives


def run(name, train_args):
    if not (RESULTS / f"{name}.tuned.json").is_file():
        subprocess.run(["bash", str(ROOT / "benchmarks" / "goemotions.sh"), name, *train_args], check=True)
    return {kind: json.loads((RESULTS / f"{name}.{kind}.json").read_text()) for kind in ("tuned", "t05")}


def rare_labels(count):
    train = pd.read_csv(ROOT / "data" / "goemotions" / "train.csv")
    return list(train.drop(columns="text").sum().sort_values().index[:count])


def summary(reports, rare):
    def rare_f1(report):
        return np.mean([row["f1"] for row in report["per_label"] if row["label"] in rare])

    figures = {
        "macro-F1 tuned": [r["tuned"]["macro_f1"] for r in reports],
        "macro-F1 @0.5": [r["t05"]["macro_f1"] for r in reports],
        "micro-F1 tuned": [r["tuned"]["micro_f1"] for r in reports],
        f"F1 of the {len(rare)} rarest labels, tuned": [rare_f1(r["tuned"]) for r in reports],
    }
    return {key: (float(np.mean(v)), float(np.std(v))) for key, v in figures.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="bag")
    parser.add_argument("--losses", default="bce,focal,weighted-bce")
    parser.add_argument("--seeds", default="1,2,3")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    rare = rare_labels(RARE)
    rows = {}
    for loss in args.losses.split(","):
        reports = [run(f"{args.arch}-{loss}-s{seed}", ["--arch", args.arch, "--loss", loss, "--seed", seed, *extra])
                   for seed in args.seeds.split(",")]
        rows[loss] = summary(reports, rare)
    columns = list(next(iter(rows.values())))
    print(f"{args.arch}, seeds {args.seeds} (mean ± std); rarest labels: {', '.join(rare)}\n")
    print("| loss | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for loss, figures in rows.items():
        print(f"| {loss} | " + " | ".join(f"{m:.3f} ± {s:.3f}" for m, s in figures.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
