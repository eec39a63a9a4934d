"""Read and validate the CSV files a user gives: texts with 0/1 label columns or a column of
delimited label names, and texts alone for prediction.

Every problem raises InputError with one line naming the file and, where it applies, the row and
column. "row N" is the N-th data record of the file, counting from 1 and not counting the header
(a text with quoted line breaks is still one row). A name ending in .gz, .bz2, .xz or .zip is
decompressed first, as pandas' compression="infer" would, and the same checks apply to its content.
"""

import bz2
import codecs
import csv
import gzip
import io
import lzma
import os
import warnings
import zipfile
import zlib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

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


def read_labelled_csv(path, *, text_column="text", label_columns=None, labels_column=None,
                      label_sep=",", drop_empty=False, expected_labels=None):
    """Texts and their labels, either from 0/1 label columns (every column but the text one, or
    `label_columns`) or from one `labels_column` of names separated by `label_sep`. With
    `expected_labels` the file must have exactly those labels, returned in that order."""
    name = os.fspath(path)
    if label_columns is not None and labels_column is not None:
        raise InputError(f"{name}: use either --label-columns or --labels-column, not both")
    df = _read_checked(path, text_column, drop_empty)
    if labels_column is None:
        labels, y = _label_columns(df, name, text_column, label_columns, expected_labels)
    else:
        labels, y = _labels_column(df, name, labels_column, label_sep, expected_labels)
    return LabelledTexts(texts=df[text_column].tolist(), y=y, labels=labels, path=name)


def read_text_csv(path, *, text_column="text", drop_empty=False):
    """All columns of the file as strings, for prediction; the text column is checked."""
    return _read_checked(path, text_column, drop_empty).reset_index(drop=True)


def labels_without_positives(data):
    return [label for label, count in zip(data.labels, data.y.sum(axis=0)) if count == 0]


