"""Every command's options: one dataclass each, their checks, and how train's are resolved.

A field's metadata holds its `help`, and the rules its values must keep: `min`/`max` (inclusive),
`above`/`below` (exclusive), `choices`, or `check` (a function raising ValueError). `validate`
applies them to every field, so each option is checked here, before any work, with one error
convention: an InputError naming the flag. The CLI and `mltc_keras.train` both come through here.
Train's options resolve as the global defaults < the arch's `training_defaults` < a `--preset` <
the options given.
"""

import math
import os
from dataclasses import dataclass, field, fields

from mltc_keras.errors import InputError, reraise

# what an "exists" field's error suggests when its file is missing
MADE_BY_TRAIN = "train one with `mltc-keras train` or check the path"
CHECK_THE_PATH = "check the path"

DEFAULT_TRAIN = "data/goemotions/train.csv"
DEFAULT_VALID = "data/goemotions/valid.csv"


def runtime_option():
    return field(default="auto", metadata={
        "help": "what computes the probabilities: keras, onnx (onnxruntime on an ONNX export of the model, made "
                "once and cached by the file's hash) or auto (onnx where it is faster on CPU for the model's arch and "
                "the export is cached; one --runtime onnx run makes it)",
        "choices": ("auto", "keras", "onnx")})


@dataclass
class DataOptions:
    text_column: str = field(default="text", metadata={"help": "column holding the texts"})
    label_columns: str = field(default=None, metadata={
        "help": "comma list of 0/1 label columns (default: every column but the text column)"})
    labels_column: str = field(default=None, metadata={
        "help": "instead of 0/1 columns: one column of label names separated by --label-sep"})
    label_sep: str = field(default=",", metadata={"help": "separator inside --labels-column"})
    drop_empty: bool = field(default=False, metadata={"help": "drop rows with empty texts (with a warning) instead of failing"})

    def reader_kwargs(self, expected_labels=None):
        """These options as keyword arguments of `data.read_labelled_csv`."""
        return dict(text_column=self.text_column,
                    label_columns=self.label_columns.split(",") if self.label_columns else None,
                    labels_column=self.labels_column, label_sep=self.label_sep, drop_empty=self.drop_empty,
                    expected_labels=expected_labels)


