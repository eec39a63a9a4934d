import bz2
import gzip
import io
import lzma
import zipfile

import numpy as np
import pytest

from mltc_keras.data.reader import (
    LabelledTexts,
    labels_without_positives,
    read_labelled_csv,
    read_text_csv,
)
from mltc_keras.errors import InputError


def write(tmp_path, content, name="x.csv"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def input_error(reader, path, *parts, **kwargs):
    with pytest.raises(InputError) as caught:
        reader(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    assert path.name in message
    for part in parts:
        assert part in message, message
    return message


GOOD = "text,joy,anger,fear\nhello,1,0,0\n\"multi\nline\",0,1.0,0.0\n bye ,0, 0 ,1\n"


def test_label_columns_mode(tmp_path):
    data = read_labelled_csv(write(tmp_path, GOOD))
    assert data.texts == ["hello", "multi\nline", " bye "]
    assert data.labels == ["joy", "anger", "fear"]
    assert data.y.dtype == np.float32
    assert data.y.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert data.path.endswith("x.csv")


def test_label_columns_subset_and_custom_text_column(tmp_path):
    path = write(tmp_path, "id,body,joy,anger\n1,hi,1,0\n2,yo,0,1\n")
    data = read_labelled_csv(path, text_column="body", label_columns=["anger"])
    assert data.labels == ["anger"] and data.y.tolist() == [[0], [1]]


def test_bom_is_accepted(tmp_path):
    data = read_labelled_csv(write(tmp_path, b"\xef\xbb\xbf" + GOOD.encode()))
    assert data.labels == ["joy", "anger", "fear"]


def test_labels_column_mode(tmp_path):
    path = write(tmp_path, "text,tags,other\na,joy; fear,x\nb,,y\nc;d,anger;;,z\n")
    data = read_labelled_csv(path, labels_column="tags", label_sep=";")
    assert data.labels == ["anger", "fear", "joy"]
    assert data.texts == ["a", "b", "c;d"]
    assert data.y.tolist() == [[0, 1, 1], [0, 0, 0], [1, 0, 0]]


def test_labels_column_with_expected_labels(tmp_path):
    path = write(tmp_path, "text,tags\na,joy\nb,fear\n")
    data = read_labelled_csv(path, labels_column="tags", expected_labels=["fear", "sad", "joy"])
    assert data.labels == ["fear", "sad", "joy"]
    assert data.y.tolist() == [[0, 0, 1], [1, 0, 0]]
    assert labels_without_positives(data) == ["sad"]


def test_labels_column_unknown_labels(tmp_path):
    path = write(tmp_path, "text,tags\na,joy\nb,\"fear,zed,yak\"\n")
    input_error(read_labelled_csv, path, "row 2", "column 'tags'", "unknown labels",
                "'yak', 'zed'", labels_column="tags", expected_labels=["joy", "fear"])


def test_labels_column_missing_or_empty(tmp_path):
    path = write(tmp_path, "text,tags\na,\nb, \n")
    input_error(read_labelled_csv, path, "'nope'", "--labels-column", labels_column="nope")
    input_error(read_labelled_csv, path, "column 'tags'", "no labels", labels_column="tags")


def test_label_columns_and_labels_column_together(tmp_path):
    input_error(read_labelled_csv, write(tmp_path, GOOD), "--label-columns", "--labels-column",
                label_columns=["joy"], labels_column="tags")


def test_reorders_to_expected_labels(tmp_path):
    data = read_labelled_csv(write(tmp_path, GOOD), expected_labels=["fear", "joy", "anger"])
    assert data.labels == ["fear", "joy", "anger"]
    assert data.y.tolist() == [[0, 1, 0], [0, 0, 1], [1, 0, 0]]


def test_expected_labels_mismatch(tmp_path):
    input_error(read_labelled_csv, write(tmp_path, GOOD), "missing 'sad'", "extra 'anger'",
                expected_labels=["joy", "fear", "sad"])


@pytest.mark.parametrize("value", ["2", "yes", "0.5", "", "-1"])
def test_bad_label_value(tmp_path, value):
    path = write(tmp_path, f"text,joy,anger\na,0,1\nb,1,0\nc,0,{value}\nd,7,7\n")
    input_error(read_labelled_csv, path, "row 3", "column 'anger'", f"'{value}'", "0 or 1")


def test_short_row_is_a_bad_label_value(tmp_path):
    input_error(read_labelled_csv, write(tmp_path, "text,joy,anger\na,0,1\nb,1\n"),
                "row 2", "column 'anger'")


def test_missing_label_column(tmp_path):
    input_error(read_labelled_csv, write(tmp_path, GOOD), "'sad'", "--label-columns",
                label_columns=["joy", "sad"])


def test_no_label_columns(tmp_path):
    input_error(read_labelled_csv, write(tmp_path, "text\na\nb\n"),
                "--label-columns", "--labels-column")


def test_missing_file(tmp_path):
    input_error(read_labelled_csv, tmp_path / "absent.csv", "not found")
    input_error(read_text_csv, tmp_path / "absent.csv", "not found")


def test_not_utf8(tmp_path):
    path = write(tmp_path, b"text,joy\nfine,1\ncaf\xe9,0\n")
    input_error(read_labelled_csv, path, "line 3", "UTF-8")
    input_error(read_text_csv, path, "line 3", "UTF-8")


def zipped(content):
    path = io.BytesIO()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.csv", content)
    return path.getvalue()


@pytest.mark.parametrize("suffix, compress", [(".gz", gzip.compress), (".bz2", bz2.compress), (".xz", lzma.compress),
                                              (".zip", zipped), (".GZ", gzip.compress)])
def test_compressed_csv_is_read_like_the_plain_one(tmp_path, suffix, compress):
    plain = read_labelled_csv(write(tmp_path, GOOD))
    path = write(tmp_path, compress(GOOD.encode("utf-8")), name=f"x.csv{suffix}")
    data = read_labelled_csv(path)
    assert data.texts == plain.texts and data.labels == plain.labels
    np.testing.assert_array_equal(data.y, plain.y)
    assert read_text_csv(path)["text"].tolist() == plain.texts


def test_compressed_csv_keeps_every_check(tmp_path):
    path = write(tmp_path, gzip.compress(b"text,joy\nfine,1\ncaf\xe9,0\n"), name="x.csv.gz")
    input_error(read_labelled_csv, path, "line 3", "UTF-8")
    path = write(tmp_path, gzip.compress(b"text,joy\nfine,2\n"), name="y.csv.gz")
    input_error(read_labelled_csv, path, "row 1", "'joy'", "not 0 or 1")


def test_damaged_compressed_csv(tmp_path):
    whole = gzip.compress(GOOD.encode("utf-8") * 50)
    path = write(tmp_path, whole[: len(whole) // 2], name="x.csv.gz")
    input_error(read_labelled_csv, path, "cannot decompress it as gzip", "truncated")
    path = write(tmp_path, GOOD, name="plain.csv.gz")
    input_error(read_text_csv, path, "cannot decompress it as gzip", "Not a gzipped file")
    path = write(tmp_path, bz2.compress(GOOD.encode("utf-8"))[:-10], name="x.csv.bz2")
    input_error(read_labelled_csv, path, "cannot decompress it as bzip2")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as two:
        two.writestr("a.csv", GOOD)
        two.writestr("b.csv", GOOD)
    path = write(tmp_path, archive.getvalue(), name="two.zip")
    input_error(read_labelled_csv, path, "holds 2 files", "exactly one CSV")


@pytest.mark.parametrize("content", ["", "\n\n", "text,joy\n", "text,joy"])
def test_empty_or_header_only(tmp_path, content):
    path = write(tmp_path, content)
    input_error(read_labelled_csv, path)
    input_error(read_text_csv, path)


def test_duplicate_columns(tmp_path):
    path = write(tmp_path, "text,joy,fear,joy,text\na,1,0,1,b\n")
    input_error(read_labelled_csv, path, "duplicate", "'joy'", "'text'")
    input_error(read_text_csv, path, "duplicate", "'joy'", "'text'")


def test_row_wider_than_header(tmp_path):
    path = write(tmp_path, "text,joy\n\"a, quoted\",1\n\nb,0\nc, unquoted,1\n")
    input_error(read_labelled_csv, path, "row 3", "3 fields", "header has 2", "quote")
    input_error(read_text_csv, path, "row 3", "3 fields")


def test_missing_text_column(tmp_path):
    path = write(tmp_path, "body,joy\na,1\n")
    input_error(read_labelled_csv, path, "'text'", "'body', 'joy'", "--text-column")
    input_error(read_text_csv, path, "'content'", "--text-column", text_column="content")


EMPTY_TEXTS = "text,joy,fear\na,1,0\n,0,1\n   ,1,1\nd,0,0\n"


def test_empty_texts_are_an_error(tmp_path):
    path = write(tmp_path, EMPTY_TEXTS)
    input_error(read_labelled_csv, path, "row 2", "2 rows", "--drop-empty")
    input_error(read_text_csv, path, "row 2", "2 rows", "--drop-empty")


def test_drop_empty_warns_with_count(tmp_path):
    path = write(tmp_path, EMPTY_TEXTS)
    with pytest.warns(UserWarning, match=r"x\.csv.*dropped 2 rows"):
        data = read_labelled_csv(path, drop_empty=True)
    assert data.texts == ["a", "d"] and data.y.tolist() == [[1, 0], [0, 0]]
    with pytest.warns(UserWarning, match="dropped 2 rows"):
        frame = read_text_csv(path, drop_empty=True)
    assert frame["text"].tolist() == ["a", "d"] and list(frame.index) == [0, 1]


def test_row_numbers_after_drop_refer_to_the_file(tmp_path):
    path = write(tmp_path, "text,joy\n,1\nb,0\nc,x\n")
    input_error(read_labelled_csv, path, "row 3", "column 'joy'", drop_empty=True)


def test_nothing_left_after_drop(tmp_path):
    path = write(tmp_path, "text,joy\n,1\n  ,0\n")
    with pytest.warns(UserWarning):
        input_error(read_labelled_csv, path, "no rows left", drop_empty=True)


def test_read_text_csv_keeps_all_columns_as_strings(tmp_path):
    frame = read_text_csv(write(tmp_path, "id,text,score\n007,hi,\n2,yo,NA\n"))
    assert list(frame.columns) == ["id", "text", "score"]
    assert frame["id"].tolist() == ["007", "2"] and frame["score"].tolist() == ["", "NA"]


def test_subset():
    data = LabelledTexts(texts=["a", "b", "c"], y=np.eye(3, dtype=np.float32),
                         labels=["x", "y", "z"], path="p.csv")
    part = data.subset(np.array([2, 0]))
    assert part.texts == ["c", "a"] and part.y.tolist() == [[0, 0, 1], [1, 0, 0]]
    assert part.labels == data.labels and part.path == "p.csv"
    assert data.subset(np.array([False, True, False])).texts == ["b"]


def test_labels_without_positives(tmp_path):
    data = read_labelled_csv(write(tmp_path, "text,joy,anger,fear\na,1,0,0\nb,1,0,0\n"))
    assert labels_without_positives(data) == ["anger", "fear"]
