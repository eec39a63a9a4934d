"""Multi-task heads from `--tasks`: which labels belong to which task, and the tasks' loss weights.

`--tasks "emotion=joy,anger;sentiment=positive,negative"` (or a YAML file mapping each task to its
labels) splits the labels into tasks. The model's labels are then ordered task by task, each task
gets its own sigmoid head (mltc_keras.nn.heads), and the heads' outputs are concatenated in that
order, so the rest of the tool (thresholds, evaluation, prediction) sees one probability per label.
Task weights (`--task-weights emotion=1,sentiment=0.5`) scale each task's mean loss.
"""

from pathlib import Path

from mltc_keras.errors import InputError


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
