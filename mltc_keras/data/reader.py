"""Read and validate the files a user gives (CSV or Parquet, see data.sources): texts with 0/1
label columns or a column of delimited label names, and texts alone for prediction.

Every problem raises InputError with one line naming the file and, where it applies, the row and
column. "row N" is the N-th data record of the file, counting from 1 and not counting the header
(a text with quoted line breaks is still one row). Files are read a chunk of rows at a time: what
is kept is the texts and the label matrix, never the file's other cells.
"""

import os
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from mltc_keras.data.sources import CHUNK_ROWS, _quoted, open_source
from mltc_keras.errors import InputError

_ZERO, _ONE = ("0", "0.0"), ("1", "1.0")


@dataclass(frozen=True, eq=False)
class LabelledTexts:
    texts: list[str]
    y: np.ndarray
    labels: list[str]
    path: str

    def subset(self, idx):
        idx = np.asarray(idx)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return replace(self, texts=[self.texts[i] for i in idx], y=self.y[idx])

    def reordered(self, labels):
        """The same rows with the label columns in the order of `labels` (a permutation of them)."""
        columns = [self.labels.index(label) for label in labels]
        return replace(self, y=self.y[:, columns], labels=list(labels))


class TextRows:
    """A file's rows in chunks (DataFrames indexed by the 0-based data row), with its text column
    checked: present, holding text, and non-empty in every row, or with empty rows dropped (and a
    warning saying how many once the file is read). `fraction_read()` says how far reading has got."""

    def __init__(self, path, text_column="text", drop_empty=False, rows=None):
        self.source = open_source(path)
        self.name, self.columns = self.source.name, self.source.columns
        self.text_column, self.drop_empty, self.rows = text_column, drop_empty, rows or CHUNK_ROWS
        if text_column not in self.columns:
            raise InputError(f"{self.name}: no text column '{text_column}' (columns found: "
                             f"{_quoted(self.columns)}); name the text column with --text-column")
        schema = getattr(self.source, "schema", None)  # Parquet's; a CSV's cells are all text
        if schema is not None and not _holds_text(schema.field(text_column).type):
            raise InputError(f"{self.name}: column '{text_column}' holds {schema.field(text_column).type}, not text; "
                             "name the text column with --text-column")

    def fraction_read(self):
        return self.source.fraction_read()

    def __iter__(self):
        seen = dropped = 0
        for chunk in self.source.chunks(self.rows):
            seen += len(chunk)
            texts, empty = text_cells(chunk[self.text_column])
            if empty.any() and not self.drop_empty:
                first, count = int(chunk.index[np.argmax(empty)]) + 1, int(empty.sum())
                some = "" if len(chunk) < self.rows and chunk.index[0] == 0 else "at least "
                raise InputError(f"{self.name}: row {first}, column '{self.text_column}': empty text ({some}{count} "
                                 "rows have no text); fill them in or pass --drop-empty")
            dropped += int(empty.sum())
            chunk = chunk.assign(**{self.text_column: texts})[~empty]
            if len(chunk):
                yield chunk
        if not seen:
            raise InputError(f"{self.name}: the file has a header but no data rows")
        if dropped:
            warnings.warn(f"{self.name}: dropped {dropped} rows with empty text", UserWarning, stacklevel=2)
            if dropped == seen:
                raise InputError(f"{self.name}: no rows left after dropping rows with empty text")


def text_cells(column):
    """(the column's texts as strings, a missing one as "", a mask of the empty or blank ones)."""
    texts = column.fillna("").astype(str)
    return texts, (texts.str.strip() == "").to_numpy()


def _holds_text(arrow_type):
    import pyarrow as pa

    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_null(arrow_type)


def read_labelled_csv(path, *, text_column="text", label_columns=None, labels_column=None,
                      label_sep=",", drop_empty=False, expected_labels=None):
    """Texts and their labels, either from 0/1 label columns (every column but the text one, or
    `label_columns`) or from one `labels_column` of names separated by `label_sep`. With
    `expected_labels` the file must have exactly those labels, returned in that order."""
    name = os.fspath(path)
    if label_columns is not None and labels_column is not None:
        raise InputError(f"{name}: use either --label-columns or --labels-column, not both")
    rows = TextRows(path, text_column, drop_empty)
    texts, parts = [], []
    if labels_column is None:
        labels = _label_columns(rows.columns, name, text_column, label_columns, expected_labels)
        for chunk in rows:
            texts += chunk[text_column].tolist()
            parts.append(_label_values(chunk, name, labels))
        y = np.concatenate(parts)
    else:
        _check_labels_column(rows.columns, name, labels_column, label_sep)
        for chunk in rows:
            texts += chunk[text_column].tolist()
            parts.append(_label_names(chunk, name, labels_column, label_sep, expected_labels))
        labels, y = _labels_matrix([row for part in parts for row in part], name, labels_column, label_sep,
                                   expected_labels)
    return LabelledTexts(texts=texts, y=y, labels=labels, path=name)