def _read_checked(path, text_column, drop_empty):
    """The file as a DataFrame of strings whose index is the 0-based data row, with the checks
    both readers share: readable (decompressible) UTF-8, a header without duplicates, no row wider
    than the header, data rows, the text column and non-empty texts (or dropped ones, with a warning)."""
    name = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"{name}: file not found; check the path")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise InputError(f"{name}: cannot read the file ({e.strerror})") from None
    raw = _decompressed(name, raw)
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise InputError(f"{name}: line {line}: byte 0x{raw[e.start]:02x} is not valid UTF-8; "
                         "save the file as UTF-8") from None
    if not content.strip():
        raise InputError(f"{name}: the file is empty; it needs a header row and data rows")

    try:
        _check_shape(name, content)
        df = pd.read_csv(io.StringIO(content), dtype=str, keep_default_na=False, index_col=False)
    except (csv.Error, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        detail = " ".join(str(e).split())
        raise InputError(f"{name}: cannot parse as CSV ({detail}); check the quoting and the "
                         "number of fields in each row") from None
    if df.empty:
        raise InputError(f"{name}: the file has a header but no data rows")
    if text_column not in df.columns:
        raise InputError(f"{name}: no text column '{text_column}' (columns found: "
                         f"{_quoted(df.columns)}); name the text column with --text-column")

    empty = (df[text_column].str.strip() == "").to_numpy()
    if empty.any():
        count = int(empty.sum())
        if not drop_empty:
            first = int(np.argmax(empty)) + 1
            raise InputError(f"{name}: row {first}, column '{text_column}': empty text "
                             f"({count} rows have no text); fill them in or pass --drop-empty")
        warnings.warn(f"{name}: dropped {count} rows with empty text", UserWarning, stacklevel=3)
        df = df[~empty]
        if df.empty:
            raise InputError(f"{name}: no rows left after dropping rows with empty text")
    return df


def _unzip(raw):
    """The one file in a zip archive (macOS' __MACOSX/ entries aside), as pandas reads it."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
        if len(members) != 1:
            raise InputError(f"zip archive holds {len(members)} files; it must hold exactly one CSV")
        return archive.read(members[0])


_COMPRESSED = {".gz": ("gzip", gzip.decompress), ".bz2": ("bzip2", bz2.decompress),
               ".xz": ("xz", lzma.decompress), ".zip": ("zip", _unzip)}


def _decompressed(name, raw):
    """`raw` decompressed when the file name ends in a compression suffix, else `raw` itself."""
    suffix = next((s for s in _COMPRESSED if name.lower().endswith(s)), None)
    if suffix is None:
        return raw
    kind, decompress = _COMPRESSED[suffix]
    try:
        return decompress(raw)
    except InputError as e:
        raise InputError(f"{name}: {e}") from None
    except (OSError, EOFError, ValueError, RuntimeError, zlib.error, lzma.LZMAError, zipfile.BadZipFile) as e:
        # RuntimeError: an encrypted zip, or a zip method Python lacks
        detail = " ".join(str(e).split()) or type(e).__name__
        raise InputError(f"{name}: cannot decompress it as {kind} ({detail}); the file is truncated, damaged or "
                         f"not {kind}: compress the CSV again, or give it uncompressed without {suffix}") from None


def _check_shape(name, content):
    records = (record for record in csv.reader(io.StringIO(content)) if record)
    header = next(records, [])
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise InputError(f"{name}: duplicate column names in the header: {_quoted(duplicated)}; "
                         "give every column a distinct name")
    for row, record in enumerate(records, start=1):
        if len(record) > len(header):
            raise InputError(f"{name}: row {row} has {len(record)} fields but the header has "
                             f"{len(header)}; quote texts that contain commas")


def _label_columns(df, name, text_column, label_columns, expected_labels):
    if label_columns is None:
        columns = [c for c in df.columns if c != text_column]
        if not columns:
            raise InputError(f"{name}: no label columns besides '{text_column}'; pass "
                             "--label-columns, or --labels-column for one column of label names")
    else:
        columns = list(label_columns)
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        if duplicated:
            raise InputError(f"{name}: label columns listed twice: {_quoted(duplicated)}")
        absent = [c for c in columns if c not in df.columns]
        if absent:
            raise InputError(f"{name}: no column {_quoted(absent)} (columns found: "
                             f"{_quoted(df.columns)}); check --label-columns")
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

    values = df[columns].apply(lambda column: column.str.strip())
    ones = values.isin(_ONE).to_numpy()
    bad = ~(ones | values.isin(_ZERO).to_numpy())
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputError(f"{name}: row {df.index[i] + 1}, column '{columns[j]}': value "
                         f"{values.iat[i, j]!r} is not 0 or 1; label columns must hold only 0/1")
    return columns, ones.astype(np.float32)


def _labels_column(df, name, labels_column, label_sep, expected_labels):
    if labels_column not in df.columns:
        raise InputError(f"{name}: no labels column '{labels_column}' (columns found: "
                         f"{_quoted(df.columns)}); check --labels-column")
    if not label_sep:
        raise InputError(f"{name}: the label separator is empty; pass a --label-sep such as ';'")
    rows = [[p.strip() for p in cell.split(label_sep) if p.strip()] for cell in df[labels_column]]
    seen = {label for row in rows for label in row}
    if expected_labels is None:
        labels = sorted(seen)
        if not labels:
            raise InputError(f"{name}: column '{labels_column}' holds no labels; separate label "
                             f"names with '{label_sep}' (or pass --label-sep)")
    else:
        labels = list(expected_labels)
        unknown = sorted(seen - set(labels))
        if unknown:
            first = next(i for i, row in enumerate(rows) if set(row) - set(labels))
            raise InputError(f"{name}: row {df.index[first] + 1}, column '{labels_column}': "
                             f"unknown labels {_quoted(unknown)}; the model knows only "
                             f"{_quoted(labels)}")
    position = {label: j for j, label in enumerate(labels)}
    y = np.zeros((len(rows), len(labels)), dtype=np.float32)
    for i, row in enumerate(rows):
        y[i, [position[label] for label in row]] = 1
    return labels, y


def _quoted(names, limit=12):
    names = [f"'{n}'" for n in names]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
