"""Ensembles of the suite's models (benchmarks/suite.py): one data set, one seed.

    python benchmarks/ensemble_suite.py --dataset goemotions [--archs bilstm,bag,embed-head] [--seed 1]

Takes the suite's models of that data set and seed, writes their validation rows (valid.csv when
the data set has one, else the same seeded stratified split of train.csv that their training held
out) into the suite's work folder, runs `mltc-keras ensemble` with --weights auto and equal, then one
`mltc-keras compare` of the ensembles and their members on test.csv (written as JSON beside them).
"""

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def validation_csv(folder, seed, out):
    """The rows the suite's training held out for validation, as a CSV (or the data set's own)."""
    if (folder / "valid.csv").is_file():
        return folder / "valid.csv"
    import pandas as pd

    from mltc_keras.data.reader import read_labelled_csv
    from mltc_keras.data.stratify import stratified_split

    train = read_labelled_csv(folder / "train.csv")
    _, valid_idx = stratified_split(train.y, 0.1, seed)
    frame = pd.DataFrame(train.y[valid_idx], columns=train.labels)
    frame.insert(0, "text", [train.texts[i] for i in valid_idx])
    frame.to_csv(out, index=False)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--archs", default="bilstm,bag,embed-head")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default=str(ROOT / "benchmarks" / "slices" / "suite"))
    args = parser.parse_args()
    folder, work = Path(args.data) / args.dataset, Path(args.work)
    members = [str(work / f"{args.dataset}-{arch}-s{args.seed}.keras") for arch in args.archs.split(",")]
    valid = validation_csv(folder, args.seed, work / f"{args.dataset}-valid-s{args.seed}.csv")
    ensembles = []
    for weights in ("auto", "equal"):
        out = work / f"{args.dataset}-ensemble-{weights}-s{args.seed}.keras"
        subprocess.run([sys.executable, "-m", "mltc_keras", "ensemble", "--models", *members, "--valid", str(valid),
                        "--weights", weights, "--output", str(out), "--overwrite"], cwd=ROOT, check=True)
        ensembles.append(str(out))
    subprocess.run([sys.executable, "-m", "mltc_keras", "compare", "--models", *ensembles, *members, "--data",
                    str(folder / "test.csv"), "--json", str(work / f"{args.dataset}-ensemble-compare-s{args.seed}.json"),
                    "--overwrite"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
