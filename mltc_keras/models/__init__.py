"""The model zoo: `--arch NAME` -> a module with `Spec` (its options), `PRESETS` and `build`."""

from mltc_keras.errors import InputError
from mltc_keras.models import bag, bilstm

ARCHS = {"bilstm": bilstm, "bag": bag}


def get_arch(name):
    try:
        return ARCHS[name]
    except KeyError:
        raise InputError(f"--arch {name}: unknown model family; choose from {', '.join(ARCHS)}") from None
