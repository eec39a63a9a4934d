"""Several models in one file: `Ensemble`, a registered Keras model holding its member
`TextClassifier`s (each with its own tokenizer and arch), their weights and the ensemble's own
thresholds. Its probabilities are the weighted mean of its members' (Predictor does the mixing:
members read different token ids, so there is no single network to call).
"""

import keras


@keras.saving.register_keras_serializable(package="mltc_keras")
class Ensemble(keras.Model):
    arch = "ensemble"

    def __init__(self, members, weights, labels, thresholds=None, options=None, **kwargs):
        super().__init__(**kwargs)
        if len(members) != len(weights):
            raise ValueError(f"{len(members)} members but {len(weights)} weights")
        self.members = list(members)
        self.member_weights = [float(w) for w in weights]
        self.labels = list(labels)
        self.thresholds = [0.5] * len(self.labels) if thresholds is None else [float(t) for t in thresholds]
        self.options = dict(options or {})
        self.tasks = {}
        self.history_log = {}
        self.built = True

    @property
    def max_length(self):
        return max(member.max_length for member in self.members)

    def call(self, inputs, training=None):
        raise TypeError("an Ensemble's members read different token ids; predict with mltc_keras.load(path)")

    def get_config(self):
        return {**super().get_config(),
                "members": [keras.saving.serialize_keras_object(m) for m in self.members],
                "weights": self.member_weights, "labels": self.labels,
                "thresholds": [float(t) for t in self.thresholds], "options": self.options}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        members = [keras.saving.deserialize_keras_object(m) for m in config.pop("members")]
        return cls(members=members, **config)


def label_difference(reference, labels):
    """'' when `labels` hold the same names as `reference` (in any order), else what differs."""
    missing = [name for name in reference if name not in labels]
    extra = [name for name in labels if name not in reference]
    parts = ([f"lacks {', '.join(missing)}"] if missing else []) + ([f"has {', '.join(extra)} besides"] if extra else [])
    return "; ".join(parts)
