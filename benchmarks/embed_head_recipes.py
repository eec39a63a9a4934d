"""embed-head's training recipe and reading window, compared over seeds on one fixed split.

    python benchmarks/embed_head_recipes.py --dataset reuters21578_modapte --seeds 1,2,3 \
        --windows 0,128 [--train-options "--plateau 0"] [--pretrained DIR] [--work DIR]

The suite changes Reuters' validation split with the seed, and every new split means embedding the
training texts again (minutes on a CPU). Here the split is the suite's for seed 1, written once as
train/valid CSVs, so the embeddings are cached and only the head's initialisation and shuffling
change with --seed. Each (window, seed) trains `mltc-keras train --arch embed-head --window W
--seed S` plus --train-options (a model already in --work is reused). Test scores come from the
saved model's head over the test texts embedded once per window by the same encoder graph the saved
model runs (and their token ids, for a head with a token path), at the model's tuned thresholds and
at 0.5. Prints one JSON line per run, then mean ± std per window as Markdown.
"""

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from suite import splits

ROOT = Path(__file__).resolve().parents[1]


def write_split(folder, split):
    with open(folder, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", *split.labels])
        writer.writerows([text, *map(int, row)] for text, row in zip(split.texts, split.y))


def train(work, window, seed, pretrained, extra):
    name = f"eh-w{window}-s{seed}{''.join(extra).replace('--', '-')}"
    model = work / f"{name}.keras"
    if not model.exists():
        subprocess.run([sys.executable, "-m", "mltc_keras", "train", "--arch", "embed-head", "--pretrained", pretrained,
                        "--train", str(work / "train.csv"), "--valid", str(work / "valid.csv"), "--seed", str(seed),
                        "--window", str(window), "--output", str(model), "--logs-dir", str(work / "logs"),
                        "--run-name", name, "--overwrite", *extra], check=True, capture_output=True, cwd=ROOT)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--windows", default="0,128")
    parser.add_argument("--train-options", default="")
    parser.add_argument("--pretrained", default=str(Path.home() / ".cache/mltc-keras/all-minilm-l6-v2"))
    parser.add_argument("--work", default=str(ROOT / "benchmarks" / "slices" / "embed_head_recipes"))
    parser.add_argument("--max-length", type=int, default=512, help="the test texts' cut (the suite's from the data)")
    args = parser.parse_args()
    import mltc_keras
    from mltc_keras.encoders.pretrained import load_pretrained
    from mltc_keras.evaluation.metrics import evaluate_predictions
    from mltc_keras.models.features import EmbeddingFeatures
    from mltc_keras.text.token_cache import encode_cached

    work = Path(args.work) / args.dataset
    work.mkdir(parents=True, exist_ok=True)
    train_split, valid, test = splits(Path(args.data) / args.dataset, 1)
    write_split(work / "train.csv", train_split)
    write_split(work / "valid.csv", valid)
    pretrained = load_pretrained(args.pretrained)
    extra = args.train_options.split()
    test_ids = np.asarray(encode_cached(pretrained.tokenizer, test.texts, args.max_length))  # for --token-path
    rows = {}
    for window in [int(w) for w in args.windows.split(",")]:
        test_x = np.asarray(EmbeddingFeatures(pretrained, "mean", "all", True, window).compute(test.texts, args.max_length))
        for seed in [int(s) for s in args.seeds.split(",")]:
            model = mltc_keras.load(str(train(work, window, seed, args.pretrained, extra))).model
            head = model.network.get_layer("embed_head")
            inputs = test_x if len(head.inputs) == 1 else {"embeddings": test_x, "token_ids": test_ids}
            proba = head.predict(inputs, verbose=0)
            report = evaluate_predictions(test.y, proba, test.labels, model.thresholds)
            row = {"window": window, "seed": seed, "train_options": args.train_options,
                   "micro_f1": report["micro_f1"], "macro_f1": report["macro_f1"],
                   "micro_f1_at_0.5": report["at_0.5"]["micro_f1"], "macro_f1_at_0.5": report["at_0.5"]["macro_f1"],
                   "roc_auc_macro": report["roc_auc_macro"]}
            print(json.dumps(row), flush=True)
            rows.setdefault(window, []).append(row)
    print(f"\n| window | train options | seeds | micro-F1 tuned | macro-F1 tuned | micro-F1 at 0.5 | ROC-AUC |\n"
          f"|---|---|---|---|---|---|---|")
    for window, runs in rows.items():
        def stat(key):
            values = np.array([run[key] for run in runs])
            return f"{values.mean():.3f} ± {values.std(ddof=1) if len(values) > 1 else 0:.3f}"
        print(f"| {window} | {args.train_options or 'defaults'} | {len(runs)} | {stat('micro_f1')} | {stat('macro_f1')} "
              f"| {stat('micro_f1_at_0.5')} | {stat('roc_auc_macro')} |")


if __name__ == "__main__":
    main()
