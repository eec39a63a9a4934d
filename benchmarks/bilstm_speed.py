"""Training and prediction throughput of `--arch bilstm` for a few option sets, on real GoEmotions text.

Each configuration is compiled exactly as `mltc-keras train` compiles it and trained on the same
slice of the training split through the same pipeline (batches cut to their longest text); one
warm-up epoch (tracing) is excluded from the timing.

    python benchmarks/bilstm_speed.py [--rows 8192] [--max-length 128] [--batch-size 64]
"""

import argparse
import json
import time

import keras

from mltc_keras.cli import train_options
from mltc_keras.data.reader import read_labelled_csv
from mltc_keras.models.features import TokenFeatures
from mltc_keras.models import get_arch
from mltc_keras.text.batching import batches
from mltc_keras.text.tokenizer import Tokenizer
from mltc_keras.training.trainer import model_spec, build_classifier

CONFIGS = {
    "recurrent_dropout 0 (default)": {},
    "recurrent_dropout 0.3 (seed)": {"recurrent_dropout": 0.3},
}


def measure(name, overrides, texts, y, labels, args):
    opts = train_options({"max_length": args.max_length, "batch_size": args.batch_size, **overrides})
    arch = get_arch(opts.arch)
    tokenizer = Tokenizer.bundled_wordpiece()
    ids = tokenizer.encode(texts, opts.max_length)
    keras.utils.set_random_seed(0)
    model = build_classifier(opts, arch, model_spec(arch, opts), TokenFeatures(tokenizer), labels)
    data = batches(ids, y, batch_size=opts.batch_size, shuffle=True, seed=0)
    model.fit(data, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(data, epochs=args.epochs, verbose=0)
    train_sps = len(ids) * args.epochs / (time.perf_counter() - start)
    infer = batches(ids, batch_size=256)
    model.predict(infer, verbose=0)
    start = time.perf_counter()
    model.predict(infer, verbose=0)
    predict_sps = len(ids) / (time.perf_counter() - start)
    return {"config": name, "train_samples_per_s": round(train_sps, 1), "predict_samples_per_s": round(predict_sps, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/goemotions/train.csv")
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    data = read_labelled_csv(args.data)
    texts, y = data.texts[:args.rows], data.y[:args.rows]
    results = [measure(name, overrides, texts, y, data.labels, args) for name, overrides in CONFIGS.items()]
    print(json.dumps({"backend": keras.backend.backend(), "rows": len(texts), **vars(args), "results": results}, indent=2))


if __name__ == "__main__":
    main()
