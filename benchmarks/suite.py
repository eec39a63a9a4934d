"""The multi-dataset benchmark: every arch with its defaults on every data set, beside a tf-idf row.

    python benchmarks/suite.py [--data ../shared/data] [--datasets goemotions,reuters21578_modapte]
                               [--archs bag,bilstm,embed-head,bert] [--seeds 1] [--tfidf] [--pretrained DIR]
                               [--train-options="--max-length 512" --tag=-len512]

A data set is any folder under --data with train.csv and test.csv (valid.csv when it has one; else
the tool's stratified split of train, the same rows for every cell of that seed). Each cell trains
`mltc-keras train --arch A` with defaults only (plus --seed and, for the encoder archs, --pretrained)
in a subprocess, then scores test.csv: micro/macro-F1 at 0.5 and at the tuned thresholds, macro
ROC-AUC, epochs and updates run, the train command's wall time and peak RSS, and which warnings it
gave (never improved, epoch cap, labels at chance). The tf-idf row (word 1-2-grams + char 2-5-grams, one-vs-rest logistic
regression, thresholds tuned per label on the same validation rows) is computed here too.
Raw JSON per cell goes to benchmarks/results/suite/; the table is printed as Markdown.
`--train-options` runs an experiment beside the defaults (its flags are in each cell's command).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "suite"
# what each of train's warnings is called in the table's last column
WARNINGS = {"learned nothing": "never improved", "still improving": "epoch cap", "no better than chance": "labels at chance"}
COLUMNS = ("micro_f1_at_0.5", "micro_f1", "macro_f1_at_0.5", "macro_f1", "roc_auc_macro")


def datasets(folder, names=None):
    found = {p.name: p for p in sorted(Path(folder).iterdir()) if (p / "train.csv").is_file() and (p / "test.csv").is_file()}
    return {name: found[name] for name in (names or found)}


def run_measured(command, env):
    """(exit code, stdout, stderr, wall seconds, resource usage) of `command` run as a child; the usage
    is its `os.wait4` rusage (ru_maxrss: peak RSS in KB)."""
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return process.returncode, out.read(), err.read(), seconds, usage


def scores(report):
    return {"micro_f1_at_0.5": report["at_0.5"]["micro_f1"], "micro_f1": report["micro_f1"],
            "macro_f1_at_0.5": report["at_0.5"]["macro_f1"], "macro_f1": report["macro_f1"],
            "roc_auc_macro": report["roc_auc_macro"]}


def arch_cell(name, folder, arch, seed, pretrained, work, train_options=(), tag=""):
    """Train and score one (data set, arch, seed) cell through the CLI; `train_options` are extra
    `train` flags for an experiment beside the defaults, `tag` names its files apart."""
    run = f"{name}-{arch}{tag}-s{seed}"
    model = work / f"{run}.keras"
    command = [sys.executable, "-m", "mltc_keras", "train", "--arch", arch, "--train", str(folder / "train.csv"),
               "--seed", str(seed), "--output", str(model), "--logs-dir", str(work / "logs"), "--run-name", run,
               "--overwrite"]
    if (folder / "valid.csv").is_file():
        command += ["--valid", str(folder / "valid.csv")]
    if arch in ("embed-head", "bert"):
        command += ["--pretrained", pretrained]
    command += list(train_options)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    code, out, err, seconds, usage = run_measured(command, env)
    peak = usage.ru_maxrss / 1024
    if code != 0:
        return {"error": err.strip().splitlines()[-1] if err.strip() else f"exit {code}"}
    saved = re.search(r"saved .* \((\d+) epochs, (\d+) updates", out)
    metrics = work / f"{run}.json"
    evaluate = [sys.executable, "-m", "mltc_keras", "evaluate", "--model", str(model), "--data",
                str(folder / "test.csv"), "--json", str(metrics), "--overwrite"]
    done = subprocess.run(evaluate, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1]}
    warning_lines = [line for line in err.splitlines() if line.startswith("warning:")]
    return {**scores(json.loads(metrics.read_text())), "epochs": int(saved.group(1)), "updates": int(saved.group(2)),
            "train_seconds_wall": round(seconds, 1), "peak_rss_mb": round(peak), "warnings": warning_lines,
            "command": " ".join(command[1:])}


def warned(row):
    """The table's names of the warnings a cell's training gave (results from before 2026-12-06's third
    session kept only the never-improved one)."""
    lines = row.get("warnings") or [row.get("never_improved_warning") or ""]
    return ", ".join(name for key, name in WARNINGS.items() if any(key in line for line in lines))


def splits(folder, seed):
    """(train, valid, test) of a data set as `train` splits it: valid.csv when there is one, else the
    tool's stratified 10% of train.csv for `seed`."""
    from mltc_keras.data.reader import read_labelled_csv
    from mltc_keras.data.stratify import stratified_split

    train = read_labelled_csv(folder / "train.csv")
    if (folder / "valid.csv").is_file():
        valid = read_labelled_csv(folder / "valid.csv", expected_labels=train.labels)
    else:
        train_idx, valid_idx = stratified_split(train.y, 0.1, seed)
        train, valid = train.subset(train_idx), train.subset(valid_idx)
    return train, valid, read_labelled_csv(folder / "test.csv", expected_labels=train.labels)


