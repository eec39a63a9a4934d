"""predict --input streams a CSV or Parquet file a chunk at a time: the same rows and scores as one
predict_proba over every text, rows in input order, other columns kept, and no output at all when
a row deep in the file is bad."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mltc_keras.commands import predict
from mltc_keras.data import reader
from mltc_keras.errors import InputError
from mltc_keras.options import PredictOptions

WORDS = "happy joy sad gloom furious angry day the a why so today".split()


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    from conftest import train_tiny_bag

    return train_tiny_bag(tmp_path_factory.mktemp("predict-files"))


@pytest.fixture
def rows():
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(WORDS, size=rng.integers(1, 12))) for _ in range(53)]
    return pd.DataFrame({"id": np.arange(100, 153), "text": texts, "note": [f"n{i}" for i in range(53)]})


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(reader, "CHUNK_ROWS", 7)


def run(model_path, input, output, **kwargs):
    return predict.run(PredictOptions(model=str(model_path), input=str(input), output=str(output), **kwargs))


def expected(model_path, texts):
    import mltc_keras

    predictor = mltc_keras.load(model_path)
    return predictor.labels, np.round(predictor.predict_proba(texts), 6)


def test_csv_streams_to_the_same_rows_and_scores(tmp_path, model_path, rows, small_chunks, capsys):
    rows.to_csv(tmp_path / "in.csv", index=False)
    result = run(model_path, tmp_path / "in.csv", tmp_path / "out.csv")
    assert result.rows == len(rows)
    out = pd.read_csv(tmp_path / "out.csv", dtype={"id": str}, keep_default_na=False)
    assert out["id"].tolist() == [str(i) for i in rows["id"]] and out["text"].tolist() == rows["text"].tolist()
    labels, proba = expected(model_path, rows["text"].tolist())
    np.testing.assert_allclose(out[[f"score_{label}" for label in labels]].to_numpy(), proba, atol=1e-6)
    assert "rows" in capsys.readouterr().err, "a file of several chunks shows a progress bar"


@pytest.mark.parametrize("source, target", [("parquet", "parquet"), ("csv", "parquet"), ("parquet", "csv")])
def test_parquet_in_or_out(tmp_path, model_path, rows, small_chunks, source, target):
    src = tmp_path / f"in.{source}"
    rows.to_parquet(src, row_group_size=10) if source == "parquet" else rows.to_csv(src, index=False)
    run(model_path, src, tmp_path / f"out.{target}")
    out = (pq.read_table(tmp_path / "out.parquet").to_pandas() if target == "parquet"
           else pd.read_csv(tmp_path / "out.csv", keep_default_na=False))
    labels, proba = expected(model_path, rows["text"].tolist())
    np.testing.assert_allclose(out[[f"score_{label}" for label in labels]].to_numpy(), proba, atol=1e-6)
    assert out["text"].tolist() == rows["text"].tolist() and out["note"].tolist() == rows["note"].tolist()
    if source == target == "parquet":
        schema = pq.read_schema(tmp_path / "out.parquet")
        assert schema.field("id").type == pa.int64() and schema.field(f"score_{labels[0]}").type == pa.float32()
    assert set(out["predicted_labels"].fillna("").str.split(";").sum()) <= set(labels) | {""}


def test_a_bad_row_in_a_late_chunk_leaves_no_output_and_keeps_the_old_one(tmp_path, model_path, rows, small_chunks):
    content = rows.to_csv(index=False) + "999,too,many,fields\n"
    (tmp_path / "in.csv").write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=r"in\.csv: row 54 has 4 fields"):
        run(model_path, tmp_path / "in.csv", tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == [tmp_path / "in.csv"], "no output and no temporary file left"
    (tmp_path / "out.csv").write_text("precious\n")
    with pytest.raises(InputError, match="row 54"):
        run(model_path, tmp_path / "in.csv", tmp_path / "out.csv", overwrite=True)
    assert (tmp_path / "out.csv").read_text() == "precious\n"


def test_ray_only_options_are_refused_without_the_ray_engine(tmp_path, model_path):
    with pytest.raises(InputError, match="--address and --workers go with --engine ray"):
        run(model_path, tmp_path / "in.csv", tmp_path / "out.csv", workers=2)
    with pytest.raises(InputError, match="--engine ray: give --input"):
        predict.run(PredictOptions(model=str(model_path), text=["hi"], output=str(tmp_path / "o"), engine="ray"))
