"""`--model` values: `name=path` or a bare path (named by the file's stem). Pure Python, so the
options can check them before anything heavy is imported."""

import re
from pathlib import Path

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def parse_model_spec(spec):
    """(name, path) from `name=path` or `path`; ValueError when either part is unusable."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError("give a model file, or name=file")
    name, sep, path = spec.partition("=")
    if not sep:
        name, path = Path(spec).stem, spec
    if not path:
        raise ValueError(f"{name}=: no model file after the '='")
    if not NAME.match(name):
        raise ValueError(f"model name {name!r}: use letters, digits, '_', '.' and '-' (it goes into URLs), "
                         f"or name it with name=file")
    if Path(path).suffix != ".keras":
        raise ValueError(f"{path}: a model file must end in .keras")
    return name, path


def parse_model_specs(specs):
    """{name: path} for a list of `--model` values; ValueError on a repeated name."""
    models = {}
    for spec in specs:
        name, path = parse_model_spec(spec)
        if name in models:
            raise ValueError(f"model name {name!r} given twice ({models[name]} and {path}); name them with name=file")
        models[name] = path
    return models
