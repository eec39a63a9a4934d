"""Explanations on tiny models that learned the cue words (tests/learned_models.py)."""

import json
from html.parser import HTMLParser

import numpy as np
import pytest

from conftest import CUES, cli, error_lines

TEXT = "the day was so happy and then we"  # joy's cue word "happy", filler around it


def test_pieces_merge_back_onto_the_words_of_the_input():
    from mltc_keras.explanation.words import merge_onto_words, token_words, word_spans
    from mltc_keras.text.tokenizer import Tokenizer

    text = "Unbelievably  happy, café!  naïve"
    tokenizer = Tokenizer.bundled_wordpiece()
    spans = word_spans(text)
    assert [text[a:b] for a, b in spans] == text.split()
    index = token_words(tokenizer.spans(text, 64), spans)
    tokens = tokenizer.tokens(text, 64)
    assert tokens[0] == "[CLS]" and index[0] == -1 and index[-1] == -1  # specials belong to no word
    assert len(tokens) > len(spans) + 2  # some words are several pieces ("unbelievably", "happy" + ",")
    assert sorted(set(index[1:-1])) == list(range(len(spans)))
    merged = merge_onto_words(np.ones(len(tokens)), index, len(spans))
    assert merged.tolist() == [float((index == w).sum()) for w in range(len(spans))]
    # cut at 4 tokens: [CLS] + 2 pieces + [SEP]; the words after get no token, so score 0
    short = merge_onto_words(np.ones(4), token_words(tokenizer.spans(text, 4), spans), len(spans))
    assert short[-1] == 0 and short.sum() == 2


@pytest.mark.parametrize("arch", ["bilstm", "bag", "embed-head", "bert"])
def test_occlusion_ranks_the_cue_word_first(learned, arch):
    import mltc_keras

    predictor = mltc_keras.load(learned.path(arch))
    explanation = predictor.explain(TEXT, labels=["joy"])
    words = explanation["joy"]
    assert [w for w, _ in words] == TEXT.split()
    best = max(words, key=lambda ws: ws[1])
    assert best[0] == CUES["joy"], words
    # deleting the cue moves joy far more than deleting any other word (focal loss, as bag's default,
    # keeps probabilities near its thresholds, so the size of the move is a matter of ratios)
    assert best[1] > 2 * max(abs(s) for w, s in words if w != best[0]), words


@pytest.mark.parametrize("arch", ["bilstm", "bag", "embed-head", "bert"])
def test_integrated_gradients_are_complete(learned, arch):
    """The attributions sum to p(text) - p(zero embeddings); p(text) as the re-indexed network
    computes it equals the model's prediction."""
    import mltc_keras
    from mltc_keras.explanation.gradients import integrated_gradients

    predictor = mltc_keras.load(learned.path(arch))
    ids = predictor.token_ids([TEXT])[0]
    ids = ids[ids != predictor.tokenizer.pad_id]
    columns = [0, 1, 2]
    scores, at_text, at_baseline = integrated_gradients(predictor.model.network, ids, columns,
                                                        vocab_size=predictor.tokenizer.vocab_size, steps=64)
    np.testing.assert_allclose(at_text, predictor.predict_proba([TEXT])[0][columns], atol=1e-5)
    np.testing.assert_allclose(scores.sum(axis=0), at_text - at_baseline, atol=0.02 * np.abs(at_text - at_baseline).max() + 1e-3)
    # the cue word carries joy, as occlusion says
    by_word = predictor.explain(TEXT, labels=["joy"], method="gradients")["joy"]
    assert max(by_word, key=lambda ws: ws[1])[0] == CUES["joy"], by_word


def test_attention_is_bilstms_weights_and_refused_elsewhere(learned):
    import mltc_keras

    predictor = mltc_keras.load(learned.path("bilstm"))
    words = predictor.explain(TEXT, method="attention", labels=["joy", "anger"])
    assert words["joy"] == words["anger"]  # one set of weights, whatever the label
    weights = np.array([s for _, s in words["joy"]])
    assert (weights >= 0).all() and weights.sum() <= 1 + 1e-5
    with pytest.raises(ValueError, match="no attention"):
        mltc_keras.load(learned.path("bag")).explain(TEXT, method="attention")


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.open, self.sections, self.links = [], 0, []

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "br"):
            self.open.append(tag)
        self.sections += tag == "h2"
        self.links += [v for k, v in attrs if k in ("href", "src")]

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, (tag, self.open)


def test_cli_writes_json_and_an_offline_well_formed_page(learned, tmp_path):
    done = cli("explain", "--model", learned.path("bilstm"), "--text", TEXT, "why so furious <b>today</b>",
               "--json", tmp_path / "e.json", "--html", tmp_path / "e.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "joy (p=" in done.stdout and "happy +" in done.stdout
    written = json.loads((tmp_path / "e.json").read_text())
    first, second = written["explanations"]
    assert first["text"] == TEXT and "joy" in first["words"]
    assert {"anger", "question"} <= set(second["words"])  # the labels it predicts
    assert [w for w, _ in second["words"]["anger"]] == ["why", "so", "furious", "<b>today</b>"]
    page = _Page()
    page.feed((tmp_path / "e.html").read_text())
    page.close()
    assert page.open == [] and page.links == []  # every tag closed; nothing fetched from anywhere
    assert page.sections == len(first["words"]) + len(second["words"])
    assert "&lt;b&gt;today&lt;/b&gt;" in (tmp_path / "e.html").read_text()


def test_cli_refuses_an_unknown_label_in_one_line(learned, tmp_path):
    done = cli("explain", "--model", learned.path("bag"), "--text", TEXT, "--label", "sadness",
               "--json", tmp_path / "e.json", cwd=tmp_path)
    assert done.returncode == 2
    [line] = error_lines(done)
    assert "--label sadness" in line and "joy, anger, question" in line
    assert not (tmp_path / "e.json").exists()
