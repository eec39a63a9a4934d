"""Every arch, trained through the real training loop on a learnable CSV (cue words decide the
labels), must reach a high F1 on held-out rows: a broken loop, monitor or default fails here."""

import numpy as np
import pytest

from conftest import write_splits
from tiny_bert import make_tiny_bert

SMALL = {"bilstm": dict(embedding_dim=16, lstm_units=8, attention_units=8, dense_units=16, init_embeddings="none",
                        freeze_embeddings=False),
         "bag": dict(embedding_dim=16, hidden_units="16", min_count=1),
         "embed-head": dict(hidden_units="64", min_updates=1000),
         "bert": dict(learning_rate=1e-3)}


@pytest.fixture(scope="module")
def learnable(tmp_path_factory):
    root = write_splits(tmp_path_factory.mktemp("learnable"), train=400, valid=100, test=200, seed=11)
    make_tiny_bert(root / "tiny-bert", hidden=64, heads=4, intermediate=64, layers=1)
    return root


@pytest.mark.parametrize("arch", list(SMALL))
def test_every_arch_learns_the_cue_words(learnable, arch):
    import mltc_keras
    from mltc_keras.data.reader import read_labelled_csv
    from mltc_keras.evaluation.metrics import evaluate_predictions

    extra = {"pretrained": str(learnable / "tiny-bert")} if arch in ("embed-head", "bert") else {}
    result = mltc_keras.train(arch=arch, train=str(learnable / "train.csv"), valid=str(learnable / "valid.csv"),
                              output=str(learnable / f"{arch}.keras"), logs_dir=str(learnable / "logs"),
                              cache_dir=str(learnable / "cache"), max_length=16,
                              **{"min_updates": 300, **SMALL[arch]}, **extra)
    predictor = mltc_keras.Predictor(result.model)
    test = read_labelled_csv(learnable / "test.csv", expected_labels=predictor.labels)
    report = evaluate_predictions(test.y, predictor.predict_proba(test.texts), predictor.labels,
                                  np.asarray(predictor.model.thresholds))
    # predicting every label everywhere scores 0.60 here; embed-head's encoder is a frozen random
    # one, whose pooled features carry the words less cleanly than a trained representation
    floor = 0.8 if arch == "embed-head" else 0.9
    assert report["micro_f1"] >= floor and report["macro_f1"] >= floor, (arch, report["micro_f1"], report["macro_f1"])
    assert result.warning is None
