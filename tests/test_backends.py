"""Under KERAS_BACKEND=jax the package imports, trains, saves and predicts with TensorFlow unimportable,
and a model file trained under TensorFlow gives the same probabilities there."""

import os
import subprocess
import sys

import numpy as np

from conftest import BLOCK_TENSORFLOW, TINY_MODEL


PREDICT = """
import numpy as np, keras, mltc_keras
assert keras.backend.backend() == "jax"
np.save("{out}", mltc_keras.load("{model}").predict_proba(["so happy today", "furious why", "the a day"]))
"""


def run_jax(code, cwd):
    env = {**os.environ, "KERAS_BACKEND": "jax", "MLTC_KERAS_CACHE": str(cwd / "cache")}
    return subprocess.run([sys.executable, "-c", BLOCK_TENSORFLOW + code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_jax_trains_and_predicts_without_tensorflow(data_dir):
    train = run_jax("import sys; from mltc_keras.cli import main; sys.exit(main(sys.argv[1:]))", data_dir)
    assert "error: mltc-keras: the following arguments are required: command" in train.stderr  # the CLI imported fine
    args = ["train", "--train", "train.csv", "--valid", "valid.csv", "--epochs", "1", "--output", "j.keras", *TINY_MODEL]
    code = f"import sys; from mltc_keras.cli import main; sys.exit(main({args!r}))"
    result = run_jax(code, data_dir)
    assert result.returncode == 0, result.stderr
    assert (data_dir / "j.keras").is_file()
    result = run_jax(PREDICT.format(out=data_dir / "j.npy", model=data_dir / "j.keras"), data_dir)
    assert result.returncode == 0, result.stderr
    assert np.load(data_dir / "j.npy").shape == (3, 3)


UNDER_JAX = """
import json, numpy as np, keras, mltc_keras
assert keras.backend.backend() == "jax"
p = mltc_keras.load("{model}")
text = "the day was so happy and then we"
print(json.dumps({{"proba": p.predict_proba(["so happy today", "furious why", "the a day"]).tolist(),
                  "explain": {{method: p.explain(text, labels=["joy", "anger"], method=method)
                              for method in ("gradients", "occlusion")}}}}))
"""


def test_tensorflow_model_gives_same_probabilities_and_explanations_under_jax(learned, tmp_path):
    """A model trained under TensorFlow predicts the same under JAX, and integrated gradients run
    there (jax.grad, TensorFlow unimportable) with TensorFlow's scores."""
    import json

    import mltc_keras

    model = learned.path("bilstm")
    result = run_jax(UNDER_JAX.format(model=model), tmp_path)
    assert result.returncode == 0, result.stderr
    under_jax = json.loads(result.stdout.strip().splitlines()[-1])
    here = mltc_keras.load(model)
    np.testing.assert_allclose(under_jax["proba"], here.predict_proba(["so happy today", "furious why", "the a day"]),
                               atol=1e-5)
    for method, explanation in under_jax["explain"].items():
        expected = here.explain("the day was so happy and then we", labels=["joy", "anger"], method=method)
        for label, words in explanation.items():
            assert [w for w, _ in words] == [w for w, _ in expected[label]]
            np.testing.assert_allclose([s for _, s in words], [s for _, s in expected[label]], atol=1e-4)
