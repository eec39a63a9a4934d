"""How an encoder's hidden states become one vector: which layers, pooled how (plain checks, no keras)."""

POOLINGS = ("mean", "cls")


def check_pooling(pooling):
    if pooling not in POOLINGS:
        raise ValueError(f"{pooling!r}: an encoder pools with one of {', '.join(POOLINGS)}")


def layer_indices(layers, num_layers):
    """`--layers` as hidden-state indices: 0 is the embedding output, i the output of block i.
    'last' -> [num_layers], 'all' -> [0 .. num_layers], or a comma list such as '0,3,6'."""
    text = str(layers).strip().lower()
    if text == "last":
        return [num_layers]
    if text == "all":
        return list(range(num_layers + 1))
    try:
        indices = [int(part) for part in text.split(",")]
    except ValueError:
        indices = []
    if not indices or any(not 0 <= i <= num_layers for i in indices) or len(set(indices)) != len(indices):
        raise ValueError(f"{layers!r}: use last, all, or distinct indices from 0 (embeddings) to {num_layers} "
                         f"(the encoder's last block), e.g. 0,{num_layers}")
    return indices
