"""The contract of a model family (`--arch NAME`): everything the rest of the tool asks of one.

An arch is a subclass of `Arch` whose instance is registered in `mltc_keras.models.ARCHS`. It owns
its options (`Spec`), the training values that suit it (`training_defaults`, `presets`), what its
network reads (`features`), the network up to the vector the output heads read (`body`), any
weights set after building (`initialize`) and read-outs of its internals (`readout`). Generic
code (training, prediction, the CLI) goes through these and never looks inside a network.

Example (a new arch gets the CLI options, training, saving and the shared test harness):

    @dataclass
    class Spec:
        units: int = field(default=64, metadata={"help": "hidden units", "min": 1})

    class Tiny(Arch):
        name, Spec = "tiny", Spec

        def features(self, spec, train_texts):
            return TokenFeatures(Tokenizer.bundled_wordpiece())

        def body(self, spec, features):
            ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
            x = keras.layers.Embedding(features.width, spec.units, mask_zero=True)(ids)
            return ids, MaskedGlobalAveragePooling1D()(x)
"""



class Arch:
    name = None             # the --arch value
    Spec = None             # a dataclass: the arch's options, one CLI flag per field
    training_defaults = {}  # TrainOptions values that suit this arch better than the global defaults
    presets = {}            # {preset: {option: value}} over Spec and TrainOptions fields
    readouts = ()           # names `readout` accepts

    def learning_rate(self, features):
        """The learning rate when neither the options nor `training_defaults` give one: a rate that
        depends on what `features` turned out to be (bert: the encoder's width)."""
        return 1e-3

    def check(self, spec):
        """ValueError when options of `spec` that are each valid do not go together; the options
        layer calls it before any work."""

    def features(self, spec, train_texts):
        """What the network reads (mltc_keras.models.features): token ids or sentence embeddings."""
        raise NotImplementedError

    def body(self, spec, features):
        """(input, hidden): the network's input and the vector its output heads read."""
        raise NotImplementedError

    def initialize(self, network, spec, features):
        """Set weights that do not come from training (pretrained embeddings); nothing by default."""

    def unfrozen(self, spec):
        """The options of a second training stage that also trains the pretrained weights `spec` keeps
        fixed, for a first stage that left many labels at chance (training/trainer.py); None (the
        default) when there is nothing to unfreeze or `spec` says not to."""
        return None

    def readout(self, name, network):
        """A keras.Model from the network's input to one of its internals (`readouts` lists them)."""
        raise ValueError(f"a model of arch {self.name!r} has no {name} to read; "
                         f"it offers {', '.join(self.readouts) or 'none'}")

    def build(self, spec, features, num_labels, tasks=None, output_bias=None):
        """The network: token ids (or embeddings) -> one sigmoid probability per label, with one head
        per task when `tasks` ({task: labels}) is given; `output_bias` per label as in nn.heads."""
        import keras

        from mltc_keras.nn.heads import output_heads

        inputs, hidden = self.body(spec, features)
        probs = output_heads(hidden, num_labels, tasks, output_bias)
        network = keras.Model(inputs, probs, name=self.name.replace("-", "_"))
        self.initialize(network, spec, features)
        return network
