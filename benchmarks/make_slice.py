"""The first N rows of GoEmotions train as benchmarks/slices/train-N.csv, for runs too slow for all of it.

Usage: python benchmarks/make_slice.py N
"""

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    n = int(sys.argv[1])
    out = ROOT / "benchmarks" / "slices" / f"train-{n}.csv"
    out.parent.mkdir(exist_ok=True)
    pd.read_csv(ROOT / "data" / "goemotions" / "train.csv").head(n).to_csv(out, index=False)
    print(out)
