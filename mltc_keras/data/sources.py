"""The rows of a user's CSV or Parquet file, a chunk at a time, so a file of any size is read in
bounded memory and a bad row is reported as soon as it is reached.

CSV is decompressed on the fly when its name ends in .gz, .bz2, .xz or .zip (as pandas'
compression="infer" would), decoded as UTF-8 line by line (so a bad byte is reported with its
line), and parsed by the csv module: every cell is a string, a blank line is skipped, a row shorter
than the header is filled with empty cells and a row wider than it is an error. Parquet (.parquet,
.pq) is read by pyarrow a record batch at a time; its columns keep their types.

Each chunk is a DataFrame whose index is the 0-based data row of the file ("row N" in messages is
index + 1: the N-th data record, not counting the header).
"""

import bz2
import codecs
import csv
import gzip
import lzma
import os
import zipfile
import zlib

import pandas as pd

from mltc_keras.errors import InputError

CHUNK_ROWS = 50_000
PARQUET_SUFFIXES = (".parquet", ".pq")

csv.field_size_limit(2**31 - 1)  # a long document is one field; the default limit is 128 KiB


def is_parquet(path):
    return os.fspath(path).lower().endswith(PARQUET_SUFFIXES)


def open_source(path):
    """The CsvSource or ParquetSource for `path`, its header read and checked."""
    name = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"{name}: file not found; check the path")
    return (ParquetSource if is_parquet(name) else CsvSource)(name)


def _quoted(names, limit=12):
    names = [f"'{n}'" for n in names]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _check_header(name, header):
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise InputError(f"{name}: duplicate column names in the header: {_quoted(duplicated)}; "
                         "give every column a distinct name")


def _unzipped(raw):
    """The one file in a zip archive (macOS' __MACOSX/ entries aside), as pandas reads it."""
    archive = zipfile.ZipFile(raw)
    members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
    if len(members) != 1:
        raise InputError(f"zip archive holds {len(members)} files; it must hold exactly one CSV")
    return archive.open(members[0])


_COMPRESSED = {".gz": ("gzip", lambda raw: gzip.GzipFile(fileobj=raw)), ".bz2": ("bzip2", bz2.BZ2File),
               ".xz": ("xz", lzma.LZMAFile), ".zip": ("zip", _unzipped)}
# RuntimeError: an encrypted zip, or a zip method Python lacks
_DECOMPRESSION_ERRORS = (OSError, EOFError, RuntimeError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)


class CsvSource:
    """A CSV file's header (`columns`) and its data rows in chunks (`chunks`), read once."""

    def __init__(self, name):
        self.name = name
        self.size = max(1, os.path.getsize(name))
        try:
            self._raw = open(name, "rb")
        except OSError as e:
            raise InputError(f"{name}: cannot read the file ({e.strerror})") from None
        self._suffix = next((s for s in _COMPRESSED if name.lower().endswith(s)), None)
        self._records = self._parsed(self._decoded_lines())
        self.columns = next(self._records, None)
        if self.columns is None:
            raise InputError(f"{name}: the file is empty; it needs a header row and data rows")
        _check_header(name, self.columns)

    def fraction_read(self):
        """How far through the file (its bytes on disk) reading has got, 0 to 1."""
        return 1.0 if self._raw.closed else min(1.0, self._raw.tell() / self.size)

    def _decompression_error(self, e):
        kind = _COMPRESSED[self._suffix][0]
        detail = " ".join(str(e).split()) or type(e).__name__
        return InputError(f"{self.name}: cannot decompress it as {kind} ({detail}); the file is truncated, damaged or "
                          f"not {kind}: compress the CSV again, or give it uncompressed without {self._suffix}")

    def _binary_lines(self):
        if self._suffix is None:
            yield from self._raw
            return
        try:
            stream = _COMPRESSED[self._suffix][1](self._raw)
        except InputError as e:
            raise InputError(f"{self.name}: {e}") from None
        except _DECOMPRESSION_ERRORS as e:
            raise self._decompression_error(e) from None
        lines = iter(stream)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                return
            except _DECOMPRESSION_ERRORS as e:
                raise self._decompression_error(e) from None
            yield line

    def _decoded_lines(self):
        with self._raw:
            for number, line in enumerate(self._binary_lines(), start=1):
                if number == 1 and line.startswith(codecs.BOM_UTF8):
                    line = line[len(codecs.BOM_UTF8):]
                try:
                    yield line.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise InputError(f"{self.name}: line {number}: byte 0x{line[e.start]:02x} is not valid UTF-8; "
                                     "save the file as UTF-8") from None

    def _parsed(self, lines):
        records = csv.reader(lines)
        while True:
            try:
                record = next(records)
            except StopIteration:
                return
            except csv.Error as e:
                detail = " ".join(str(e).split())
                raise InputError(f"{self.name}: line {records.line_num}: cannot parse as CSV ({detail}); check the "
                                 "quoting and the number of fields in each row") from None
            if record:
                yield record

    def chunks(self, rows=CHUNK_ROWS):
        width = len(self.columns)
        start, block = 0, []
        for record in self._records:
            if len(record) > width:
                raise InputError(f"{self.name}: row {start + len(block) + 1} has {len(record)} fields but the header "
                                 f"has {width}; quote texts that contain commas")
            block.append(record + [""] * (width - len(record)))
            if len(block) == rows:
                yield pd.DataFrame(block, columns=self.columns, index=range(start, start + rows), dtype=object)
                start, block = start + rows, []
        if block:
            yield pd.DataFrame(block, columns=self.columns, index=range(start, start + len(block)), dtype=object)


class ParquetSource:
    """A Parquet file's columns and its rows in chunks of record batches."""

    def __init__(self, name):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.name = name
        try:
            self._file = pq.ParquetFile(name)
        except (pa.ArrowException, OSError) as e:
            raise InputError(f"{name}: cannot read it as Parquet ({' '.join(str(e).split())}); "
                             "check that it is a complete Parquet file, or give a CSV") from None
        self.schema = self._file.schema_arrow
        self.columns = list(self.schema.names)
        self.num_rows = self._file.metadata.num_rows
        self._read = 0
        _check_header(name, self.columns)

    def fraction_read(self):
        return self._read / max(1, self.num_rows)

    def chunks(self, rows=CHUNK_ROWS):
        for batch in self._file.iter_batches(batch_size=rows):
            frame = batch.to_pandas(types_mapper=pd.ArrowDtype)  # exact types, so the output can keep them
            frame.index = range(self._read, self._read + len(frame))
            self._read += len(frame)
            yield frame
