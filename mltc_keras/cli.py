"""Command line: an argparse parser generated from the options dataclasses and the command table.

Nothing heavy is imported until a command runs, so `--help`, `--version` and mistyped options
answer at once.
"""

import argparse
import dataclasses
import sys
import warnings

from mltc_keras import __version__
from mltc_keras.allocator import keep_freed_memory
from mltc_keras.commands import COMMANDS
from mltc_keras.errors import InputError, Interrupted
from mltc_keras.options import TrainOptions, flag, option_fields, resolve, resolve_train_options, type_name

TYPES = {"int": int, "float": float}


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, like the commands' own."""

    def error(self, message):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def _add_fields(parser, fields):
    """One option per dataclass field; values not given stay out of the namespace (presets fill them)."""
    for f in fields:
        meta = f.metadata
        text = meta.get("help", "")
        if f.default not in (None, False, dataclasses.MISSING) and "(default:" not in text:
            text += f" (default: {f.default})"
        kwargs = {"dest": f.name, "default": argparse.SUPPRESS, "help": text}
        kind = type_name(f)
        if kind == "bool":
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = TYPES.get(kind, str)
            for key in ("choices", "nargs", "required", "action"):
                if key in meta:
                    kwargs[key] = meta[key]
        parser.add_argument(flag(f.name), **kwargs)


def _add_arch_groups(parser):
    from mltc_keras.models import ARCHS

    seen = set()
    for name, arch in ARCHS.items():
        fields = dataclasses.fields(arch.Spec)
        notes = [f"{flag(f.name)} (default here: {f.default})" for f in fields if f.name in seen]
        notes += [f"{flag(key)} {value}" for key, value in arch.training_defaults.items()]
        note = "with this arch the defaults also include " + ", ".join(notes) if notes else None
        _add_fields(parser.add_argument_group(f"--arch {name} options", note), [f for f in fields if f.name not in seen])
        seen.update(f.name for f in fields)


def build_parser():
    parser = Parser(prog="mltc-keras", description="Multi-label text classification with Keras 3.")
    parser.add_argument("--version", action="version", version=f"mltc-keras {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(name, help=command.help, description=command.help)
        _add_fields(sub, option_fields(command.options))
        if command.options is TrainOptions:
            _add_arch_groups(sub)
    return parser


def parse(argv=None):
    """(command name, its checked options) from the command line."""
    args = vars(build_parser().parse_args(argv))
    name = args.pop("command")
    if name == "train":
        return name, resolve_train_options(args)
    return name, resolve(COMMANDS[name].options, args)


def main(argv=None):
    warnings.formatwarning = lambda message, category, *rest: f"warning: {message}\n"
    try:
        try:
            name, opts = parse(argv)
        except SystemExit as stop:  # argparse: --help, --version, or a usage error it already printed
            return stop.code
        keep_freed_memory()
        module = COMMANDS[name].load()
        print(module.format(module.run(opts)))
    except (InputError, Interrupted) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
