"""Pretrained BERT-family encoders through keras-hub, each with its own tokenizer.

A source (`--pretrained SRC`) is one of:
- a local folder in Hugging Face layout: config.json, model.safetensors, and tokenizer.json or
  vocab.txt (read with no network);
- `hf://org/name` or a bare Hugging Face id (`bert-base-uncased`): fetched into the Hugging Face
  cache, then read as a folder;
- a keras-hub preset name (`bert_tiny_en_uncased`).

keras-hub converts BERT, DistilBERT, RoBERTa, XLM-RoBERTa and ALBERT checkpoints. The tokenizer
always comes from the checkpoint, so the ids match the embedding rows.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import keras

from mltc_keras.encoders.pooling import check_pooling, layer_indices
from mltc_keras.nn.layers import EncoderInputs, SequencePooling, TokenWindows, WindowMean
from mltc_keras.text.tokenizer import Tokenizer

FOLDER_FILES = "config.json, model.safetensors, and tokenizer.json or vocab.txt"


@dataclass
class Pretrained:
    source: str
    backbone: keras.Model
    tokenizer: Tokenizer
    fingerprint: str  # changes when the weights, config or tokenizer change

    @property
    def hidden_dim(self):
        return int(self.backbone.hidden_dim)

    @property
    def max_sequence_length(self):
        return getattr(self.backbone, "max_sequence_length", None)


def _keras_hub():
    import keras_hub  # noqa: F401  (slow to import; only encoder archs need it)

    return keras_hub


def _is_keras_hub_preset(source):
    return source.startswith("kaggle://") or source in _keras_hub().models.Backbone.presets


def _hub_folder(source):
    """A Hugging Face id, fetched (or found in the local Hugging Face cache) as a folder."""
    repo_id = source.removeprefix("hf://")
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, allow_patterns=["*.json", "*.txt", "*.safetensors", "*.model"]))
    except Exception as exc:  # offline, unknown id, no permission: all end the same way for the user
        raise ValueError(f"no such folder here, and fetching it from the Hugging Face hub "
                         f"failed ({type(exc).__name__}); without network, download the checkpoint elsewhere and "
                         f"pass its folder ({FOLDER_FILES})") from None


def _special_token(config, name, default):
    value = config.get(name, default)
    return value.get("content", default) if isinstance(value, dict) else value


def _folder_tokenizer(folder):
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    pad_token = _special_token(config, "pad_token", "[PAD]")
    try:
        if (folder / "tokenizer.json").is_file():
            return Tokenizer.from_json((folder / "tokenizer.json").read_text(encoding="utf-8"), pad_token=pad_token)
        if (folder / "vocab.txt").is_file():
            return Tokenizer.from_vocab_file(str(folder / "vocab.txt"), lowercase=config.get("do_lower_case", True))
    except Exception as exc:
        raise ValueError(f"its tokenizer cannot be read ({type(exc).__name__}: {exc})") from None
    raise ValueError(f"no tokenizer.json or vocab.txt (a checkpoint folder needs {FOLDER_FILES})")


def fingerprint(*parts):
    """16 hex digits of sha256 over `parts`: a Path by its file's bytes, anything else by its str."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            with open(part, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        else:
            h.update(str(part).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:16]


def _backbone(preset, label):
    try:
        return _keras_hub().models.Backbone.from_preset(str(preset))
    except Exception as exc:  # keras-hub raises many types for unreadable or unsupported checkpoints
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ValueError(f"keras-hub cannot build an encoder from it "
                         f"({type(exc).__name__}: {message})") from None


def _from_folder(folder, label):
    missing = [name for name in ("config.json", "model.safetensors") if not (folder / name).is_file()]
    if missing:
        raise ValueError(f"no {' or '.join(missing)} in {folder} (a checkpoint folder needs "
                         f"{FOLDER_FILES})")
    tokenizer = _folder_tokenizer(folder)
    backbone = _backbone(folder, label)
    vocab_size = getattr(backbone, "vocabulary_size", None)
    if vocab_size is not None and tokenizer.vocab_size > vocab_size:
        raise ValueError(f"the tokenizer has {tokenizer.vocab_size} tokens but the encoder "
                         f"only {vocab_size} embedding rows; the folder mixes two checkpoints")
    token_files = [folder / name for name in ("tokenizer.json", "vocab.txt") if (folder / name).is_file()]
    return Pretrained(label, backbone, tokenizer,
                      fingerprint(folder / "config.json", folder / "model.safetensors", *token_files))


