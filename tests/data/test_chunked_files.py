"""Files read a chunk of rows at a time (CSV and Parquet) give what one read of the whole file
would, and name the right row when a late chunk is bad."""

import gzip

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mltc_keras.data import reader
from mltc_keras.data.reader import TextRows, read_labelled_csv, read_text_csv, read_texts
from mltc_keras.errors import InputError

ROWS = [("hello there", 1, 0), ("a \"quoted\"\nline break", 0, 1), ("  spaced  ", 1, 1), ("x,y", 0, 0), ("last", 1, 0)]


def csv_text(rows=ROWS):
    lines = ["text,joy,anger"] + ['"{}",{},{}'.format(t.replace('"', '""'), a, b) for t, a, b in rows]
    return "\r\n".join(lines) + "\r\n"


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(reader, "CHUNK_ROWS", 2)


def test_chunks_cover_the_file_in_order_with_file_row_numbers(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(csv_text(), encoding="utf-8")
    chunks = list(TextRows(path, rows=2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert [i for c in chunks for i in c.index] == [0, 1, 2, 3, 4]
    assert [t for c in chunks for t in c["text"]] == [r[0] for r in ROWS]


def test_small_chunks_read_like_one_chunk(tmp_path, monkeypatch):
    path = tmp_path / "x.csv.gz"
    path.write_bytes(gzip.compress(csv_text().encode("utf-8")))
    whole, whole_frame = read_labelled_csv(path), read_text_csv(path)
    monkeypatch.setattr(reader, "CHUNK_ROWS", 2)
    chunked = read_labelled_csv(path)
    assert chunked.texts == whole.texts == [r[0] for r in ROWS]
    np.testing.assert_array_equal(chunked.y, whole.y)
    np.testing.assert_array_equal(whole.y, [[a, b] for _, a, b in ROWS])
    assert read_text_csv(path).equals(whole_frame) and read_texts(path) == whole.texts


@pytest.mark.parametrize("bad, message", [("wide,1,0,extra", "row 5 has 4 fields"), (",1,0", "row 5, column 'text'"),
                                          ("t,1,2", "row 5, column 'anger'")])
def test_a_bad_row_in_a_late_chunk_is_named(tmp_path, small_chunks, bad, message):
    path = tmp_path / "x.csv"
    path.write_text(csv_text(ROWS[:4]) + bad + "\r\n", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_labelled_csv(path)


def test_unknown_label_name_in_a_late_chunk(tmp_path, small_chunks):
    path = tmp_path / "x.csv"
    path.write_text("text,tags\na,joy\nb,fear\nc,joy;fear\nd,joy\ne,sad\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 5, column 'tags': unknown labels 'sad'"):
        read_labelled_csv(path, labels_column="tags", label_sep=";", expected_labels=["joy", "fear"])
    data = read_labelled_csv(path, labels_column="tags", label_sep=";")
    assert data.labels == ["fear", "joy", "sad"] and data.y.sum(axis=0).tolist() == [2, 3, 1]


def test_drop_empty_counts_every_chunk(tmp_path, small_chunks):
    path = tmp_path / "x.csv"
    path.write_text("text,joy\n,1\na,0\n ,1\nb,1\n,0\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="dropped 3 rows"):
        data = read_labelled_csv(path, drop_empty=True)
    assert data.texts == ["a", "b"] and data.y.ravel().tolist() == [0, 1]


def test_a_field_longer_than_the_csv_modules_default_limit(tmp_path):
    long_text = "word " * 60_000  # 300 KB in one cell
    path = tmp_path / "x.csv"
    path.write_text(f"text,joy\n\"{long_text}\",1\n", encoding="utf-8")
    assert read_labelled_csv(path).texts == [long_text]


def write_parquet(path, **columns):
    pq.write_table(pa.table(columns), path, row_group_size=2)
    return path


def test_parquet_labels_may_be_integers_booleans_or_floats(tmp_path, small_chunks):
    texts = [r[0] for r in ROWS]
    path = write_parquet(tmp_path / "x.parquet", text=texts, joy=[bool(r[1]) for r in ROWS],
                         anger=pa.array([float(r[2]) for r in ROWS]), fear=pa.array([0, 0, 1, 0, 1], pa.int8()))
    data = read_labelled_csv(path)
    assert data.texts == texts and data.labels == ["joy", "anger", "fear"]
    np.testing.assert_array_equal(data.y, [[a, b, c] for (_, a, b), c in zip(ROWS, [0, 0, 1, 0, 1])])


def test_parquet_text_rows_keep_their_column_types(tmp_path):
    path = write_parquet(tmp_path / "x.pq", id=pa.array([7, 8], pa.int64()), text=["a", None])
    with pytest.raises(InputError, match="row 2, column 'text': empty text"):
        read_text_csv(path)
    path = write_parquet(tmp_path / "y.parquet", id=pa.array([7, 8], pa.int64()), text=["a", "b"])
    frame = read_text_csv(path)
    assert frame["id"].tolist() == [7, 8] and str(frame["id"].dtype) == "int64[pyarrow]"


def test_parquet_errors_name_the_file_and_column(tmp_path):
    path = write_parquet(tmp_path / "n.parquet", text=[1, 2], joy=[0, 1])
    with pytest.raises(InputError, match=r"n\.parquet: column 'text' holds int64, not text"):
        read_labelled_csv(path)
    path = write_parquet(tmp_path / "v.parquet", text=["a", "b", "c"], joy=[0, 1, 2])
    with pytest.raises(InputError, match=r"v\.parquet: row 3, column 'joy': value '2' is not 0 or 1"):
        read_labelled_csv(path)
    damaged = tmp_path / "d.parquet"
    damaged.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(InputError, match=r"d\.parquet: cannot read it as Parquet"):
        read_labelled_csv(damaged)


def test_csv_and_parquet_of_the_same_rows_read_the_same(tmp_path):
    csv_path = tmp_path / "x.csv"
    csv_path.write_text(csv_text(), encoding="utf-8")
    frame = pd.read_csv(csv_path, keep_default_na=False)
    parquet_path = tmp_path / "x.parquet"
    frame.to_parquet(parquet_path)
    a, b = read_labelled_csv(csv_path), read_labelled_csv(parquet_path)
    assert a.texts == b.texts and a.labels == b.labels
    np.testing.assert_array_equal(a.y, b.y)