def read_text_csv(path, *, text_column="text", drop_empty=False):
    """All columns of the file (a CSV's as strings), for prediction; the text column is checked."""
    return pd.concat(list(TextRows(path, text_column, drop_empty))).reset_index(drop=True)


def read_texts(path, *, text_column="text", drop_empty=False):
    """The file's texts alone, as a list (its other columns are never all held in memory)."""
    return [text for chunk in TextRows(path, text_column, drop_empty) for text in chunk[text_column].tolist()]


def labels_without_positives(data):
    return [label for label, count in zip(data.labels, data.y.sum(axis=0)) if count == 0]


def _label_columns(found, name, text_column, label_columns, expected_labels):
    """The label columns to read, in the order the labels will have, checked against the header."""
    if label_columns is None:
        columns = [c for c in found if c != text_column]
        if not columns:
            raise InputError(f"{name}: no label columns besides '{text_column}'; pass "
                             "--label-columns, or --labels-column for one column of label names")
    else:
        columns = list(label_columns)
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        if duplicated:
            raise InputError(f"{name}: label columns listed twice: {_quoted(duplicated)}")
        absent = [c for c in columns if c not in found]
        if absent:
            raise InputError(f"{name}: no column {_quoted(absent)} (columns found: "
                             f"{_quoted(found)}); check --label-columns")
        if not columns:
            raise InputError(f"{name}: --label-columns names no columns")
    if expected_labels is not None:
        missing = [c for c in expected_labels if c not in columns]
        extra = [c for c in columns if c not in expected_labels]
        if missing or extra:
            raise InputError(f"{name}: label columns differ from the model's labels: missing "
                             f"{_quoted(missing) or 'none'}, extra {_quoted(extra) or 'none'}; "
                             "give the file the model's label columns")
        columns = list(expected_labels)
    return columns


def _as_text(column):
    """A label column's cells as strings: a Parquet boolean column as 0/1, others as written."""
    if pd.api.types.is_bool_dtype(column):
        column = column.astype("int8")
    return column.astype(str).str.strip()


def _label_values(chunk, name, columns):
    """The chunk's 0/1 label columns as a float32 matrix."""
    values = chunk[columns].apply(_as_text)
    ones = values.isin(_ONE).to_numpy()
    bad = ~(ones | values.isin(_ZERO).to_numpy())
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputError(f"{name}: row {chunk.index[i] + 1}, column '{columns[j]}': value "
                         f"{values.iat[i, j]!r} is not 0 or 1; label columns must hold only 0/1")
    return ones.astype(np.float32)


def _check_labels_column(found, name, labels_column, label_sep):
    if labels_column not in found:
        raise InputError(f"{name}: no labels column '{labels_column}' (columns found: "
                         f"{_quoted(found)}); check --labels-column")
    if not label_sep:
        raise InputError(f"{name}: the label separator is empty; pass a --label-sep such as ';'")


def _label_names(chunk, name, labels_column, label_sep, expected_labels):
    """Each row's label names; with `expected_labels`, a name outside them is an error."""
    rows = [[p.strip() for p in cell.split(label_sep) if p.strip()] for cell in _as_text(chunk[labels_column])]
    if expected_labels is not None:
        known = set(expected_labels)
        first = next((i for i, row in enumerate(rows) if set(row) - known), None)
        if first is not None:
            unknown = sorted({label for row in rows for label in row} - known)
            raise InputError(f"{name}: row {chunk.index[first] + 1}, column '{labels_column}': "
                             f"unknown labels {_quoted(unknown)}; the model knows only "
                             f"{_quoted(expected_labels)}")
    return rows


def _labels_matrix(rows, name, labels_column, label_sep, expected_labels):
    """(labels, multi-hot matrix) of rows of label names: `expected_labels`, or every name seen, sorted."""
    labels = list(expected_labels) if expected_labels is not None else sorted({l for row in rows for l in row})
    if not labels:
        raise InputError(f"{name}: column '{labels_column}' holds no labels; separate label "
                         f"names with '{label_sep}' (or pass --label-sep)")
    position = {label: j for j, label in enumerate(labels)}
    y = np.zeros((len(rows), len(labels)), dtype=np.float32)
    for i, row in enumerate(rows):
        y[i, [position[label] for label in row]] = 1
    return labels, y