def _from_keras_hub(name):
    backbone = _backbone(name, name)
    hub_tokenizer = _keras_hub().models.Tokenizer.from_preset(name)
    vocabulary = getattr(hub_tokenizer, "vocabulary", None)
    if not isinstance(vocabulary, list) or "[PAD]" not in vocabulary:
        raise ValueError("only WordPiece (BERT-style) keras-hub presets are supported by name; "
                         "pass the checkpoint's Hugging Face folder instead")
    tokenizer = Tokenizer.from_vocab_list(vocabulary, lowercase=getattr(hub_tokenizer, "lowercase", True))
    return Pretrained(name, backbone, tokenizer, fingerprint(name, tokenizer.to_json()))


def load_pretrained(source):
    """The encoder and tokenizer that `source` names; a ValueError says what was looked for."""
    if not source:
        raise ValueError("give an encoder: a Hugging Face checkpoint folder "
                         f"({FOLDER_FILES}), hf://org/name, or a keras-hub preset name")
    source = str(source)
    folder = Path(source).expanduser()
    if folder.is_dir():
        return _from_folder(folder, source)
    if folder.exists() or source.startswith((".", "/", "~")) or source.endswith("/") or source.count("/") > 1:
        raise ValueError(f"no such folder (a checkpoint folder needs {FOLDER_FILES})")
    if _is_keras_hub_preset(source):
        return _from_keras_hub(source)
    return _from_folder(_hub_folder(source), source)


def _hidden_states(backbone, indices):
    """A model from the backbone's inputs to the hidden states `indices` (see `layer_indices`)."""
    blocks = [layer for layer in backbone.layers if layer.name.startswith("transformer_layer_")]
    if len(blocks) != backbone.num_layers:
        raise ValueError(f"this encoder ({type(backbone).__name__}) exposes only its last layer; pool the last layer only")
    states = [blocks[0].input[0]] + [block.output for block in blocks]
    return keras.Model(backbone.input, [states[i] for i in indices], name="hidden_states")


def encoder_network(backbone, pad_id, pooling, layers="last", normalize=False, name="encoder", window=0):
    """token ids (right-padded with `pad_id`) -> one vector per text.

    Each chosen hidden state (`layers`, see `layer_indices`) is pooled, as the masked mean over
    the real tokens (`mean`) or the first token's vector (`cls`), optionally scaled to unit length
    (`normalize`, so that layers of different scales weigh alike), and the results are concatenated.
    With a `window` of tokens, each text is read in windows of that many (`TokenWindows`), and each
    layer's pooled vectors are averaged over a text's windows, weighted by their tokens, before
    `normalize`.
    """
    check_pooling(pooling)
    indices = layer_indices(layers, backbone.num_layers)
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    encoded_ids, window_tokens = token_ids, None
    if window:
        encoded_ids, window_tokens = TokenWindows(window, pad_id, name="windows")(token_ids)
    padding_mask, segment_ids = EncoderInputs(pad_id, name="encoder_inputs")(encoded_ids)
    feeds = {"token_ids": encoded_ids, "padding_mask": padding_mask, "segment_ids": segment_ids}
    inputs = {key: feeds[key] for key in backbone.input}
    if indices == [backbone.num_layers]:
        outputs = backbone(inputs)
        states = [outputs["sequence_output"] if isinstance(outputs, dict) else outputs]
    else:
        states = _hidden_states(backbone, indices)(inputs)
        states = states if isinstance(states, (list, tuple)) else [states]
    pooled = []
    for i, state in zip(indices, states):
        vector = SequencePooling(pooling, name=f"{pooling}_pooling_{i}")([state, padding_mask])
        if window_tokens is not None:
            vector = WindowMean(name=f"window_mean_{i}")([vector, window_tokens])
        if normalize:
            vector = keras.layers.UnitNormalization(name=f"unit_norm_{i}")(vector)
        pooled.append(vector)
    output = pooled[0] if len(pooled) == 1 else keras.layers.Concatenate(name="layers")(pooled)
    return keras.Model(token_ids, output, name=name)
