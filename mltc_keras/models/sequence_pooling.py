"""Masked global poolings of a token sequence (bilstm's states, bag's word vectors), from a
`--pooling` list."""

POOLINGS = ("max", "mean")


def pooling_names(pooling):
    """'max,mean' -> ['max', 'mean']; '' or 'none' -> []. ValueError for an unknown name."""
    names = [] if pooling in ("", "none") else [p.strip() for p in pooling.split(",")]
    unknown = set(names) - set(POOLINGS)
    if unknown:
        raise ValueError(f"unknown pooling {sorted(unknown)}; use a comma list of max, mean or 'none'")
    return names


def pool_sequence(x, names):
    """(batch, time, features) `x` -> one (batch, features) tensor per name, over the unpadded steps;
    a row with none pools to zeros. The layers are named `max_pool`, `mean_pool`."""
    from mltc_keras.nn.layers import MaskedGlobalAveragePooling1D, MaskedGlobalMaxPooling1D

    layers = {"max": MaskedGlobalMaxPooling1D, "mean": MaskedGlobalAveragePooling1D}
    return [layers[name](name=f"{name}_pool")(x) for name in names]
