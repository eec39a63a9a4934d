import numpy as np
import pytest

from mltc_keras.text.lengths import covering_length, max_length_for, token_lengths
from mltc_keras.text.tokenizer import Tokenizer


@pytest.fixture(scope="module")
def bert():
    return Tokenizer.bundled_wordpiece()


def test_token_lengths_count_special_tokens_and_sample_evenly(bert):
    texts = ["hello world"] * 5 + ["hello"] * 5  # [CLS] hello world [SEP] = 4; [CLS] hello [SEP] = 3
    assert token_lengths(bert, texts).tolist() == [4] * 5 + [3] * 5
    assert token_lengths(bert, texts, sample=2).tolist() == [4, 3]  # rows 0 and 5, not the first two


@pytest.mark.parametrize("lengths, expected", [
    ([10] * 100, 32),                 # short texts: the floor
    ([40] * 100, 48),                 # rounded up to a step of 16
    ([48] * 100, 48),
    ([20] * 99 + [400], 32),          # one outlier in a hundred is cut, not read
    ([20] * 98 + [400] * 2, 400),     # two in a hundred are read whole
    ([2000] * 100, 512),              # the ceiling
    ([], 32),
])
def test_covering_length(lengths, expected):
    assert covering_length(np.array(lengths)) == expected


def test_max_length_for_respects_the_encoder_limit_and_reports_what_it_reads(bert):
    long_text = " ".join(["word"] * 600)
    length, whole = max_length_for(bert, [long_text] * 3 + ["short"] * 97, limit=256)
    assert length == 256 and whole == pytest.approx(0.97)
    length, whole = max_length_for(bert, ["a few words here"] * 50)
    assert length == 32 and whole == 1.0
