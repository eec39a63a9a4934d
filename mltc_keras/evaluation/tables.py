"""Fixed-width text tables for the terminal: first column left-aligned, the others right-aligned."""


def cell(value, digits=3):
    """A table cell: floats to `digits` decimals, None as n/a."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render(header, rows):
    """Rows of already formatted cells (or values, through `cell`) under `header`; every line has the same width."""
    table = [list(map(str, header))] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    return "\n".join(
        "  ".join(text.ljust(w) if i == 0 else text.rjust(w) for i, (text, w) in enumerate(zip(line, widths)))
        for line in table)
