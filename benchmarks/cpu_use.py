"""Where the CPU goes while `mltc-keras train` runs: wall, user and system seconds, page faults and
peak RSS of the train command, with glibc's malloc as it comes and as the CLI sets it
(`mltc_keras/allocator.py`: a 64 MB top pad, a 32 MB mmap threshold).

    python benchmarks/cpu_use.py [--rows 8000] [--arch bilstm] [--epochs 2] [--repeats 2] [--json FILE]

Each run is its own `mltc-keras train` process on the first --rows texts of the bundled GoEmotions
train split (validation: its valid.csv), with a fresh token cache made once before the runs; the
settings alternate, so a change in the machine's load falls on both.
"""

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from suite import ROOT, run_measured  # the same child-process measurement as the multi-dataset suite

SETTINGS = {
    "glibc defaults": "import mltc_keras.cli as c; c.keep_freed_memory = lambda: False",
    "the CLI's (top pad 64 MB)": "import mltc_keras.cli as c",
}


def cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def run_train(setup, argv, env):
    code, out, err, wall, usage = run_measured([sys.executable, "-c", f"{setup}; import sys; sys.exit(c.main({argv!r}))"],
                                               env)
    if code != 0:
        raise SystemExit(f"train failed:\n{err[-2000:]}")
    training = float(re.search(r"updates, (\d+) s training", out).group(1))
    return {"wall_s": round(wall, 1), "training_s": training, "user_s": round(usage.ru_utime, 1),
            "system_s": round(usage.ru_stime, 1), "minor_faults": usage.ru_minflt,
            "cores_used": round((usage.ru_utime + usage.ru_stime) / wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8000)
    parser.add_argument("--arch", default="bilstm")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    import pandas as pd

    work = Path(tempfile.mkdtemp(prefix="cpu_use-"))
    train = work / "train.csv"
    pd.read_csv(ROOT / "data/goemotions/train.csv", nrows=args.rows).to_csv(train, index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["MLTC_KERAS_CACHE"] = str(work / "cache")

    def train_argv(epochs, output):
        return ["train", "--arch", args.arch, "--train", str(train), "--valid", str(ROOT / "data/goemotions/valid.csv"),
                "--epochs", str(epochs), "--output", str(work / output), "--overwrite", "--logs-dir", str(work / "logs")]

    run_train(SETTINGS["glibc defaults"], train_argv(1, "warm.keras"), env)  # fills the token cache, untimed
    rows = []
    for repeat in range(args.repeats):
        order = list(SETTINGS) if repeat % 2 == 0 else list(SETTINGS)[::-1]
        for index, name in enumerate(order):
            argv = train_argv(args.epochs, f"m{repeat}-{index}.keras")  # a run folder of its own: no resuming
            load = os.getloadavg()[0]
            rows.append({"setting": name, "repeat": repeat + 1, "load_before": round(load, 2),
                         **run_train(SETTINGS[name], argv, env)})
            print(json.dumps(rows[-1]), flush=True)
    result = {"cpu": cpu_model(), "cores": os.cpu_count(), "rows": args.rows, "arch": args.arch,
              "epochs": args.epochs, "runs": rows}
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    print("| setting | run | wall s | training s | user s | system s | cores used | minor faults | peak RSS MB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['setting']} | {r['repeat']} | {r['wall_s']} | {r['training_s']:.0f} | {r['user_s']} | {r['system_s']} "
              f"| {r['cores_used']} | {r['minor_faults']:,} | {r['peak_rss_mb']:,} |")


if __name__ == "__main__":
    main()
