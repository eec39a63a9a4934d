"""Batch prediction on Ray Data: the same scores as `predict`, computed by a pool of Ray actors that
each load the model once, on a laptop (a local Ray) or on a Ray cluster (`address`).

    import ray, mltc_keras.ray
    ds = ray.data.read_parquet("s3://bucket/comments/")
    mltc_keras.ray.predict_dataset(ds, "models/bilstm.keras").write_parquet("s3://bucket/scored/")

Ray is an extra: `pip install -e ".[ray]"`. On a cluster every node needs mltc-keras installed
(or a runtime_env that installs it) and the model file at the same path.
"""

import os
import re
from pathlib import Path

from mltc_keras.errors import InputError


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401  (Ray without its data extra lacks it)
    except ImportError:
        raise InputError("--engine ray needs Ray Data: pip install 'mltc-keras[ray]' (or 'ray[data]')") from None
    return ray


class EmptyText(ValueError):
    """A batch holds rows without text (and --drop-empty was not given)."""


def _user_error(error):
    """(type name, message) of the error user code raised inside a Ray task. Ray hands the driver
    a RayTaskError whose cause is its own UserCodeException; the original error survives only in
    the traceback text, as its first "Type: message" line."""
    match = re.search(r"^(?:[\w.]+\.)?(\w+): (.+)$", str(error), re.M)
    return match.groups() if match else (type(error).__name__, " ".join(str(error).split())[:400])


class Scorer:
    """A map_batches callable: loads the model once per actor, then turns each pandas batch into
    the rows `predict` writes (score_<label> columns and predicted_labels). `neutralize`: make
    cells inert for spreadsheets, as predict's CSV output does."""

    def __init__(self, model_path, text_column="text", threshold=None, batch_size=256, runtime="keras",
                 drop_empty=False, neutralize=False):
        from mltc_keras.models.text_classifier import thresholds_array
        from mltc_keras.serving.predictor import load

        self.predictor = load(model_path, runtime=runtime)
        self.cut = thresholds_array(self.predictor.model, threshold)
        self.text_column, self.batch_size = text_column, batch_size
        self.drop_empty, self.neutralize = drop_empty, neutralize

    def __call__(self, batch):
        from mltc_keras.commands.predict import with_predictions
        from mltc_keras.data.csv_safety import neutralize_formulas
        from mltc_keras.data.reader import text_cells

        texts, empty = text_cells(batch[self.text_column])
        if empty.any() and not self.drop_empty:
            raise EmptyText(f"{int(empty.sum())} rows of a block have an empty text in column '{self.text_column}'")
        batch = batch.assign(**{self.text_column: texts})[~empty].reset_index(drop=True)
        proba = self.predictor.predict_proba(batch[self.text_column].tolist(), batch_size=self.batch_size)
        out = with_predictions(batch, proba, self.predictor.labels, self.cut)
        return neutralize_formulas(out) if self.neutralize else out


def predict_dataset(ds, model_path, *, text_column="text", threshold=None, batch_size=256, runtime="keras",
                    drop_empty=False, workers=None, rows_per_batch=4096, neutralize=False):
    """A Ray Dataset of `ds`'s rows with the model's scores and label sets (lazy, like any Ray
    transform), computed by `workers` actors (default: one per CPU Ray has, less one).

    One CPU of the cluster is always left to the read and write tasks: actors that held every CPU
    would starve the read that feeds them, and the pipeline would wait forever (seen with two
    one-CPU actors on a two-CPU machine). More workers than that share the rest."""
    ray = _ray()
    cpus = float(ray.cluster_resources().get("CPU", 1))
    workers = workers or max(1, int(cpus) - 1)
    per_actor = min(1.0, max(0.25, (cpus - 1) / workers))
    return ds.map_batches(Scorer, batch_format="pandas", batch_size=rows_per_batch, concurrency=workers,
                          num_cpus=per_actor,
                          fn_constructor_kwargs=dict(model_path=os.fspath(Path(model_path).resolve()),
                                                     text_column=text_column, threshold=threshold,
                                                     batch_size=batch_size, runtime=runtime, drop_empty=drop_empty,
                                                     neutralize=neutralize))


def _files(path):
    """The data files of `path`, a file or a folder of them (hidden and _-prefixed names skipped)."""
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))
    raise InputError(f"--input {path}: no such file or folder; check the path")


def read_dataset(path, text_column="text"):
    """A Ray Dataset of a Parquet or CSV file or folder; CSV cells are read as strings, as the
    in-process reader does, with quoted line breaks allowed. The first file's header is checked."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from mltc_keras.data.reader import TextRows
    from mltc_keras.data.sources import is_parquet

    ray = _ray()
    files = _files(path)
    if not files:
        raise InputError(f"--input {path}: the folder holds no data files")
    columns = TextRows(files[0], text_column).columns  # the header and text column, checked as predict does
    paths = [os.fspath(f) for f in files]
    if all(is_parquet(f) for f in files):
        return ray.data.read_parquet(paths)
    if any(is_parquet(f) for f in files):
        raise InputError(f"--input {path}: holds both Parquet and CSV files; give one kind")
    return ray.data.read_csv(paths, parse_options=pacsv.ParseOptions(newlines_in_values=True),
                             convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in columns},
                                                                  strings_can_be_null=False))


def predict_files(input, output, model_path, *, address=None, overwrite=False, **kwargs):
    """Score every row of `input` (file or folder, Parquet or CSV) into the folder `output`: Parquet
    part files when its name ends in .parquet, CSV ones otherwise, rows in input order. The folder
    is written beside its final name and renamed onto it complete, so a failed run leaves none.
    Returns the number of rows written."""
    from mltc_keras.data.atomic import refuse_existing_dir

    ray = _ray()
    refuse_existing_dir(output, overwrite, "--output")
    if ray.is_initialized():
        return _predict_files(ray, input, output, model_path, overwrite, **kwargs)
    ray.init(address=address, log_to_driver=False, include_dashboard=False)
    try:
        return _predict_files(ray, input, output, model_path, overwrite, **kwargs)
    finally:
        ray.shutdown()


def _predict_files(ray, input, output, model_path, overwrite, **kwargs):
    from mltc_keras.data.atomic import write_dir_atomic
    from mltc_keras.data.sources import is_parquet

    ray.data.DataContext.get_current().execution_options.preserve_order = True
    parquet = is_parquet(output)
    scored = predict_dataset(read_dataset(input, kwargs.get("text_column", "text")), model_path,
                             neutralize=not parquet, **kwargs)

    def write(folder):
        try:
            (scored.write_parquet if parquet else scored.write_csv)(os.fspath(folder))
        except Exception as e:  # a task's error comes back wrapped in Ray's own exception types
            kind, message = _user_error(e)
            hint = "; fill them in or pass --drop-empty" if kind == EmptyText.__name__ else ""
            raise InputError(f"--input {input}: {message}{hint}") from None
        return _count_rows(folder, parquet)

    return write_dir_atomic(output, write, overwrite=overwrite, option="--output")


def _count_rows(folder, parquet):
    """Rows in the part files Ray wrote to `folder` (read from Parquet metadata, or by streaming CSV)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    files = [p for p in Path(folder).iterdir() if not p.name.startswith(".")]
    if parquet:
        return sum(pq.ParquetFile(p).metadata.num_rows for p in files)
    options = pacsv.ParseOptions(newlines_in_values=True)
    return sum(batch.num_rows for p in files for batch in pacsv.open_csv(p, parse_options=options))
