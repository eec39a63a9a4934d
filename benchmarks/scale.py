"""Large files on one machine: wall time, rows/s and peak RSS of `train` (1 epoch), `predict`, and
`predict --engine ray`, on CSVs of 100k and 1M rows built from the GoEmotions training texts.

    python benchmarks/scale.py --rows 100000 1000000 --work /tmp/scale

The big CSVs are GoEmotions train rows drawn with replacement, each text lightly perturbed (a word
dropped or repeated, with probability 0.3 each) so few rows are exact copies; labels are kept.
Every command runs as its own `mltc-keras` process; its peak RSS is that process's ru_maxrss.
Targets (issue 15): peak RSS at 1M within 1.5x of that at 100k, under 4 GB for predict and bag,
throughput per row not worse at 1M. Results go to --json, one record per run.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def build_csv(source, rows, path, seed=0):
    """`rows` rows of `source` (drawn with replacement, texts perturbed) written to `path`."""
    if path.exists():
        return path
    with open(source, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header, records = next(reader), list(reader)
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for start in range(0, rows, 100_000):
            picks = rng.integers(0, len(records), min(100_000, rows - start))
            for i, r in zip(picks, rng.random(len(picks))):
                text, *labels = records[i]
                words = text.split()
                if len(words) > 1 and r < 0.3:
                    del words[rng.integers(len(words))]
                elif words and r < 0.6:
                    j = rng.integers(len(words))
                    words.insert(j, words[j])
                writer.writerow([" ".join(words) or text, *labels])
    os.replace(tmp, path)
    return path


def measured(args, cwd):
    """(seconds, peak RSS in MB) of `mltc-keras args` run as its own process."""
    start = time.perf_counter()
    code = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "mltc_keras", *args], cwd=cwd,
                            capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"mltc-keras {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return seconds, int(result.stderr.strip().splitlines()[-1]) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--source", default=str(ROOT / "data" / "goemotions" / "train.csv"))
    parser.add_argument("--valid", default=str(ROOT / "data" / "goemotions" / "valid.csv"))
    parser.add_argument("--archs", nargs="+", default=["bag", "bilstm"])
    parser.add_argument("--train-rows", type=int, nargs="*", default=None,
                        help="train only at these sizes (default: every --rows); bilstm at 1M is ~35 min on 2 cores")
    parser.add_argument("--ray", action="store_true", help="also predict --engine ray at the largest size")
    parser.add_argument("--work", default="/tmp/scale")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    env_cache = ["--cache-dir", str(work / "cache")]
    records = []

    def report(**record):
        record["rows_per_s"] = round(record["rows"] / record["seconds"], 1)
        records.append(record)
        print(json.dumps(record), flush=True)

    for rows in args.rows:
        data = build_csv(args.source, rows, work / f"goemotions_{rows}.csv")
        for arch in args.archs:
            if args.train_rows is not None and rows not in args.train_rows:
                continue
            model = work / f"{arch}_{rows}.keras"
            seconds, rss = measured(["train", "--arch", arch, "--train", str(data), "--valid", args.valid,
                                     "--epochs", "1", "--min-updates", "1", "--output", str(model), "--overwrite",
                                     "--logs-dir", str(work / "logs"), *env_cache], cwd=work)
            report(job=f"train {arch}", rows=rows, seconds=round(seconds, 1), peak_rss_mb=round(rss))
        model = work / f"bag_{min(args.rows)}.keras"
        if not model.exists():
            raise SystemExit(f"{model}: train bag at {min(args.rows)} rows first (it is the model predict uses)")
        seconds, rss = measured(["predict", "--model", str(model), "--input", str(data), "--runtime", "keras",
                                 "--output", str(work / f"out_{rows}.csv"), "--overwrite"], cwd=work)
        report(job="predict bag", rows=rows, seconds=round(seconds, 1), peak_rss_mb=round(rss))
        if args.ray and rows == max(args.rows):
            seconds, rss = measured(["predict", "--model", str(model), "--input", str(data), "--runtime", "keras",
                                     "--engine", "ray", "--output", str(work / f"out_ray_{rows}"), "--overwrite"],
                                    cwd=work)
            report(job="predict bag --engine ray (driver RSS only)", rows=rows, seconds=round(seconds, 1),
                   peak_rss_mb=round(rss))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"machine": os.uname().machine, "cpus": os.cpu_count(),
                                               "records": records}, indent=2) + "\n")


if __name__ == "__main__":
    main()
