"""Chunks of rows (DataFrames with the same columns) written to one CSV or Parquet file as they
come, so an output of any size is never held in memory whole. Callers write to a temporary path
(data.atomic) so that a run stopped half-way leaves no partial file."""

from mltc_keras.data.csv_safety import write_csv


def write_rows(path, chunks, parquet=False):
    """Every chunk of `chunks`, in order, into `path` (Parquet or CSV); returns the number of rows."""
    return (_write_parquet if parquet else _write_csv)(path, chunks)


def _write_csv(path, chunks):
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        for chunk in chunks:
            write_csv(chunk, f, header=rows == 0)
            rows += len(chunk)
    return rows


def _write_parquet(path, chunks):
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer, rows = None, 0
    try:
        for chunk in chunks:
            # later chunks take the first one's schema, so a column's type cannot drift between row groups
            table = pa.Table.from_pandas(chunk, preserve_index=False, schema=writer and writer.schema)
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
            rows += len(chunk)
    finally:
        if writer is not None:
            writer.close()
    return rows
