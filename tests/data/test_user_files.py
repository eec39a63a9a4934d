"""Files users bring and files the CLI writes for them: compressed CSVs, a damaged model file, and
predict's CSV (safe to open in a spreadsheet, also for --text). The CLI runs in subprocesses on
one tiny bilstm (conftest's tiny_bilstm)."""

import csv
import gzip
import json

import numpy as np
import pandas as pd
import pytest

from conftest import LABELS, cli, error_lines, write_csv
from mltc_keras.data.csv_safety import neutralize_formulas
from mltc_keras.errors import InputError
from mltc_keras.models.text_classifier import load_classifier


def test_evaluate_reads_a_gzipped_csv_like_the_plain_one(tiny_bilstm):
    (tiny_bilstm / "test.csv.gz").write_bytes(gzip.compress((tiny_bilstm / "test.csv").read_bytes()))
    for data, out in (("test.csv", "plain.json"), ("test.csv.gz", "gz.json")):
        result = cli("evaluate", "--model", "models/tiny.keras", "--data", data, "--json", out, cwd=tiny_bilstm)
        assert result.returncode == 0, result.stderr
    plain, gz = (json.loads((tiny_bilstm / out).read_text()) for out in ("plain.json", "gz.json"))
    assert gz.pop("data") == "test.csv.gz" and plain.pop("data") == "test.csv"
    assert gz == plain


def test_a_truncated_gzipped_csv_fails_in_one_line(tiny_bilstm):
    whole = gzip.compress((tiny_bilstm / "test.csv").read_bytes())
    (tiny_bilstm / "cut.csv.gz").write_bytes(whole[: len(whole) // 2])
    result = cli("evaluate", "--model", "models/tiny.keras", "--data", "cut.csv.gz", cwd=tiny_bilstm)
    assert result.returncode == 2
    [line] = error_lines(result)
    assert "cut.csv.gz: cannot decompress it as gzip" in line and "truncated" in line


def test_a_truncated_model_file_is_named_as_such_not_as_missing(tiny_bilstm):
    whole = (tiny_bilstm / "models" / "tiny.keras").read_bytes()
    (tiny_bilstm / "half.keras").write_bytes(whole[: len(whole) // 2])
    expected = "half.keras: not a complete .keras model file (truncated or damaged: "
    with pytest.raises(InputError) as caught:
        load_classifier(tiny_bilstm / "half.keras")
    assert expected in str(caught.value) and "train it again or restore it" in str(caught.value)
    assert "not found" not in str(caught.value).lower()

    result = cli("predict", "--model", "half.keras", "--text", "so happy", cwd=tiny_bilstm)
    assert result.returncode == 2
    [line] = error_lines(result)
    assert expected in line and "not found" not in line.lower()


def test_a_model_file_damaged_inside_fails_its_check(tiny_bilstm):
    damaged = bytearray((tiny_bilstm / "models" / "tiny.keras").read_bytes())
    middle = len(damaged) // 2
    damaged[middle: middle + 64] = bytes(64)
    (tiny_bilstm / "damaged.keras").write_bytes(bytes(damaged))
    with pytest.raises(InputError, match="not a complete .keras model file .truncated or damaged: .*CRC"):
        load_classifier(tiny_bilstm / "damaged.keras")


FORMULAS = ["=HYPERLINK(\"http://x\",\"so happy\")", "+furious cmd", "-2+3 why", "@SUM(A1) happy", "\tso happy",
            "\rwhy"]


def test_numeric_columns_are_left_as_they_are():
    frame = pd.DataFrame({"text": ["-x", "=y", "ok", "-1.5e3"], "score": [-1.5, 0.0, 2.0, -3.0]})
    safe = neutralize_formulas(frame)
    assert safe["text"].tolist() == ["'-x", "'=y", "ok", "-1.5e3"]
    assert safe["score"].dtype == np.float64 and safe["score"].tolist() == [-1.5, 0.0, 2.0, -3.0]
    assert frame["text"].tolist() == ["-x", "=y", "ok", "-1.5e3"], "the frame given is not changed"


def test_predict_output_cannot_start_a_spreadsheet_formula(tiny_bilstm):
    rows = [(f"id{i}", text, "-5") for i, text in enumerate(FORMULAS)] + [("=1+1", "plain happy\rtext", "@x")]
    write_csv(tiny_bilstm / "formulas.csv", rows, header=("id", "text", "=note"))
    result = cli("predict", "--model", "models/tiny.keras", "--input", "formulas.csv", "--output", "formulas_out.csv",
                 cwd=tiny_bilstm)
    assert result.returncode == 0, result.stderr
    with open(tiny_bilstm / "formulas_out.csv", newline="", encoding="utf-8") as f:
        out = list(csv.reader(f))
    header, cells = out[0], out[1:]
    assert header == ["id", "text", "'=note", *(f"score_{label}" for label in LABELS), "predicted_labels"]
    assert [row[1] for row in cells] == ["'" + text for text in FORMULAS] + ["plain happy\rtext"]
    assert [row[0] for row in cells] == [f"id{i}" for i in range(len(FORMULAS))] + ["'=1+1"]
    assert [row[2] for row in cells] == ["-5"] * len(FORMULAS) + ["'@x"], "a plain number is left as it is"
    for row in cells:
        assert all(0 <= float(score) <= 1 for score in row[3:3 + len(LABELS)])


def test_predict_text_with_output_writes_the_csv_input_would(tiny_bilstm):
    texts = ["so happy today", "why why", "=1+1 furious"]
    write_csv(tiny_bilstm / "texts.csv", [(text,) for text in texts], header=("text",))
    result = cli("predict", "--model", "models/tiny.keras", "--input", "texts.csv", "--output", "from_input.csv",
                 cwd=tiny_bilstm)
    assert result.returncode == 0, result.stderr
    result = cli("predict", "--model", "models/tiny.keras", "--text", *texts, "--output", "from_text.csv", cwd=tiny_bilstm)
    assert result.returncode == 0, result.stderr
    assert "wrote from_text.csv" in result.stdout
    written = (tiny_bilstm / "from_text.csv").read_text(encoding="utf-8")
    assert written == (tiny_bilstm / "from_input.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(written.splitlines()))
    assert [row["text"] for row in rows] == ["so happy today", "why why", "'=1+1 furious"]
    assert list(rows[0]) == ["text", *(f"score_{label}" for label in LABELS), "predicted_labels"]
    assert not list(tiny_bilstm.glob(".from_text*")), "no temporary file left behind"
