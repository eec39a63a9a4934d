"""`evaluate --report DIR`: PNG plots and an index.html that ties them to the metric tables.

Everything the page needs sits in DIR (PNGs, style.css), so it reads offline. matplotlib is
imported here only, with the Agg backend, so the other commands do not pay for it.
"""

import html
from pathlib import Path

import numpy as np

from mltc_keras.data.atomic import write_dir_atomic
from mltc_keras.evaluation.metrics import PER_LABEL_COLUMNS, PREDICTION_METRICS, SCORE_METRICS
from mltc_keras.evaluation.thresholds import apply_thresholds, f1_curves

DPI = 100
SHOWN_PR_CURVES = 3  # the best and the worst labels by PR-AUC, each this many
STYLE = """body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1, h2 { font-weight: 600; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.8em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #888; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
.note { color: #555; }
"""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    _pyplot().close(fig)


def plot_per_label_f1(path, per_label):
    """Horizontal F1 bars, best label on top, each with its support."""
    plt = _pyplot()
    rows = sorted(per_label, key=lambda row: row["f1"])
    fig, ax = plt.subplots(figsize=(8, 1 + 0.3 * len(rows)))
    ax.barh(range(len(rows)), [row["f1"] for row in rows], color="#4c72b0")
    ax.set_yticks(range(len(rows)), [str(row["label"]) for row in rows], fontsize=8)
    for i, row in enumerate(rows):
        ax.text(row["f1"] + 0.01, i, f"{row['f1']:.2f}  (n={row['support']})", va="center", fontsize=7)
    ax.set_xlim(0, 1.15)
    ax.set_xlabel("F1 at the thresholds used")
    ax.set_title("F1 per label (n = positives in the data)")
    _save(fig, path)


def plot_pr_curves(path, y_true, proba, per_label):
    """Precision-recall curves of the best and worst labels by PR-AUC, and the micro-average."""
    from sklearn.metrics import precision_recall_curve

    plt = _pyplot()
    scored = sorted((j for j, row in enumerate(per_label) if row["pr_auc"] is not None),
                    key=lambda j: -per_label[j]["pr_auc"])
    shown = scored if len(scored) <= 2 * SHOWN_PR_CURVES else scored[:SHOWN_PR_CURVES] + scored[-SHOWN_PR_CURVES:]
    fig, ax = plt.subplots(figsize=(8.5, 6))
    for rank, j in enumerate(shown):
        precision, recall, _ = precision_recall_curve(y_true[:, j], proba[:, j])
        ax.plot(recall, precision, lw=1.3, ls="-" if rank < len(shown) / 2 else "--",
                label=f"{per_label[j]['label']} (AP {per_label[j]['pr_auc']:.2f}, n={per_label[j]['support']})")
    if y_true.any():
        precision, recall, _ = precision_recall_curve(y_true.ravel(), proba.ravel())
        ax.plot(recall, precision, color="black", lw=2.5, label="micro-average")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision",
           title="Precision-recall: best (solid) and worst (dashed) labels by PR-AUC")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    _save(fig, path)


def plot_f1_by_threshold(path, y_true, proba, per_label):
    """One small panel per label: F1 against the threshold, the threshold used marked."""
    plt = _pyplot()
    grid, f1 = f1_curves(y_true, proba)
    cols = min(4, len(per_label))
    rows = -(-len(per_label) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.2 * rows), sharex=True, sharey=True, squeeze=False)
    for j, row in enumerate(per_label):
        ax = axes.flat[j]
        ax.plot(grid, f1[:, j], color="#4c72b0")
        ax.axvline(row["threshold"], color="#c44e52", ls="--", lw=1)
        ax.axvline(0.5, color="#999", ls=":", lw=1)
        ax.set_title(f"{row['label']} (n={row['support']})", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(per_label):]:
        ax.axis("off")
    fig.suptitle("F1 against threshold (red dashed: threshold used; grey dotted: 0.5)")
    fig.tight_layout()
    _save(fig, path)


def plot_cooccurrence(path, y_true, y_pred, labels):
    """Label co-occurrence counts (diagonal: the label's count), true beside predicted."""
    plt = _pyplot()
    from matplotlib.colors import LogNorm

    matrices = [m.T @ m for m in (y_true.astype(int), y_pred.astype(int))]
    top = max(2, max(int(m.max()) for m in matrices))
    size = max(4.0, 0.28 * len(labels) + 2)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 1, size))
    for ax, matrix, title in zip(axes, matrices, ("true labels", "predicted labels")):
        shown = np.ma.masked_equal(matrix, 0)
        image = ax.imshow(shown, cmap="viridis", norm=LogNorm(vmin=1, vmax=top))
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_title(f"co-occurrence, {title}")
        if len(labels) <= 10:
            for (i, k), value in np.ndenumerate(matrix):
                bright = value > 0 and np.log(value) > 0.6 * np.log(top)
                ax.text(k, i, str(value), ha="center", va="center", fontsize=7, color="black" if bright else "white")
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="rows with both labels (log scale; blank: 0)")
    _save(fig, path)


