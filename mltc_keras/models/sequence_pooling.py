"""Masked global poolings of a token sequence (bilstm's states, bag's word vectors, embed-head's
token path), from a `--pooling` list."""

POOLINGS = ("max", "mean")


def pooling_names(pooling):
    """'max,mean' -> ['max', 'mean']; '' or 'none' -> []. ValueError for an unknown name."""
    names = [] if pooling in ("", "none") else [p.strip() for p in pooling.split(",")]
    unknown = set(names) - set(POOLINGS)
    if unknown:
        raise ValueError(f"unknown pooling {sorted(unknown)}; use a comma list of max, mean or 'none'")
    return names


def some_poolings(pooling):
    """`pooling_names`, and ValueError for none at all (for a vector made of the poolings alone)."""
    names = pooling_names(pooling)
    if not names:
        raise ValueError(f"{pooling!r}: name at least one pooling: mean, max or mean,max")
    return names


def pool_sequence(x, names, mask=None, prefix=""):
    """(batch, time, features) `x` -> one (batch, features) tensor per name, over the unpadded steps
    (`mask`, else the one `x` carries); a row with none pools to zeros. The layers are named
    `{prefix}max_pool`, `{prefix}mean_pool`."""
    from mltc_keras.nn.layers import MaskedGlobalAveragePooling1D, MaskedGlobalMaxPooling1D

    layers = {"max": MaskedGlobalMaxPooling1D, "mean": MaskedGlobalAveragePooling1D}
    return [layers[name](name=f"{prefix}{name}_pool")(x, mask=mask) for name in names]


def concatenated(tensors, name):
    """One tensor as it is; several joined on the last axis by a Concatenate layer called `name`."""
    import keras

    return tensors[0] if len(tensors) == 1 else keras.layers.Concatenate(name=name)(tensors)
