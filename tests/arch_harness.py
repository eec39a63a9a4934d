"""One test harness every arch calls with tiny options (after keras-hub's `run_backbone_test`).

`run_arch_test(arch_name, spec_kwargs, features, inputs, tmp_path)` checks, on real Keras models:
the network builds and maps inputs to one float32 probability in (0, 1) per label; right-padding
does not change the output (token archs); under mixed precision the output stays float32; the
model saved as a TextClassifier reloads in a separate process with identical outputs; and a few
steps of training lower the loss on a learnable target. A new arch gets all of it by one call.
"""

import json

import keras
import numpy as np

from conftest import run_python
from mltc_keras.models import get_arch
from mltc_keras.models.text_classifier import TextClassifier
from mltc_keras.text.tokenizer import Tokenizer

NUM_LABELS = 3


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def check_builds(arch, spec, features, inputs):
    network = arch.build(spec, features, NUM_LABELS)
    out = _numpy(network(inputs, training=False))
    assert out.shape == (len(inputs), NUM_LABELS) and out.dtype == np.float32
    assert ((out > 0) & (out < 1)).all()
    assert network.get_layer("probabilities").compute_dtype == "float32"
    return network


def check_padding_invariance(network, inputs):
    padded = np.pad(inputs, ((0, 0), (0, 7)))
    np.testing.assert_allclose(_numpy(network(padded, training=False)), _numpy(network(inputs, training=False)),
                               rtol=1e-5, atol=1e-6)


def check_mixed_precision(arch, spec, features, inputs):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        network = arch.build(spec, features, NUM_LABELS)
        computes_in_half = any(layer.compute_dtype == "bfloat16" for layer in network.layers)
    finally:
        keras.config.set_dtype_policy(previous)
    assert computes_in_half
    assert keras.backend.standardize_dtype(network(inputs, training=False).dtype) == "float32"


def check_reloads_in_another_process(network, inputs, tmp_path, arch_name):
    tokenizer = Tokenizer.bundled_wordpiece()
    model = TextClassifier(network, labels=["a", "b", "c"], tokenizer_json=tokenizer.to_json(), max_length=16,
                           arch=arch_name, thresholds=[0.3, 0.5, 0.7])
    path = tmp_path / f"{arch_name}.keras"
    model.save(path)
    np.save(tmp_path / "inputs.npy", inputs)
    code = ("import json, keras, numpy as np, mltc_keras; import keras_hub; "
            f"m = keras.saving.load_model({str(path)!r}); "
            f"np.save({str(tmp_path / 'again.npy')!r}, m.predict(np.load({str(tmp_path / 'inputs.npy')!r}), verbose=0)); "
            "print(json.dumps([type(m).__name__, m.labels, m.thresholds, m.arch]))")
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == ["TextClassifier", ["a", "b", "c"], [0.3, 0.5, 0.7], arch_name]
    np.testing.assert_array_equal(np.load(tmp_path / "again.npy"), model.predict(inputs, verbose=0))


def check_training_lowers_the_loss(arch, spec, features, inputs):
    """Targets that are a fixed function of the input, so the network can fit them."""
    keras.utils.set_random_seed(0)  # unseeded, bag's initial weights left it short of the bound in 1 run of many
    rng = np.random.default_rng(0)
    x = np.concatenate([inputs] * 8)
    y = (rng.random((len(inputs), NUM_LABELS)) < 0.5).astype("float32")
    y = np.concatenate([y] * 8)
    network = arch.build(spec, features, NUM_LABELS)
    network.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    before = network.evaluate(x, y, verbose=0)
    network.fit(x, y, batch_size=8, epochs=30, verbose=0)
    after = network.evaluate(x, y, verbose=0)
    assert after < 0.9 * before, (before, after)


def run_arch_test(arch_name, spec_kwargs, features, inputs, tmp_path, token_inputs=True):
    """Every check above on `arch_name` built from `spec_kwargs` over `features` (what
    `arch.features` would return, or a stand-in with its `width`), fed `inputs`."""
    arch = get_arch(arch_name)
    spec = arch.Spec(**spec_kwargs)
    arch.check(spec)
    network = check_builds(arch, spec, features, inputs)
    if token_inputs:
        check_padding_invariance(network, inputs)
    check_mixed_precision(arch, spec, features, inputs)
    check_reloads_in_another_process(network, inputs, tmp_path, arch_name)
    check_training_lowers_the_loss(arch, spec, features, inputs)
