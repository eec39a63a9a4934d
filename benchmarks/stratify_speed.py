"""Wall time of the seeded iterative stratified split on the GoEmotions training labels.

    python benchmarks/stratify_speed.py [--repeat 5]
"""

import argparse
import time

from mltc_keras.data.reader import read_labelled_csv
from mltc_keras.data.stratify import stratified_split


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", default="data/goemotions/train.csv")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    y = read_labelled_csv(args.train).y
    times = []
    for seed in range(args.repeat):
        start = time.perf_counter()
        stratified_split(y, 0.1, seed=seed)
        times.append(time.perf_counter() - start)
    print(f"stratified_split on {y.shape[0]:,} rows x {y.shape[1]} labels: best {min(times):.3f} s, "
          f"median {sorted(times)[len(times) // 2]:.3f} s over {args.repeat} runs")


if __name__ == "__main__":
    main()