@dataclass
class TrainOptions(DataOptions):
    arch: str = field(default="bilstm", metadata={"help": "model family (bilstm, bag, embed-head, bert); each one's options are listed in its group below"})
    preset: str = field(default=None, metadata={
        "help": "a named set of model and training values ('seed': the original spec); explicit options win"})
    train: str = field(default=DEFAULT_TRAIN, metadata={"help": "training CSV", "exists": CHECK_THE_PATH})
    valid: str = field(default=None, metadata={"exists": CHECK_THE_PATH,
        "help": f"validation CSV (default: {DEFAULT_VALID} with the default --train, else a stratified "
                "split of --train)"})
    valid_fraction: float = field(default=0.1, metadata={"above": 0, "below": 1, "help": "share of --train held out when there is no --valid"})
    max_length: int = field(default=None, metadata={"min": 1, "max": 100_000, "help":
        "tokens per text; longer texts are cut (default: from the training texts, the length that reads 99%% of them "
        "whole, in steps of 16, from 32 up to 512 or the encoder's limit)"})
    epochs: int = field(default=15, metadata={"min": 1, "max": 100_000, "help": "maximum epochs (early stopping usually ends sooner)"})
    batch_size: int = field(default=64, metadata={"min": 1, "max": 1 << 20, "help": "global batch size (split across GPUs)"})
    learning_rate: float = field(default=None, metadata={"above": 0, "max": 10, "help":
        "learning rate (the peak one with --warmup or a decay); default: the arch's (bilstm 2e-3, bag and embed-head "
        "1e-3, bert by the encoder's width: 1e-4 up to 384 hidden units, 5e-5 up to 512, else 2e-5)"})
    loss: str = field(default="bce", metadata={
        "help": "bce; focal (sigmoid focal loss); asl (asymmetric loss: full-weight positives, focused and "
                "shifted negatives); weighted-bce (each label's positives weighted by its negatives/positives in "
                "train, capped by --max-pos-weight)", "choices": ("bce", "focal", "asl", "weighted-bce")})
    label_smoothing: float = field(default=0.0, metadata={"min": 0, "below": 1, "help": "label smoothing (every loss)"})
    focal_gamma: float = field(default=2.0, metadata={"min": 0, "max": 100, "help": "focal loss focusing exponent"})
    focal_alpha: float = field(default=0.25, metadata={"min": 0, "max": 1, "help": "focal loss weight of the positive class"})
    asl_gamma_neg: float = field(default=4.0, metadata={"min": 0, "max": 100, "help": "asl's focusing exponent on negatives"})
    asl_clip: float = field(default=0.05, metadata={"min": 0, "below": 1, "help":
        "asl's probability shift: a negative scored under it adds no loss"})
    max_pos_weight: float = field(default=50.0, metadata={"min": 1, "max": 1e6, "help": "cap on weighted-bce's per-label positive weight"})
    clipnorm: float = field(default=None, metadata={"above": 0, "max": 1e6, "help": "clip each gradient to this norm (default: no clipping)"})
    optimizer: str = field(default="adam", metadata={
        "help": "adam; adamw (decoupled --weight-decay, not applied to biases or LayerNorm/BatchNorm scales)",
        "choices": ("adam", "adamw")})
    weight_decay: float = field(default=0.01, metadata={"min": 0, "max": 10, "help": "AdamW's weight decay"})
    lr_schedule: str = field(default="constant", metadata={
        "help": "constant (then the rate halves when validation loss stalls); linear or cosine decay to 0 after "
                "the warm-up", "choices": ("constant", "linear", "cosine")})
    plateau: int = field(default=None, metadata={"min": 0, "max": 100_000, "help":
        "with a constant rate: epochs of stalled validation loss before the rate halves (default: 1, raised with "
        "the epochs that --min-updates adds); 0: never"})
    warmup: float = field(default=0.0, metadata={"min": 0, "max": 1e9, 
        "help": "linear warm-up of the learning rate: a fraction of all updates (0.1) or a number of updates (500)"})
    accumulate: int = field(default=1, metadata={"min": 1, "max": 100_000, 
        "help": "average the gradients of this many batches per update: the update of an N-times larger batch "
                "without its memory"})
    mixed_precision: str = field(default="off", metadata={
        "help": "compute in bf16 or fp16 with float32 weights (GPU/TPU); the output layer stays float32",
        "choices": ("off", "bf16", "fp16")})
    jit_compile: str = field(default="auto", metadata={
        "help": "XLA compilation of the train step: auto (Keras decides per backend and model), on, off",
        "choices": ("auto", "on", "off")})
    output_bias: str = field(default="prior", metadata={
        "help": "start each label's output bias at the log-odds of its training frequency (prior) or at 0 (zero)",
        "choices": ("prior", "zero")})
    tasks: str = field(default=None, metadata={
        "help": "multi-task heads: 'emotion=joy,anger;sentiment=positive,negative' or a YAML file (task: [labels]); "
                "each task gets its own sigmoid head and metrics; every label belongs to one task"})
    task_weights: str = field(default=None, metadata={
        "help": "weights of the tasks' losses, e.g. 'emotion=1,sentiment=0.5' (default: 1 each)"})
    patience: int = field(default=3, metadata={"min": 1, "max": 100_000, "help": "epochs without a better --monitor value before stopping"})
    monitor: str = field(default="pr_auc", metadata={
        "help": "the validation figure early stopping, the best checkpoint and the restored weights follow: pr_auc "
                "(macro PR-AUC) and auc (macro ROC-AUC) need no threshold; micro_f1 and macro_f1 are at 0.5, so "
                "they stay 0 while rare labels' probabilities are below it; loss",
        "choices": ("pr_auc", "auc", "micro_f1", "macro_f1", "loss")})
    min_updates: int = field(default=1000, metadata={"min": 0, "max": 10**8,
        "help": "when --epochs is not given, train a small data set for more epochs, up to this many optimizer "
                "updates, with --patience scaled alike (0: off)"})
    output: str = field(default=None, metadata={"help": "model file to write (default: models/<arch>.keras)"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing --output"})
    run_name: str = field(default=None, metadata={"help": "name of the run's folder under --logs-dir (default: the output's stem)"})
    logs_dir: str = field(default="logs", metadata={"help": "TensorBoard logs, CSV history, checkpoints, resume state"})
    cache_dir: str = field(default=None, metadata={"help": "token id cache (default: $MLTC_KERAS_CACHE or ~/.cache/mltc-keras)"})
    strategy: str = field(default="auto", metadata={
        "help": "auto: MirroredStrategy when TensorFlow sees more than one GPU; mirrored; none",
        "choices": ("auto", "mirrored", "none")})
    distribution: str = field(default="none", metadata={
        "help": "data-parallel: keras.distribution over every device of --num-processes processes, each reading "
                "its share of every batch, process 0 saving the model (JAX backend only); none",
        "choices": ("none", "data-parallel")})
    coordinator: str = field(default=None, metadata={
        "help": "process 0's HOST:PORT, the same in every process of a --distribution data-parallel job "
                "(default: $KERAS_DISTRIBUTION_JOB_ADDRESSES)"})
    num_processes: int = field(default=1, metadata={"min": 1, "max": 100_000,
        "help": "processes in the --distribution data-parallel job, one per machine (or per GPU)"})
    process_id: int = field(default=0, metadata={"min": 0, "max": 100_000,
        "help": "this process's number in the job, 0 to --num-processes - 1; 0 writes the model"})
    seed: int = field(default=42, metadata={"min": 0, "max": 2**32 - 1, "help": "seed for weights, shuffling and the validation split"})
    model: object = field(default=None, metadata={"cli": False})  # the arch's Spec


@dataclass
class EvaluateOptions(DataOptions):
    model: str = field(default=None, metadata={"help": "model file (.keras)", "required": True, "exists": MADE_BY_TRAIN})
    data: str = field(default="data/goemotions/test.csv", metadata={"help": "labelled CSV to evaluate on", "exists": CHECK_THE_PATH})
    threshold: float = field(default=None, metadata={"min": 0, "max": 1, "help": "one threshold for every label (default: the model's tuned ones)"})
    json: str = field(default=None, metadata={"help": "also write the metrics as JSON to this file"})
    batch_size: int = field(default=256, metadata={"min": 1, "max": 1 << 20, "help": "prediction batch size"})
    runtime: str = runtime_option()
    per_label_csv: str = field(default=None, metadata={"help": "also write the per-label table as CSV to this file"})
    report: str = field(default=None, metadata={
        "help": "also write plots (PNG) and an offline index.html with the tables into this folder"})
    overwrite: bool = field(default=False, metadata={"help": "replace existing --json, --per-label-csv or --report outputs"})


@dataclass
class TuneThresholdsOptions(DataOptions):
    model: str = field(default=None, metadata={"help": "model file (.keras) whose thresholds are tuned", "required": True,
                                                "exists": MADE_BY_TRAIN})
    data: str = field(default=None, metadata={"help": "labelled CSV to tune on: a validation split, not the test one",
                                              "required": True, "exists": CHECK_THE_PATH})
    objective: str = field(default="per-label-f1", metadata={
        "help": "per-label-f1: each label its own best threshold; macro-f1 / micro-f1: one threshold shared by "
                "every label, the best for that average", "choices": ("per-label-f1", "macro-f1", "micro-f1")})
    grid: int = field(default=91, metadata={"min": 2, "max": 100_000, "help": "number of candidate thresholds, evenly spaced over 0.05..0.95"})
    min_precision: float = field(default=0.1, metadata={"min": 0, "max": 1, "help":
        "per-label-f1: a label whose precision at its own best threshold is under this takes the shared micro-F1 "
        "threshold (0: every label its own)"})
    output: str = field(default=None, metadata={
        "help": "write the tuned model here (default: replace --model, keeping the original as <stem>.bak.keras)"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing --output or backup file"})
    batch_size: int = field(default=256, metadata={"min": 1, "max": 1 << 20, "help": "prediction batch size"})


@dataclass
class CompareOptions(DataOptions):
    models: list = field(default=None, metadata={"help": "model files (.keras) to compare", "nargs": "+", "required": True,
                                                  "exists": MADE_BY_TRAIN})
    data: str = field(default="data/goemotions/test.csv", metadata={"help": "labelled CSV to compare them on", "exists": CHECK_THE_PATH})
    json: str = field(default=None, metadata={"help": "also write the table as JSON to this file"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing --json"})
    batch_size: int = field(default=256, metadata={"min": 1, "max": 1 << 20, "help": "prediction batch size"})


@dataclass
class EnsembleOptions(DataOptions):
    models: list = field(default=None, metadata={"help": "member model files (.keras), any archs, the same labels",
                                                 "nargs": "+", "required": True,
                                                 "exists": MADE_BY_TRAIN})
    valid: str = field(default=None, metadata={
        "help": "labelled validation CSV: the weights (with --weights auto) and the thresholds are fitted on it",
        "required": True, "exists": CHECK_THE_PATH})
    output: str = field(default=None, metadata={"help": "the ensemble's model file (.keras)", "required": True})
    weights: str = field(default="auto", metadata={
        "help": "auto: the mix of members with the best tuned macro-F1 on --valid (a grid over the simplex); "
                "equal: the plain mean", "choices": ("auto", "equal")})
    objective: str = field(default="per-label-f1", metadata={
        "help": "how the ensemble's thresholds are tuned on --valid (as in tune-thresholds)",
        "choices": ("per-label-f1", "macro-f1", "micro-f1")})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing --output"})
    batch_size: int = field(default=256, metadata={"min": 1, "max": 1 << 20, "help": "prediction batch size"})


@dataclass
class PredictOptions:
    model: str = field(default=None, metadata={"help": "model file (.keras)", "required": True, "exists": MADE_BY_TRAIN})
    text: list = field(default=None, metadata={"help": "text(s) to classify", "nargs": "+"})
    input: str = field(default=None, metadata={"help": "CSV (.csv, .csv.gz, ...) or Parquet (.parquet) file of texts to classify, read a chunk at a time",
                                               "exists": CHECK_THE_PATH})
    output: str = field(default=None, metadata={"help": "CSV or Parquet (.parquet) file to write: the input rows (or the --text texts) plus one score column per label and the labels"})
    text_column: str = field(default="text", metadata={"help": "column of --input holding the texts"})
    drop_empty: bool = field(default=False, metadata={"help": "drop --input rows with empty texts instead of failing"})
    threshold: float = field(default=None, metadata={"min": 0, "max": 1, "help": "one threshold for every label (default: the model's tuned ones)"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing --output"})
    batch_size: int = field(default=256, metadata={"min": 1, "max": 1 << 20, "help": "prediction batch size"})
    runtime: str = runtime_option()
    engine: str = field(default="local", metadata={
        "help": "local: this process; ray: a Ray Data pipeline (pip install 'mltc-keras[ray]') over an --input file "
                "or folder, written as a folder of part files", "choices": ("local", "ray")})
    address: str = field(default=None, metadata={"help": "with --engine ray: the Ray cluster to run on (default: a "
                                                         "local Ray on this machine's CPUs)"})
    workers: int = field(default=None, metadata={"min": 1, "max": 10_000, "help": "with --engine ray: model-loading "
                                                 "actors (default: one per CPU Ray has, less one left for reading and writing)"})


@dataclass
class ExplainOptions:
    model: str = field(default=None, metadata={"help": "model file (.keras)", "required": True, "exists": MADE_BY_TRAIN})
    text: list = field(default=None, metadata={"help": "text(s) to explain", "nargs": "+", "required": True})
    label: list = field(default=None, metadata={
        "help": "label(s) to explain (default: the predicted ones, or the top-scored one when none is)", "nargs": "+"})
    method: str = field(default="occlusion", metadata={
        "help": "occlusion: the drop in the label's probability when the word is deleted (any model); gradients: "
                "integrated gradients on the token embeddings; attention: bilstm's attention weights (where it "
                "looked, not an attribution)", "choices": ("occlusion", "gradients", "attention")})
    steps: int = field(default=32, metadata={"min": 1, "max": 10_000, "help": "integration steps of --method gradients"})
    html: str = field(default=None, metadata={"help": "also write an offline HTML page, words shaded per label"})
    json: str = field(default=None, metadata={"help": "also write the explanations as JSON"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing --html or --json"})


@dataclass
class EmbedOptions:
    pretrained: str = field(default=None, metadata={
        "help": "the encoder: a Hugging Face checkpoint folder, hf://org/name or id, or a keras-hub preset name",
        "required": True})
    input: str = field(default=None, metadata={"help": "CSV of texts to embed", "required": True, "exists": CHECK_THE_PATH})
    output: str = field(default=None, metadata={
        "help": "the .npy file to write: float32, one row per --input row, one column per hidden unit",
        "required": True})
    text_column: str = field(default="text", metadata={"help": "column of --input holding the texts"})
    drop_empty: bool = field(default=False, metadata={
        "help": "drop --input rows with empty texts instead of failing (rows of --output then follow the kept rows)"})
    pooling: str = field(default="mean", metadata={"help": "mean (of the real tokens) or cls (first token)"})
    layers: str = field(default="last", metadata={
        "help": "hidden states to pool and concatenate: last, all, or indices such as 0,6 (0: embedding output)"})
    normalize: bool = field(default=False, metadata={"help": "scale each pooled layer to unit length"})
    window: int = field(default=0, metadata={"min": 0, "max": 100_000, "help":
        "read texts in windows of this many tokens and average their vectors, weighted by tokens (as embed-head "
        "does, 128 by default there); 0: one pass"})
    max_length: int = field(default=128, metadata={"min": 1, "max": 100_000, "help": "tokens per text; longer texts are cut"})
    cache_dir: str = field(default=None, metadata={"help": "embedding cache (default: $MLTC_KERAS_CACHE or ~/.cache/mltc-keras)"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing --output"})


def _check_model_specs(specs):
    from mltc_keras.serving.specs import parse_model_specs

    parse_model_specs(specs)


@dataclass
class ExportOptions:
    model: str = field(default=None, metadata={"help": "model file (.keras)", "required": True, "exists": MADE_BY_TRAIN})
    format: str = field(default=None, metadata={
        "help": "saved_model: a TF SavedModel taking raw strings (tokenizer in the graph, TensorFlow Text ops); "
                "onnx: model.onnx taking token ids, beside tokenizer.json and labels.json",
        "choices": ("saved_model", "onnx"), "required": True})
    output: str = field(default=None, metadata={"help": "folder to write (new or empty)", "required": True})
    overwrite: bool = field(default=False, metadata={"help": "replace an --output folder an earlier export wrote"})


@dataclass
class ServeOptions:
    model: list = field(default=None, metadata={
        "help": "a model to serve: name=file.keras, or file.keras (named by its stem); repeat for more",
        "action": "append", "required": True, "check": _check_model_specs})
    host: str = field(default="127.0.0.1", metadata={"help": "address to listen on (0.0.0.0: every interface)"})
    port: int = field(default=8080, metadata={"min": 0, "max": 65535, "help": "port to listen on (0: any free one, logged)"})
    max_batch_size: int = field(default=256, metadata={"min": 1, "max": 1 << 16,
        "help": "texts that close a dynamic batch at once (1: every request predicted alone, no batching)"})
    max_wait_ms: float = field(default=5.0, metadata={"min": 0, "max": 60_000,
        "help": "how long the first request of a batch waits for others to join it"})
    max_texts: int = field(default=256, metadata={"min": 1, "max": 1 << 20, "help": "most texts one request may hold (413 beyond)"})
    max_body_bytes: int = field(default=1 << 20, metadata={"min": 64, "max": 1 << 31, "help": "largest request body (413 beyond)"})
    batch_size: int = field(default=64, metadata={"min": 1, "max": 1 << 20,
        "help": "prediction batch size inside one batched call (its texts go in order of length)"})
    drain_timeout: float = field(default=30.0, metadata={"above": 0, "max": 86_400,
        "help": "on SIGTERM, seconds to let requests in flight finish before they are cut"})
    access_log: bool = field(default=True, metadata={"help": "one JSON log line per request on stderr"})
    runtime: str = runtime_option()


def option_fields(cls):
    return [f for f in fields(cls) if f.metadata.get("cli", True)]


def flag(name):
    return "--" + name.replace("_", "-")


def type_name(f):
    """A dataclass field's type as a name ("int", "float", "str", "bool", "list")."""
    return f.type if isinstance(f.type, str) else f.type.__name__


def _bounds(meta):
    parts = [f">= {meta['min']}" if "min" in meta else None, f"> {meta['above']}" if "above" in meta else None,
             f"<= {meta['max']}" if "max" in meta else None, f"< {meta['below']}" if "below" in meta else None]
    return " and ".join(p for p in parts if p)


def check_value(f, value):
    """InputError unless `value` keeps the rules of field `f`; None passes where None is the default."""
    meta, kind = f.metadata, type_name(f)
    if value is None and f.default is None:
        return
    shown = f"{flag(f.name)} {value}"
    if kind in ("int", "float"):
        number_ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number_ok or (kind == "int" and not isinstance(value, int)):
            raise InputError(f"{shown}: must be a {'whole number' if kind == 'int' else 'number'}")
        if not math.isfinite(value):
            raise InputError(f"{shown}: must be a finite number")
        if (value < meta.get("min", -math.inf) or value <= meta.get("above", -math.inf)
                or value > meta.get("max", math.inf) or value >= meta.get("below", math.inf)):
            raise InputError(f"{shown}: must be {_bounds(meta)}")
    elif kind == "bool" and not isinstance(value, bool):
        raise InputError(f"{shown}: must be true or false")
    elif kind == "str" and not isinstance(value, str):
        raise InputError(f"{shown}: must be a string")
    elif kind == "list" and not (isinstance(value, (list, tuple)) and value):
        raise InputError(f"{flag(f.name)}: give at least one value")
    if "choices" in meta and value not in meta["choices"]:
        raise InputError(f"{shown}: choose from {', '.join(meta['choices'])}")
    if "check" in meta:
        with reraise(flag(f.name), value):
            meta["check"](value)


def validate(opts):
    """`opts` (an options dataclass or an arch Spec) with every field checked; returns it."""
    for f in option_fields(type(opts)):
        if f.metadata.get("required") and getattr(opts, f.name) is None:
            raise InputError(f"{flag(f.name)}: required")
        check_value(f, getattr(opts, f.name))
    for f in option_fields(type(opts)):  # values first; then the files, before any import of Keras
        if "exists" in f.metadata and getattr(opts, f.name) is not None:
            check_exists(f, getattr(opts, f.name))
    return opts


def check_exists(f, value):
    """InputError when a path `value` (or one of a list) of an "exists" field `f` is missing."""
    for path in value if isinstance(value, (list, tuple)) else [value]:
        if not os.path.exists(path):
            raise InputError(f"{flag(f.name)} {path}: no such file; {f.metadata['exists']}")


def _owners(field_name):
    from mltc_keras.models import ARCHS

    return [name for name, arch in ARCHS.items() if field_name in {f.name for f in fields(arch.Spec)}]


def resolve_train_options(values):
    """TrainOptions (with the arch's Spec in `.model`) from the options given by name, checked."""
    from mltc_keras.models import ARCHS

    values = dict(values)
    arch_name = values.get("arch", TrainOptions.arch)
    if arch_name not in ARCHS:
        raise InputError(f"--arch {arch_name}: unknown model family; choose from {', '.join(ARCHS)}")
    arch = ARCHS[arch_name]
    spec_names = {f.name for f in fields(arch.Spec)}
    common_names = {f.name for f in option_fields(TrainOptions)}
    for name in values:
        if name in spec_names or name in common_names:
            continue
        owners = _owners(name)
        if owners:
            raise InputError(f"{flag(name)}: an option of --arch {' and --arch '.join(owners)}, not of --arch {arch_name}")
        raise InputError(f"{flag(name)}: not an option of train")
    preset_name = values.get("preset")
    if preset_name is not None and preset_name not in arch.presets:
        raise InputError(f"--preset {preset_name}: unknown for --arch {arch_name}; "
                         f"choose from {', '.join(arch.presets) or 'none (it has no presets)'}")
    merged = {**arch.training_defaults, **(arch.presets[preset_name] if preset_name else {}), **values}
    if "min_updates" not in values and "epochs" in {**(arch.presets[preset_name] if preset_name else {}), **values}:
        merged["min_updates"] = 0  # epochs someone chose (on the command line or in a preset) are kept
    spec = validate(arch.Spec(**{k: v for k, v in merged.items() if k in spec_names}))
    with reraise("--arch", arch_name):
        arch.check(spec)
    opts = validate(TrainOptions(**{k: v for k, v in merged.items() if k in common_names}, model=spec))
    if "weight_decay" in values and opts.optimizer != "adamw":
        raise InputError(f"--weight-decay {opts.weight_decay}: applies to --optimizer adamw only "
                         f"(this run uses {opts.optimizer})")
    if opts.task_weights and not opts.tasks:
        raise InputError("--task-weights: also give --tasks")
    if opts.distribution == "none" and (opts.coordinator or opts.num_processes > 1 or opts.process_id):
        raise InputError("--coordinator, --num-processes and --process-id: also give --distribution data-parallel")
    if opts.distribution != "none" and opts.strategy == "mirrored":
        raise InputError("--strategy mirrored: TensorFlow's, and --distribution data-parallel is JAX's; choose one")
    return opts


def resolve(cls, values):
    """`cls(**values)` checked: the options of any command but train."""
    unknown = set(values) - {f.name for f in option_fields(cls)}
    if unknown:
        raise InputError(f"{', '.join(sorted(flag(n) for n in unknown))}: not an option of this command")
    return validate(cls(**values))