def plot_training_curves(path, history):
    """Loss and validation metrics per epoch from the history stored in the model."""
    plt = _pyplot()
    epochs = np.asarray(history["epoch"]) + 1
    fig, (loss_ax, metric_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for key in ("loss", "val_loss"):
        if key in history:
            loss_ax.plot(epochs, history[key], marker="o", label=key)
    for key in sorted(history):
        if key.endswith(("micro_f1", "macro_f1", "auc")):
            metric_ax.plot(epochs, history[key], marker="o", ls="-" if key.startswith("val_") else "--", label=key)
    from matplotlib.ticker import MaxNLocator

    for ax, title in ((loss_ax, "loss"), (metric_ax, "F1 and AUC (dashed: training)")):
        ax.set(xlabel="epoch", title=title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8)
    _save(fig, path)


def _cell(value):
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


def _table(header, rows):
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report, figures, pages=()):
    """index.html: what was evaluated, the metric tables, then each figure with its caption."""
    skipped = report["skipped"]
    notes = [f"{name} undefined (skipped from its average) for: {', '.join(map(str, skipped[key]))}"
             for key, name in (("roc_auc", "ROC-AUC"), ("pr_auc", "PR-AUC")) if skipped[key]]
    if skipped["rows_without_labels"]:
        notes.append(f"{skipped['rows_without_labels']} rows without any positive label are left out of the "
                     "ranking metrics (label ranking average precision, P@k, nDCG@k)")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>mltc-keras report: {html.escape(str(report['model']))}</title>",
        '<link rel="stylesheet" href="style.css"></head><body>',
        "<h1>Evaluation report</h1>",
        _table(("", ""), [("model", report["model"]), ("data", report["data"]),
                          ("thresholds", report["thresholds"]), ("samples", report["n_samples"])]),
        "<h2>Metrics of the predicted label sets</h2>",
        _table(("metric", "at the thresholds used", "at 0.5"),
               [(key, report[key], report["at_0.5"][key]) for key in PREDICTION_METRICS]),
        "<h2>Metrics of the scores (no threshold)</h2>",
        _table(("metric", "value"), [(key, report[key]) for key in SCORE_METRICS]),
        *(f'<p class="note">{html.escape(note)}</p>' for note in notes),
        "<h2>Plots</h2>",
        *(f'<figure><img src="{html.escape(name)}" alt="{html.escape(caption)}">'
          f"<figcaption>{html.escape(caption)}</figcaption></figure>" for name, caption in figures),
        *(["<h2>Explained examples</h2>"] + [f'<p><a href="{html.escape(name)}">{html.escape(title)}</a></p>'
                                             for name, title in pages] if pages else []),
        "<h2>Per label</h2>",
        _table(PER_LABEL_COLUMNS, [[row[c] for c in PER_LABEL_COLUMNS] for row in report["per_label"]]),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(directory, report, y_true, proba, history=None, overwrite=False, pages=None):
    """Write the plots, style.css and index.html into `directory` (atomically, as one folder),
    with `pages` ({file name: (title, html)}) beside them, linked from index.html."""
    pages = pages or {}
    y_true = np.asarray(y_true).astype(int)
    proba = np.asarray(proba, dtype=float)
    per_label = report["per_label"]
    labels = [str(row["label"]) for row in per_label]
    y_pred = apply_thresholds(proba, [row["threshold"] for row in per_label])
    plots = [
        ("per_label_f1.png", "F1 per label at the thresholds used, sorted, with support",
         lambda p: plot_per_label_f1(p, per_label)),
        ("pr_curves.png", "Precision-recall curves of the best and worst labels and the micro-average",
         lambda p: plot_pr_curves(p, y_true, proba, per_label)),
        ("f1_by_threshold.png", "F1 against threshold for each label, the threshold used marked",
         lambda p: plot_f1_by_threshold(p, y_true, proba, per_label)),
        ("cooccurrence.png", "Label co-occurrence, true and predicted",
         lambda p: plot_cooccurrence(p, y_true, y_pred, labels)),
    ]
    if history and history.get("epoch"):
        plots.append(("training_curves.png", "Training curves from the model's stored history",
                      lambda p: plot_training_curves(p, history)))

    def write(tmp):
        tmp = Path(tmp)
        for name, _, plot in plots:
            plot(tmp / name)
        (tmp / "style.css").write_text(STYLE, encoding="utf-8")
        for name, (_, page) in pages.items():
            (tmp / name).write_text(page, encoding="utf-8")
        index = render_html(report, [(n, c) for n, c, _ in plots], [(name, title) for name, (title, _) in pages.items()])
        (tmp / "index.html").write_text(index, encoding="utf-8")

    write_dir_atomic(directory, write, overwrite=overwrite, option="--report")
    return [name for name, _, _ in plots]
