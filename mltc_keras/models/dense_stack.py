"""The hidden Dense layers of the MLP heads (bag, embed-head), from a `--hidden-units` list."""



def hidden_sizes(hidden_units):
    """'512,256' -> [512, 256]; '' or 'none' -> [] (a linear model)."""
    text = str(hidden_units).strip()
    if text.lower() in ("", "none"):
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or any(size < 1 for size in sizes):
        raise ValueError(f"{hidden_units!r}: use a comma list of positive sizes (e.g. 200,100) or 'none'")
    return sizes


NORMALIZATIONS = ("batch", "layer", "none")


def dense_stack(x, hidden_units, dropout, normalization="none"):
    """Each hidden size as Dense(relu) [-> BatchNormalization or LayerNormalization] -> Dropout,
    applied to `x`."""
    import keras

    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization {normalization!r}: use one of {', '.join(NORMALIZATIONS)}")
    for i, size in enumerate(hidden_sizes(hidden_units), 1):
        x = keras.layers.Dense(size, activation="relu", name=f"hidden_{i}")(x)
        if normalization == "batch":
            x = keras.layers.BatchNormalization(name=f"batch_norm_{i}")(x)
        elif normalization == "layer":
            x = keras.layers.LayerNormalization(name=f"layer_norm_{i}")(x)
        x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    return x