def tfidf_model(train):
    """tf-idf (word 1-2-grams + char 2-5-grams) + one-vs-rest logistic regression fitted on `train`:
    a function from texts to probabilities (0 for a label with no training positive)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
    x_train = hstack([words.fit_transform(train.texts), chars.fit_transform(train.texts)]).tocsr()
    keep = train.y.sum(axis=0) > 0  # a label with no training positive: predicted never
    classifier = OneVsRestClassifier(LogisticRegression(C=10.0, max_iter=1000, solver="liblinear"), n_jobs=1)
    classifier.fit(x_train, train.y[:, keep])

    def proba(texts):
        out = np.zeros((len(texts), len(train.labels)))
        out[:, keep] = classifier.predict_proba(hstack([words.transform(texts), chars.transform(texts)]).tocsr())
        return out

    return proba


def tfidf_cell(folder, seed):
    """The reference: tf-idf + one-vs-rest logistic regression, thresholds tuned on the validation rows."""
    from mltc_keras.evaluation.metrics import evaluate_predictions
    from mltc_keras.evaluation.thresholds import tune_thresholds

    start = time.perf_counter()
    train, valid, test = splits(folder, seed)
    proba = tfidf_model(train)
    thresholds = tune_thresholds(valid.y, proba(valid.texts))
    report = evaluate_predictions(test.y, proba(test.texts), train.labels, thresholds)
    return {**scores(report), "train_seconds_wall": round(time.perf_counter() - start, 1),
            "command": "benchmarks/suite.py --tfidf"}


def table(rows):
    header = ("data set", "model", "seed", "micro-F1 0.5 / tuned", "macro-F1 0.5 / tuned", "ROC-AUC", "epochs",
              "updates", "train s", "peak RSS MB", "warned")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['dataset']} | {r['model']} | {r['seed']} | error: {r['error']} |")
            continue
        lines.append(f"| {r['dataset']} | {r['model']} | {r['seed']} | {r['micro_f1_at_0.5']:.3f} / {r['micro_f1']:.3f} "
                     f"| {r['macro_f1_at_0.5']:.3f} / {r['macro_f1']:.3f} | {r['roc_auc_macro']:.3f} "
                     f"| {r.get('epochs', '')} | {r.get('updates', '')} | {r['train_seconds_wall']:.0f} "
                     f"| {r.get('peak_rss_mb', '')} | {warned(r)} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--datasets", help="comma list of folder names (default: every data set under --data)")
    parser.add_argument("--archs", default="bag,bilstm,embed-head,bert")
    parser.add_argument("--seeds", default="1", help="comma list")
    parser.add_argument("--tfidf", action="store_true", help="also the tf-idf + logistic regression row")
    parser.add_argument("--pretrained", default=os.environ.get("MLTC_MINILM",
                                                               str(Path.home() / ".cache/mltc-keras/all-minilm-l6-v2")))
    parser.add_argument("--work", default=str(ROOT / "benchmarks" / "slices" / "suite"), help="models and logs")
    parser.add_argument("--train-options", default="",
                        help="extra train flags for an experiment, e.g. '--max-length 512' (not the defaults' table)")
    parser.add_argument("--tag", default="", help="a suffix for the experiment's model and result names")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, folder in datasets(args.data, args.datasets.split(",") if args.datasets else None).items():
        seeds = [int(s) for s in args.seeds.split(",")]
        for seed in seeds:
            # with a valid.csv the reference does not depend on the seed: once is enough
            reference = args.tfidf and (seed == seeds[0] or not (folder / "valid.csv").is_file())
            cells = [("tf-idf + LR", lambda: tfidf_cell(folder, seed))] if reference else []
            cells += [(arch + args.tag, lambda arch=arch: arch_cell(name, folder, arch, seed, args.pretrained, work,
                                                                    args.train_options.split(), args.tag))
                      for arch in args.archs.split(",") if arch]
            for model, cell in cells:
                row = {"dataset": name, "model": model, "seed": seed, **cell()}
                slug = model.split()[0].replace("+", "")
                (RESULTS / f"{name}-{slug}-s{seed}.json").write_text(json.dumps(row, indent=2) + "\n")
                rows.append(row)
                print(table([row]).splitlines()[-1], flush=True)
    print("\n" + table(rows))


if __name__ == "__main__":
    main()
