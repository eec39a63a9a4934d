"""Multi-task heads: groups of labels, each with its own sigmoid head over the shared network.

`--tasks "emotion=joy,anger;sentiment=positive,negative"` (or a YAML file mapping each task to its
labels) splits the labels into tasks. The model's labels are then ordered task by task, each task
gets its own Dense sigmoid layer, and the heads' outputs are concatenated in that order, so the
rest of the tool (thresholds, evaluation, prediction) sees one probability per label as before.
Task weights (`--task-weights emotion=1,sentiment=0.5`) scale each task's mean loss.
"""

from pathlib import Path

import keras
import numpy as np

from mltc_keras.errors import InputError

SINGLE = "labels"  # the one task of a model trained without --tasks


def _read_spec(spec):
    if str(spec).endswith((".yaml", ".yml")):
        import yaml

        path = Path(spec)
        if not path.is_file():
            raise InputError(f"--tasks {spec}: no such file")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InputError(f"--tasks {spec}: not valid YAML ({exc.__class__.__name__})") from None
        if not isinstance(data, dict):
            raise InputError(f"--tasks {spec}: expected a mapping of task name to a list of labels")
        return {str(k): [str(x) for x in (v if isinstance(v, list) else str(v).split(","))] for k, v in data.items()}
    tasks = {}
    for part in filter(None, (p.strip() for p in str(spec).split(";"))):
        name, sep, labels = part.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--tasks {spec}: write each task as name=label,label and separate tasks with ';'")
        if name.strip() in tasks:
            raise InputError(f"--tasks {spec}: task {name.strip()!r} is given twice")
        tasks[name.strip()] = [label.strip() for label in labels.split(",") if label.strip()]
    return tasks


def parse_tasks(spec, labels):
    """{task: [labels]} covering every label exactly once; None without --tasks."""
    if spec in (None, ""):
        return None
    tasks = _read_spec(spec)
    if not tasks:
        raise InputError(f"--tasks {spec}: names no task")
    named = [label for group in tasks.values() for label in group]
    empty = [name for name, group in tasks.items() if not group]
    unknown = sorted(set(named) - set(labels))
    twice = sorted({label for label in named if named.count(label) > 1})
    missing = [label for label in labels if label not in named]
    for problem, items in (("tasks without labels", empty), ("labels not in the data", unknown),
                           ("labels in more than one task", twice), ("labels in no task", missing)):
        if items:
            raise InputError(f"--tasks: {problem}: {', '.join(items)}; every label of the data belongs to exactly one task")
    return tasks


def parse_task_weights(spec, tasks):
    """[weight per task, in task order] from 'task=w,task=w' (unnamed tasks weigh 1)."""
    weights = dict.fromkeys(tasks, 1.0)
    for part in filter(None, (p.strip() for p in str(spec or "").split(","))):
        name, sep, value = part.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not sep or name.strip() not in weights or weight < 0:
            raise InputError(f"--task-weights {spec}: write task=weight for tasks of --tasks ({', '.join(tasks)}) "
                             "with weights >= 0")
        weights[name.strip()] = weight
    return list(weights.values())


def label_weights(tasks, weights):
    """Per-label loss weights that make the loss sum over tasks of weight x the task's mean loss."""
    return [w / len(group) for group, w in zip(tasks.values(), weights) for _ in group]


def column_ranges(tasks):
    """{task: (start, stop)} of each task's columns in the model's label order."""
    ranges, start = {}, 0
    for name, group in tasks.items():
        ranges[name] = (start, start + len(group))
        start += len(group)
    return ranges


def with_task_heads(network, tasks):
    """`network` with its output layer ("probabilities") replaced by one sigmoid Dense per task over
    the same features, concatenated under the name "probabilities"."""
    features = network.get_layer("probabilities").input
    heads = [keras.layers.Dense(len(group), activation="sigmoid", dtype="float32", name=f"probabilities_{name}")(features)
             for name, group in tasks.items()]
    probs = keras.layers.Concatenate(name="probabilities", dtype="float32")(heads)
    return keras.Model(network.inputs, probs, name=network.name)


def output_heads(network, tasks=None):
    """[(Dense layer, first column)] of the network's sigmoid output layers."""
    if not tasks:
        return [(network.get_layer("probabilities"), 0)]
    return [(network.get_layer(f"probabilities_{name}"), start) for name, (start, _) in column_ranges(tasks).items()]


def set_output_biases(network, biases, tasks=None):
    """Set the output heads' biases from one value per label."""
    biases = np.asarray(biases, dtype="float32")
    for head, start in output_heads(network, tasks):
        kernel, _ = head.get_weights()
        head.set_weights([kernel, biases[start:start + head.units]])
