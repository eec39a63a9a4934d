"""The model zoo: `--arch NAME` -> an `Arch` (models/base.py), one module per family."""

from mltc_keras.models import bag, bert, bilstm, embed_head

ARCHS = {module.ARCH.name: module.ARCH for module in (bilstm, bag, embed_head, bert)}


def get_arch(name):
    """The registered arch called `name`; ValueError names the ones there are."""
    try:
        return ARCHS[name]
    except KeyError:
        raise ValueError(f"unknown model family {name!r}; choose from {', '.join(ARCHS)}") from None
