"""A tiny BERT checkpoint in Hugging Face layout (config.json, model.safetensors, vocab.txt), random
weights, written by the tests themselves: the real loading code reads it with no network."""

import json

import numpy as np
from safetensors.numpy import save_file

from conftest import CUES, FILLER, cli, make_rows, write_csv

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = sorted(set(FILLER) | set(CUES.values()) | {"so", "furious", "happy", "!", "?", "."})


VOCAB = SPECIAL + WORDS


def _normal(seed):
    rng = np.random.default_rng(seed)
    return lambda *shape: (rng.standard_normal(shape) * 0.2).astype("float32")


def _layer_norm(name, hidden):
    return {f"{name}.weight": np.ones(hidden, "float32"), f"{name}.bias": np.zeros(hidden, "float32")}


def _blocks(normal, layers, prefix, shapes, norms, hidden):
    """Each block's Dense weights and biases (`shapes`: name -> (rows, cols)) and its LayerNorms."""
    weights = {}
    for i in range(layers):
        for name, (rows, cols) in shapes.items():
            weights[f"{prefix}{i}.{name}.weight"] = normal(rows, cols)
            weights[f"{prefix}{i}.{name}.bias"] = normal(rows)
        for norm in norms:
            weights.update(_layer_norm(f"{prefix}{i}.{norm}", hidden))
    return weights


def _write_checkpoint(folder, config, weights):
    """config.json, model.safetensors, and the shared WordPiece vocabulary, into `folder` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True, "pad_token": "[PAD]"}))
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    save_file(weights, str(folder / "model.safetensors"))
    return folder


def tiny_bert_weights(vocab_size, hidden, layers, intermediate, max_positions, seed=0):
    """Every tensor a BertModel checkpoint holds, under its Hugging Face name."""
    normal = _normal(seed)
    square = (hidden, hidden)
    shapes = {"attention.self.query": square, "attention.self.key": square, "attention.self.value": square,
              "attention.output.dense": square, "intermediate.dense": (intermediate, hidden),
              "output.dense": (hidden, intermediate)}
    return {
        "embeddings.word_embeddings.weight": normal(vocab_size, hidden),
        "embeddings.position_embeddings.weight": normal(max_positions, hidden),
        "embeddings.token_type_embeddings.weight": normal(2, hidden),
        **_layer_norm("embeddings.LayerNorm", hidden),
        "pooler.dense.weight": normal(hidden, hidden),
        "pooler.dense.bias": np.zeros(hidden, "float32"),
        **_blocks(normal, layers, "encoder.layer.", shapes, ("attention.output.LayerNorm", "output.LayerNorm"), hidden),
    }


def make_tiny_bert(folder, hidden=8, layers=1, heads=2, intermediate=16, max_positions=64, seed=0):
    """Write the checkpoint into `folder` (created) and return it."""
    config = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": len(VOCAB), "hidden_size": hidden,
              "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": intermediate,
              "max_position_embeddings": max_positions, "type_vocab_size": 2, "hidden_act": "gelu",
              "layer_norm_eps": 1e-12, "pad_token_id": 0}
    return _write_checkpoint(folder, config, tiny_bert_weights(len(VOCAB), hidden, layers, intermediate,
                                                               max_positions, seed))


def make_tiny_distilbert(folder, hidden=8, layers=1, heads=2, intermediate=16, max_positions=64, seed=0):
    """A DistilBERT checkpoint (no segment embeddings, other weight names) with the same vocabulary."""
    config = {"architectures": ["DistilBertModel"], "model_type": "distilbert", "vocab_size": len(VOCAB),
              "dim": hidden, "n_layers": layers, "n_heads": heads, "hidden_dim": intermediate, "dropout": 0.1,
              "max_position_embeddings": max_positions, "pad_token_id": 0}
    normal = _normal(seed)
    square = (hidden, hidden)
    shapes = {"attention.q_lin": square, "attention.k_lin": square, "attention.v_lin": square,
              "attention.out_lin": square, "ffn.lin1": (intermediate, hidden), "ffn.lin2": (hidden, intermediate)}
    weights = {
        "distilbert.embeddings.word_embeddings.weight": normal(len(VOCAB), hidden),
        "distilbert.embeddings.position_embeddings.weight": normal(max_positions, hidden),
        **_layer_norm("distilbert.embeddings.LayerNorm", hidden),
        **_blocks(normal, layers, "distilbert.transformer.layer.", shapes, ("sa_layer_norm", "output_layer_norm"),
                  hidden),
    }
    return _write_checkpoint(folder, config, weights)


def train_on_tiny_bert(root, arch, output, *options):
    """A tiny checkpoint (root/tiny-bert), train/valid CSVs, and `mltc-keras train --arch ARCH` on them."""
    make_tiny_bert(root / "tiny-bert")
    write_csv(root / "train.csv", make_rows(160, seed=1))
    write_csv(root / "valid.csv", make_rows(48, seed=2))
    result = cli("train", "--arch", arch, "--pretrained", "tiny-bert", "--train", "train.csv", "--valid",
                 "valid.csv", "--output", output, *options, cwd=root)
    assert result.returncode == 0, result.stderr
    return root
