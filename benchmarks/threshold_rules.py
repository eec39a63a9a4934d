"""How per-label thresholds tuned on the validation split fare on the test split, rule by rule.

    python benchmarks/threshold_rules.py --dataset reuters21578_modapte --models M.keras [M2.keras ...|tfidf] [--seed 1]

Each model (a suite run's, say) scores the validation rows `train` used (valid.csv, or the tool's
stratified 10% of train.csv for --seed) and the test split once; the probabilities are kept beside
the model (`<model>.proba.npz`); `tfidf` is the suite's reference, fitted on the same training rows.
Thresholds are then tuned on validation by each rule and scored on test: micro/macro-F1, and how
many labels left their own best threshold for the shared one. The rules: 0.5 everywhere; one shared
threshold best for micro-F1; each label its own best F1 (`--min-precision 0`); that with an F1 floor
of 0.2; each label's own best moved toward the shared one by its few validation positives n,
(n * own + 3 * shared) / (n + 3); the median of the thresholds within 0.01 of each label's best F1
(a flat curve's middle, not its noisy peak), where the default keeps a label's own; the default
precision floor.
Printed as Markdown, with the worst labels of the plain per-label rule (most test false positives).
"""

import argparse
from pathlib import Path

import numpy as np

from suite import splits, tfidf_model

ROOT = Path(__file__).resolve().parents[1]


def probabilities(model, train, valid, test):
    if model == "tfidf":
        proba = tfidf_model(train)
        return proba(valid.texts), proba(test.texts)
    cached = Path(f"{model}.proba.npz")
    if cached.is_file() and cached.stat().st_mtime > Path(model).stat().st_mtime:
        saved = np.load(cached)
        return saved["valid"], saved["test"]
    import mltc_keras

    predictor = mltc_keras.load(model)
    out = {name: predictor.predict_proba(split.texts) for name, split in (("valid", valid), ("test", test))}
    np.savez(cached, **out)
    return out["valid"], out["test"]


def near_best_median(y_valid, p_valid, within=0.01):
    """Per label, the median of the grid thresholds whose validation F1 is within `within` of its best."""
    from mltc_keras.evaluation.thresholds import f1_curves

    grid, curves = f1_curves(y_valid, p_valid)
    near = curves >= curves.max(axis=0) - within
    picks = [grid[near[:, label]] for label in range(curves.shape[1])]  # ascending, as the grid
    return np.array([pick[len(pick) // 2] for pick in picks])


def rules(y_valid, p_valid):
    from mltc_keras.evaluation.thresholds import (_per_label_f1, tune_global_threshold, tune_thresholds,
                                                  under_precision_floor)

    own = tune_thresholds(y_valid, p_valid, min_precision=0)
    shared = tune_global_threshold(y_valid, p_valid, "micro")
    flagged = p_valid >= own
    best_f1 = _per_label_f1(y_valid.astype(bool), flagged)
    positives = y_valid.sum(axis=0)
    floored = tune_thresholds(y_valid, p_valid)
    weak = under_precision_floor((flagged & (y_valid == 1)).sum(axis=0), flagged.sum(axis=0))
    return {"0.5": np.full_like(own, 0.5), "shared (micro-F1)": shared, "own best F1": own,
            "own, F1 floor 0.2": np.where(best_f1 >= 0.2, own, shared),
            "own, shrunk to the shared (k=3)": (positives * own + 3 * shared) / (positives + 3),
            "own, near-best median, else as the default": np.where(weak, shared, near_best_median(y_valid, p_valid)),
            "own, precision floor 0.1 (default)": floored}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--models", nargs="+", required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    from sklearn.metrics import f1_score

    train, valid, test = splits(Path(args.data) / args.dataset, args.seed)
    print("| model | rule | test micro-F1 | test macro-F1 | labels on the shared threshold |\n|---|---|---|---|---|")
    worst = []
    for model in args.models:
        p_valid, p_test = probabilities(model, train, valid, test)
        tuned = rules(valid.y, p_valid)
        for rule, thresholds in tuned.items():
            pred = (p_test >= thresholds).astype(int)
            moved = int((thresholds != tuned["own best F1"]).sum()) if "floor" in rule else ""
            print(f"| {Path(model).stem} | {rule} | {f1_score(test.y, pred, average='micro', zero_division=0):.3f} "
                  f"| {f1_score(test.y, pred, average='macro', zero_division=0):.3f} | {moved} |")
        own = tuned["own best F1"]
        flagged_valid, flagged_test = p_valid >= own, p_test >= own
        for j in np.argsort(-(flagged_test & (test.y == 0)).sum(axis=0))[:5]:
            worst.append((Path(model).stem, valid.labels[j], int(valid.y[:, j].sum()), own[j],
                          int((flagged_valid[:, j] & (valid.y[:, j] == 0)).sum()),
                          int((flagged_test[:, j] & (test.y[:, j] == 0)).sum()),
                          int((flagged_test[:, j] & (test.y[:, j] == 1)).sum()), int(test.y[:, j].sum())))
    print("\n| model | label | valid positives | own threshold | valid false positives | test false positives "
          "| test true positives | test positives |\n|---|---|---|---|---|---|---|---|")
    for row in worst:
        print("| " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row) + " |")


if __name__ == "__main__":
    main()
