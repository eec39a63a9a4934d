"""An offline HTML page of explanations: one section per text and label, words shaded by score."""

import html

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.6rem; }
section.text { border-top: 1px solid #ccc; margin-top: 1.5rem; }
p.words { line-height: 2; } p.note { color: #555; font-size: 0.9rem; }
span.w { padding: 0.1rem 0.15rem; border-radius: 0.2rem; }
.legend span { padding: 0.1rem 0.4rem; margin-right: 0.5rem; border-radius: 0.2rem; }
"""

UP, DOWN = (22, 150, 60), (210, 40, 40)  # green: raises the label's probability; red: lowers it


def _shade(score, scale):
    alpha = 0 if scale == 0 else min(1.0, abs(score) / scale) * 0.75
    r, g, b = UP if score >= 0 else DOWN
    return f"background: rgba({r}, {g}, {b}, {alpha:.3f})"


def label_section(label, probability, words):
    """One label's words, each with its score as a tooltip and a shade scaled to the largest |score|."""
    scale = max((abs(s) for _, s in words), default=0.0)
    spans = " ".join(f'<span class="w" style="{_shade(s, scale)}" title="{s:+.4f}">{html.escape(w)}</span>'
                     for w, s in words)
    return (f'<h2>{html.escape(label)} <small>p = {probability:.3f}</small></h2>\n'
            f'<p class="words">{spans or "<em>(no words)</em>"}</p>')


def render(items, method, note=None, captions=None):
    """The page for `items`: [(text, {label: probability}, {label: [(word, score)]})], each text
    under its caption when `captions` are given."""
    sections = []
    for i, (text, probabilities, explanation) in enumerate(items):
        body = "\n".join(label_section(label, probabilities[label], words) for label, words in explanation.items())
        caption = f'<p><strong>{html.escape(captions[i])}</strong></p>\n' if captions else ""
        sections.append(f'<section class="text">\n{caption}<p class="note">{html.escape(text)}</p>\n{body}\n</section>')
    legend = ('<p class="legend"><span style="background: rgba(22, 150, 60, 0.6)">raises the label</span>'
              '<span style="background: rgba(210, 40, 40, 0.6)">lowers it</span></p>')
    extra = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>explanations ({method})</title>\n'
            f"<style>{STYLE}</style>\n</head>\n<body>\n<h1>Word scores per label, by {html.escape(method)}</h1>\n"
            f"{legend}\n{extra}\n" + "\n".join(sections) + "\n</body>\n</html>\n")
