"""Every option is checked before any work: out-of-range, zero, negative, NaN and huge values give
exit 2, one `error:` line, no traceback, and nothing written (property-based, over all options)."""

import dataclasses
import math
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mltc_keras import cli
from mltc_keras.commands import COMMANDS
from mltc_keras.models import ARCHS
from mltc_keras.options import check_value, flag, option_fields, type_name

# what each command needs besides the option under test (never read: checks come first)
REQUIRED = {"train": [], "evaluate": ["--model", "m.keras"], "tune-thresholds": ["--model", "m.keras", "--data", "v.csv"],
            "compare": ["--models", "m.keras"], "predict": ["--model", "m.keras", "--text", "hi"],
            "embed": ["--pretrained", "enc", "--input", "in.csv", "--output", "out.npy"],
            "serve": ["--model", "m.keras"], "explain": ["--model", "m.keras", "--text", "hi"],
            "ensemble": ["--models", "a.keras", "b.keras", "--valid", "v.csv", "--output", "e.keras"]}


def _numeric(fields):
    return [f for f in fields if type_name(f) in ("int", "float")]


def numeric_options():
    """(command, extra args, field) for every numeric option of every command and arch."""
    cases = [(name, REQUIRED[name], f) for name, command in COMMANDS.items()
             for f in _numeric(option_fields(command.options))]
    for arch_name, arch in ARCHS.items():
        cases += [("train", ["--arch", arch_name], f) for f in _numeric(dataclasses.fields(arch.Spec))]
    return cases


CASES = numeric_options()


def invalid_values(f):
    """Values outside the field's declared range, NaN and infinities, and huge and zero and negative
    values where the range excludes them."""
    meta, is_int = f.metadata, type_name(f) == "int"
    low = meta.get("min", meta.get("above"))
    high = meta.get("max", meta.get("below"))
    values = []
    if low is not None:
        values += [low - 1] + ([low] if "above" in meta else [])
    if high is not None:
        values += [high + 1] + ([high] if "below" in meta else []) + [10 ** 12]
    values += [0, -1, -4] if low is not None and low > 0 else [-1e-9 - abs(low or 0) - 1] if low is not None else []
    if is_int:
        return [int(v) for v in values if math.isfinite(v)] + ["1.5", "nan"]
    return values + [math.nan, math.inf, -math.inf]


def test_every_numeric_option_declares_its_range():
    undeclared = [f"{command} {flag(f.name)}" for command, _, f in CASES
                  if not ({"min", "above"} & set(f.metadata) and {"max", "below"} & set(f.metadata))]
    assert not undeclared


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_out_of_range_values_are_refused_in_one_line(data, tmp_path_factory, capsys, monkeypatch):
    command, extra, f = data.draw(st.sampled_from(CASES), label="option")
    value = data.draw(st.sampled_from(invalid_values(f)), label="value")
    folder = tmp_path_factory.mktemp("opt")
    monkeypatch.chdir(folder)
    capsys.readouterr()
    code = cli.main([command, *extra, flag(f.name), str(value)])
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2, (command, flag(f.name), value, err)
    assert len(lines) == 1 and lines[0].startswith("error:") and flag(f.name) in lines[0], lines
    assert "Traceback" not in err and out == ""
    assert list(folder.iterdir()) == []


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_values_inside_the_range_pass(data):
    _, _, f = data.draw(st.sampled_from(CASES))
    meta = f.metadata
    low = meta.get("min", meta.get("above"))
    high = meta.get("max", meta.get("below"))
    if type_name(f) == "int":
        value = data.draw(st.integers(low + ("above" in meta), high - ("below" in meta)))
    else:
        value = data.draw(st.floats(low, high, exclude_min="above" in meta, exclude_max="below" in meta))
    check_value(f, value)


@pytest.mark.parametrize("args", [["--max-length", "0"], ["--batch-size", "0"], ["--batch-size", "-4"],
                                  ["--valid-fraction", "1.0"], ["--epochs", "0"], ["--learning-rate", "nan"],
                                  ["--arch", "bag", "--hidden-units", "4,,2"], ["--arch", "bag", "--lstm-units", "4"],
                                  ["--accumulate", "0"], ["--pooling", "maxx"]])
def test_the_cli_refuses_before_any_work(tmp_path, args):
    result = subprocess.run([sys.executable, "-m", "mltc_keras", "train", *args], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr and list(tmp_path.iterdir()) == []


MISSING = """
import sys
from mltc_keras import cli
code = cli.main({argv!r})
assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules, 'imported Keras before naming the file'
sys.exit(code)
"""


@pytest.mark.parametrize("argv, named", [
    (["evaluate", "--model", "nope.keras", "--data", "x.csv"], "--model nope.keras"),
    (["evaluate", "--model", "m.keras", "--data", "gone.csv"], "--data gone.csv"),
    (["compare", "--models", "m.keras", "gone.keras"], "--models gone.keras"),
    (["predict", "--model", "m.keras", "--input", "gone.csv", "--output", "o.csv"], "--input gone.csv"),
    (["train", "--train", "gone.csv"], "--train gone.csv"),
    (["train", "--train", "m.keras", "--valid", "gone.csv", "--epochs", "0"], "--epochs 0"),  # values come first
])
def test_a_missing_input_file_is_named_at_once(tmp_path, argv, named):
    (tmp_path / "m.keras").write_bytes(b"")
    result = subprocess.run([sys.executable, "-c", MISSING.format(argv=argv)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [result.stderr.strip()] and result.stderr.startswith(f"error: {named}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]


def test_the_cli_module_imports_neither_keras_nor_tensorflow(tmp_path):
    code = ("import sys; import mltc_keras.cli; from mltc_keras.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'keras_hub', 'fastapi', 'uvicorn', 'prometheus_client') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "[]", result.stderr


def test_version_and_help_answer_without_the_heavy_stack(tmp_path):
    version = subprocess.run([sys.executable, "-m", "mltc_keras", "--version"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("mltc-keras ")
