"""Sigmoid output heads: one over all labels, or one per task concatenated in task order.

Either way the network's output is one probability per label (the label order of the tasks), so
thresholds, evaluation and prediction see a single-head model. Plain arguments, ValueError only.
"""

import keras
import numpy as np

OUTPUT = "probabilities"  # the name of the network's output layer, single- or multi-task


def column_ranges(tasks):
    """{task: (start, stop)} of each task's columns in the model's label order."""
    ranges, start = {}, 0
    for name, group in tasks.items():
        ranges[name] = (start, start + len(group))
        start += len(group)
    return ranges


def label_weights(tasks, weights):
    """Per-label loss weights that make the loss the sum over tasks of weight x the task's mean loss."""
    return [w / len(group) for group, w in zip(tasks.values(), weights) for _ in group]


def output_heads(hidden, num_labels, tasks=None, bias=None):
    """float32 sigmoid probabilities over `hidden`: one Dense over `num_labels`, or one per task of
    `tasks` ({task: labels}) concatenated. `bias` (one value per label) sets the heads' biases, e.g.
    at the log-odds of the labels' training frequencies."""
    groups = {None: num_labels} if not tasks else {name: len(group) for name, group in tasks.items()}
    if sum(groups.values()) != num_labels:
        raise ValueError(f"the tasks hold {sum(groups.values())} labels, the data {num_labels}")
    bias = None if bias is None else np.asarray(bias, dtype="float32")
    outputs, start = [], 0
    for name, units in groups.items():
        dense = keras.layers.Dense(units, activation="sigmoid", dtype="float32",
                                   name=OUTPUT if name is None else f"{OUTPUT}_{name}")
        outputs.append(dense(hidden))
        if bias is not None:
            dense.bias.assign(bias[start:start + units])
        start += units
    if len(outputs) == 1:
        return outputs[0]
    return keras.layers.Concatenate(name=OUTPUT, dtype="float32")(outputs)
