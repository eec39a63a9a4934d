"""Training and prediction speed of `--arch bert` (the package's own model, optimizer and compile).

Full-length random token ids (no padding, so every step does the full work) and random labels.
A few warm-up steps (tracing / XLA compilation) are run first and not timed.

    python benchmarks/bert_speed.py                          # MiniLM-L6 (get-minilm), seq 64, batch 32
    python benchmarks/bert_speed.py --config bert-base --seq 128 --mixed-precision bf16   # random BERT-base weights

Writes benchmarks/results/bert_speed-<config>-<backend>-<precision>-jit-<jit>.json and prints a line.
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import keras
import numpy as np

from mltc_keras.cli import train_options
from mltc_keras.encoders.pretrained import Pretrained, load_pretrained
from mltc_keras.models.features import EncoderTokenFeatures
from mltc_keras.models import bert
from mltc_keras.text.tokenizer import Tokenizer
from mltc_keras.training.trainer import build_classifier, model_spec, precision

ROOT = Path(__file__).resolve().parent.parent
MINILM = os.environ.get("MLTC_MINILM", str(Path.home() / ".cache" / "mltc-keras" / "all-minilm-l6-v2"))


def pretrained(config):
    if config == "minilm":
        return load_pretrained(MINILM)
    import keras_hub

    backbone = keras_hub.models.BertBackbone(vocabulary_size=30522, num_layers=12, num_heads=12, hidden_dim=768,
                                             intermediate_dim=3072, max_sequence_length=512)
    return Pretrained("bert-base (random weights)", backbone, Tokenizer.bundled_wordpiece(), "random")


def timed(fn, steps):
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=("minilm", "bert-base"), default="minilm")
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup-steps", type=int, default=3)
    parser.add_argument("--mixed-precision", choices=("off", "bf16", "fp16"), default="off")
    parser.add_argument("--jit-compile", choices=("auto", "on", "off"), default="auto")
    args = parser.parse_args()

    opts = train_options({"arch": "bert", "max_length": args.seq, "batch_size": args.batch, "epochs": 1,
                          "mixed_precision": args.mixed_precision, "jit_compile": args.jit_compile})
    rng = np.random.default_rng(0)
    labels = [f"l{i}" for i in range(28)]
    with precision(args.mixed_precision):
        features = EncoderTokenFeatures(pretrained(args.config))
        model = build_classifier(opts, bert, model_spec(bert, opts), features, labels, batches_per_epoch=1000)
        ids = rng.integers(1000, 20000, size=(args.batch, args.seq)).astype("int32")
        y = (rng.random((args.batch, len(labels))) < 0.1).astype("float32")
        timed(lambda: model.train_on_batch(ids, y), args.warmup_steps)
        train_seconds = timed(lambda: model.train_on_batch(ids, y), args.steps)
        timed(lambda: model.predict_on_batch(ids), args.warmup_steps)
        predict_seconds = timed(lambda: model.predict_on_batch(ids), args.steps)

    result = {
        "config": args.config, "seq": args.seq, "batch": args.batch, "steps": args.steps,
        "mixed_precision": args.mixed_precision, "jit_compile": args.jit_compile,
        "backend": keras.backend.backend(), "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(), "parameters": int(model.count_params()),
        "train_samples_per_second": args.batch * args.steps / train_seconds,
        "predict_samples_per_second": args.batch * args.steps / predict_seconds,
    }
    name = f"bert_speed-{args.config}-{result['backend']}-{args.mixed_precision}-jit-{args.jit_compile}.json"
    out = ROOT / "benchmarks" / "results" / name
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.config} seq {args.seq} batch {args.batch} ({result['backend']}, {args.mixed_precision}, jit "
          f"{args.jit_compile}): train {result['train_samples_per_second']:.1f} samples/s, "
          f"predict {result['predict_samples_per_second']:.1f} samples/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
