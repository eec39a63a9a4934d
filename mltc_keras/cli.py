"""Command line: argument parsing only; each command calls one function of the package."""

import argparse
import dataclasses
import json
import sys
import warnings

from mltc_keras.options import EmbedOptions, EvaluateOptions, PredictOptions, TrainOptions, option_fields
from mltc_keras.errors import InputError, Interrupted
from mltc_keras.options import CompareOptions, TuneThresholdsOptions


def _flag(name):
    return "--" + name.replace("_", "-")


def _add_fields(parser, fields):
    """One option per dataclass field; values not given stay out of the namespace (presets fill them)."""
    for f in fields:
        meta = f.metadata
        default = f.default if f.default is not dataclasses.MISSING else None
        text = meta.get("help", "")
        if default not in (None, False) and "(default:" not in text:
            text += f" (default: {default})"
        kwargs = {"dest": f.name, "default": argparse.SUPPRESS, "help": text}
        if f.type in (bool, "bool"):
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = {"int": int, "float": float}.get(f.type if isinstance(f.type, str) else f.type.__name__, str)
            for key in ("choices", "nargs", "required"):
                if key in meta:
                    kwargs[key] = meta[key]
        parser.add_argument(_flag(f.name), **kwargs)


def build_parser():
    from mltc_keras.models import ARCHS

    parser = argparse.ArgumentParser(prog="mltc-keras", description="Multi-label text classification with Keras 3.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model on a labelled CSV")
    _add_fields(train, option_fields(TrainOptions))
    seen = set()
    for name, arch in ARCHS.items():
        fields = dataclasses.fields(arch.Spec)
        notes = [f"{_flag(f.name)} (default here: {f.default})" for f in fields if f.name in seen]
        notes += [f"{_flag(key)} {value}" for key, value in arch.TRAINING_DEFAULTS.items()]
        note = "with this arch the defaults also include " + ", ".join(notes) if notes else None
        _add_fields(train.add_argument_group(f"--arch {name} options", note), [f for f in fields if f.name not in seen])
        seen.update(f.name for f in fields)

    evaluate = commands.add_parser("evaluate", help="metrics of a model on a labelled CSV")
    _add_fields(evaluate, option_fields(EvaluateOptions))
    tune = commands.add_parser("tune-thresholds", help="tune a model's thresholds on labelled data and store them in it")
    _add_fields(tune, option_fields(TuneThresholdsOptions))
    compare = commands.add_parser("compare", help="several models on the same labelled CSV, one table row each")
    _add_fields(compare, option_fields(CompareOptions))
    predict = commands.add_parser("predict", help="label sets and scores for texts or a CSV")
    _add_fields(predict, option_fields(PredictOptions))
    embed = commands.add_parser("embed", help="sentence embeddings of a CSV's texts by a pretrained encoder (.npy)")
    _add_fields(embed, option_fields(EmbedOptions))
    return parser


def train_options(values):
    """TrainOptions from explicit CLI values, over the preset, over the arch's defaults, over the global ones."""
    from mltc_keras.models import get_arch

    arch = get_arch(values.get("arch", "bilstm"))
    preset_name = values.get("preset")
    if preset_name is not None and preset_name not in arch.PRESETS:
        raise InputError(f"--preset {preset_name}: unknown for --arch {values.get('arch', 'bilstm')}; "
                         f"choose from {', '.join(arch.PRESETS)}")
    merged = {**arch.TRAINING_DEFAULTS, **(arch.PRESETS[preset_name] if preset_name else {}), **values}
    spec_names = {f.name for f in dataclasses.fields(arch.Spec)}
    model = {k: v for k, v in merged.items() if k in spec_names}
    common = {k: v for k, v in merged.items() if k in {f.name for f in dataclasses.fields(TrainOptions)}}
    return TrainOptions(**common, model=model)


def _run(args):
    values = {k: v for k, v in vars(args).items() if k != "command"}
    if args.command == "train":
        from mltc_keras.training.trainer import train

        result = train(train_options(values))
        print(f"saved {result.output} ({result.epochs_run} epochs, {result.seconds:.0f} s training, "
              f"{result.samples_per_second:.0f} samples/s); logs in {result.run_dir}")
    elif args.command == "evaluate":
        from mltc_keras.commands.apply import evaluate

        _, text = evaluate(EvaluateOptions(**values))
        print(text)
    elif args.command == "tune-thresholds":
        from mltc_keras.commands.tune_thresholds import format_tuning, tune_model

        opts = TuneThresholdsOptions(**values)
        print(format_tuning(tune_model(opts), opts))
    elif args.command == "compare":
        from mltc_keras.commands.compare import compare, format_comparison

        print(format_comparison(compare(CompareOptions(**values))))
    elif args.command == "predict":
        from mltc_keras.commands.apply import predict

        opts = PredictOptions(**values)
        results = predict(opts)
        if results is None:
            print(f"wrote {opts.output}")
        for text, result in results or []:
            print(json.dumps({"text": text, **result}))
    elif args.command == "embed":
        from mltc_keras.commands.apply import embed

        opts = EmbedOptions(**values)
        rows, dim = embed(opts)
        print(f"wrote {opts.output} ({rows} rows x {dim} float32)")


def main(argv=None):
    args = build_parser().parse_args(argv)
    warnings.formatwarning = lambda message, category, *rest: f"warning: {message}\n"
    try:
        _run(args)
    except (InputError, Interrupted) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
