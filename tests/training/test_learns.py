"""Every arch, trained through the real training loop on a learnable CSV (cue words decide the
labels), must reach a high F1 on held-out rows: a broken loop, monitor or default fails here."""

import numpy as np
import pytest

from learned_models import SMALL


@pytest.mark.parametrize("arch", list(SMALL))
def test_every_arch_learns_the_cue_words(learned, arch):
    import mltc_keras
    from mltc_keras.data.reader import read_labelled_csv
    from mltc_keras.evaluation.metrics import evaluate_predictions

    result = learned.result(arch)
    predictor = mltc_keras.Predictor(result.model)
    test = read_labelled_csv(learned.root / "test.csv", expected_labels=predictor.labels)
    report = evaluate_predictions(test.y, predictor.predict_proba(test.texts), predictor.labels,
                                  np.asarray(predictor.model.thresholds))
    # predicting every label everywhere scores 0.60 here; embed-head's encoder is a frozen random
    # one, whose pooled features carry the words less cleanly than a trained representation
    floor = 0.8 if arch == "embed-head" else 0.9
    assert report["micro_f1"] >= floor and report["macro_f1"] >= floor, (arch, report["micro_f1"], report["macro_f1"])
    assert result.warning is None
    assert not [message for message in result.warned if "no better than chance" in message]
