"""The model zoo: `--arch NAME` -> a module with `Spec` (its options), `TRAINING_DEFAULTS`, `PRESETS`,
`features(spec, train_texts)` (what the network reads, see features.py) and
`build(spec, features, num_labels)`."""

from mltc_keras.errors import InputError
from mltc_keras.models import bag, bert, bilstm, embed_head

ARCHS = {"bilstm": bilstm, "bag": bag, "embed-head": embed_head, "bert": bert}


def get_arch(name):
    try:
        return ARCHS[name]
    except KeyError:
        raise InputError(f"--arch {name}: unknown model family; choose from {', '.join(ARCHS)}") from None
