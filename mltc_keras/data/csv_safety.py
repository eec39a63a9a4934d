"""CSV files safe to open in a spreadsheet: cells it would run as formulas are made inert (OWASP
"CSV injection") and every row stays one row."""

import re

import pandas as pd

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")  # "-1.5" is read as a number, never run


def neutralize(value):
    """`value` behind a single quote when it is a string a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralize_formulas(frame):
    """A copy of `frame` whose string cells and column names cannot start a formula; numeric
    columns are left as they are."""
    out = frame.rename(columns=neutralize)
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(neutralize)
    return out


def write_csv(frame, path, header=True):
    """`frame` as CSV without the index, formulas neutralized, to a path or to a file opened with
    newline="" (`header=False` appends rows to one). Rows end in CRLF (RFC 4180) because the csv
    module quotes only cells holding a character of the line end: with pandas' default LF, a cell
    holding a bare CR was left unquoted and readers split its row there."""
    neutralize_formulas(frame).to_csv(path, index=False, header=header, lineterminator="\r\n")
