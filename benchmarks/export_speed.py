"""CPU prediction throughput of each runtime on one labelled split, tokenization included, with
the macro-F1 each gets at the model's thresholds and its peak RSS.

Runtimes, each timed in a process of its own (so the RSS is its own):
  keras         mltc_keras.load(M).predict_proba (TensorFlow backend)
  mltc-onnx     mltc_keras.load(M, runtime="onnx").predict_proba (Keras loaded, onnxruntime predicts;
                its cached export is made beforehand, and that first load is timed on its own)
  saved_model   the `mltc-keras export --format saved_model` graph in TensorFlow alone (raw strings in)
  onnx          the `--format onnx` folder in onnxruntime + tokenizers alone, all graph optimisations
  onnx-noopt    the same with onnxruntime's graph optimisations off
  onnx-int8     the same after onnxruntime's dynamic int8 quantisation of the weights
Texts go in batches of --batch-size, in order of length (as predict does). Each runtime first makes
one untimed pass over the split, so the timed passes (the fastest of --repeats counts) are the steady
state a server sees: no tracing of new padded lengths, which costs Keras and TensorFlow seconds in a
cold process.

Usage: python benchmarks/export_speed.py --models models/bag.keras models/bilstm.keras ...
         [--data data/goemotions/test.csv] [--out benchmarks/results/export]
Writes OUT/<model stem>.json per model and prints one markdown table.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RUNTIMES = ["keras", "mltc-onnx", "saved_model", "onnx", "onnx-noopt", "onnx-int8"]


def read_texts(data):
    import pandas as pd

    return pd.read_csv(data)["text"].fillna("").astype(str).tolist()


def batches_by_length(lengths, batch_size):
    order = np.argsort(lengths, kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def predictor_fn(model, runtime):
    import mltc_keras

    predictor = mltc_keras.load(model, runtime="onnx" if runtime == "mltc-onnx" else "keras")
    return lambda texts, batch_size: predictor.predict_proba(texts, batch_size=batch_size)


def saved_model_fn(folder):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (the graph's tokenizer ops)

    serve = tf.saved_model.load(str(folder)).signatures["serving_default"]

    def predict(texts, batch_size):
        rows = []
        for batch in batches_by_length([len(t) for t in texts], batch_size):
            rows.append((batch, serve(texts=tf.constant([texts[i] for i in batch]))["probabilities"].numpy()))
        out = np.empty((len(texts), rows[0][1].shape[1]), dtype="float32")
        for batch, proba in rows:
            out[batch] = proba
        return out

    return predict


def onnx_fn(folder, model_file, optimize):
    import onnxruntime
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    options = onnxruntime.SessionOptions()
    if not optimize:
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
    tokenizer.no_padding()

    def predict(texts, batch_size):
        encodings = tokenizer.encode_batch(texts)
        out = None
        for batch in batches_by_length([len(e.ids) for e in encodings], batch_size):
            width = max(len(encodings[i].ids) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                ids[row, :len(encodings[i].ids)] = encodings[i].ids
            proba = session.run(["probabilities"], {"input_ids": ids})[0]
            if out is None:
                out = np.empty((len(texts), proba.shape[1]), dtype="float32")
            out[batch] = proba
        return out

    return predict


def child(args):
    """One (model, runtime) measurement; prints its JSON, saves its probabilities."""
    texts = read_texts(args.data)
    exports = Path(args.exports)
    if args.runtime in ("keras", "mltc-onnx"):
        predict = predictor_fn(args.model, args.runtime)
    elif args.runtime == "saved_model":
        predict = saved_model_fn(exports / "saved_model")
    else:
        model_file = exports / "onnx" / ("model-int8.onnx" if args.runtime == "onnx-int8" else "model.onnx")
        predict = onnx_fn(exports / "onnx", model_file, optimize=args.runtime != "onnx-noopt")
    predict(texts, args.batch_size)  # warm-up: one pass traces every padded length (Keras, TensorFlow)
    seconds = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        proba = predict(texts, args.batch_size)
        seconds.append(time.perf_counter() - started)
    seconds = min(seconds)  # the least disturbed pass on a shared machine
    np.save(exports / f"{args.runtime}.npy", proba)
    print(json.dumps({"runtime": args.runtime, "seconds": seconds, "texts_per_s": len(texts) / seconds,
                      "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb():
    """This process's peak resident set (VmHWM: ru_maxrss would include the parent's at the fork)."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def prepare(model, exports):
    """The SavedModel, the ONNX folder and its int8 quantisation, through the export command."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from mltc_keras.commands import export
    from mltc_keras.options import ExportOptions

    seconds = {}
    for fmt in ("saved_model", "onnx"):
        started = time.perf_counter()
        export.run(ExportOptions(model=str(model), format=fmt, output=str(exports / fmt)))
        seconds[fmt] = time.perf_counter() - started
    quantize_dynamic(str(exports / "onnx" / "model.onnx"), str(exports / "onnx" / "model-int8.onnx"),
                     weight_type=QuantType.QInt8)
    return seconds


def macro_f1(y, proba, thresholds):
    from sklearn.metrics import f1_score

    return float(f1_score(y, proba >= np.asarray(thresholds), average="macro", zero_division=0))


def measure(model, args):
    import pandas as pd

    import mltc_keras

    predictor = mltc_keras.load(model)
    labels, thresholds = predictor.labels, predictor.model.thresholds
    started = time.perf_counter()
    mltc_keras.load(model, runtime="onnx")  # fills the runtime's cache, so mltc-onnx times predicting only
    first_use_seconds = time.perf_counter() - started
    y = pd.read_csv(args.data)[labels].to_numpy()
    with tempfile.TemporaryDirectory() as tmp:
        exports = Path(tmp)
        export_seconds = prepare(model, exports)
        rows = []
        for runtime in args.runtimes:
            done = subprocess.run([sys.executable, __file__, "--child", "--model", str(model), "--runtime", runtime,
                                   "--data", args.data, "--exports", tmp, "--batch-size", str(args.batch_size), "--repeats", str(args.repeats)],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                rows.append({"runtime": runtime, "error": done.stderr.strip().splitlines()[-1]})
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            row["proba"] = np.load(exports / f"{runtime}.npy")
            rows.append(row)
    reference = rows[0]["proba"]
    for row in rows:
        if "proba" in row:
            proba = row.pop("proba")
            row["macro_f1"] = macro_f1(y, proba, thresholds)
            row["max_abs_diff_vs_keras"] = float(np.abs(proba - reference).max())
            row["vs_keras"] = row["texts_per_s"] / rows[0]["texts_per_s"]
    return {"model": str(model), "arch": predictor.model.arch, "data": args.data, "texts": len(y),
            "batch_size": args.batch_size, "repeats": args.repeats, "export_seconds": export_seconds,
            "onnx_runtime_first_load_seconds": first_use_seconds, "runtimes": rows}


def table(results):
    lines = ["| arch | runtime | texts/s | x Keras | macro-F1 | max abs diff | peak RSS MB |",
             "|---|---|---|---|---|---|---|"]
    for result in results:
        for row in result["runtimes"]:
            if "error" in row:
                lines.append(f"| {result['arch']} | {row['runtime']} | failed: {row['error'][:80]} | | | | |")
                continue
            lines.append(f"| {result['arch']} | {row['runtime']} | {row['texts_per_s']:,.0f} | {row['vs_keras']:.2f} | "
                         f"{row['macro_f1']:.4f} | {row['max_abs_diff_vs_keras']:.1e} | {row['peak_rss_mb']:,.0f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+")
    parser.add_argument("--data", default="data/goemotions/test.csv")
    parser.add_argument("--out", default="benchmarks/results/export")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--runtimes", nargs="+", choices=RUNTIMES, default=RUNTIMES, help="keras first: the others are compared with it")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--runtime", help=argparse.SUPPRESS)
    parser.add_argument("--exports", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for model in args.models:
        result = measure(model, args)
        (out / f"{Path(model).stem}.json").write_text(json.dumps(result, indent=2) + "\n")
        results.append(result)
        print(table([result]), flush=True)
    print(table(results))


if __name__ == "__main__":
    main()
