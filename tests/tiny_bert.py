"""A tiny BERT checkpoint in Hugging Face layout (config.json, model.safetensors, vocab.txt), random
weights, written by the tests themselves: the real loading code reads it with no network."""

import json

import numpy as np
from safetensors.numpy import save_file

from conftest import CUES, FILLER, make_rows, run_cli, write_csv

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = sorted(set(FILLER) | set(CUES.values()) | {"so", "furious", "happy", "!", "?", "."})


def tiny_bert_weights(vocab_size, hidden, layers, intermediate, max_positions, seed=0):
    """Every tensor a BertModel checkpoint holds, under its Hugging Face name."""
    rng = np.random.default_rng(seed)

    def normal(*shape):
        return (rng.standard_normal(shape) * 0.2).astype("float32")

    weights = {
        "embeddings.word_embeddings.weight": normal(vocab_size, hidden),
        "embeddings.position_embeddings.weight": normal(max_positions, hidden),
        "embeddings.token_type_embeddings.weight": normal(2, hidden),
        "embeddings.LayerNorm.weight": np.ones(hidden, "float32"),
        "embeddings.LayerNorm.bias": np.zeros(hidden, "float32"),
        "pooler.dense.weight": normal(hidden, hidden),
        "pooler.dense.bias": np.zeros(hidden, "float32"),
    }
    shapes = {"attention.self.query": (hidden, hidden), "attention.self.key": (hidden, hidden),
              "attention.self.value": (hidden, hidden), "attention.output.dense": (hidden, hidden),
              "intermediate.dense": (intermediate, hidden), "output.dense": (hidden, intermediate)}
    for i in range(layers):
        for name, (rows, cols) in shapes.items():
            weights[f"encoder.layer.{i}.{name}.weight"] = normal(rows, cols)
            weights[f"encoder.layer.{i}.{name}.bias"] = normal(rows)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            weights[f"encoder.layer.{i}.{norm}.weight"] = np.ones(hidden, "float32")
            weights[f"encoder.layer.{i}.{norm}.bias"] = np.zeros(hidden, "float32")
    return weights


def make_tiny_bert(folder, hidden=8, layers=1, heads=2, intermediate=16, max_positions=64, seed=0):
    """Write the checkpoint into `folder` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = SPECIAL + WORDS
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True, "pad_token": "[PAD]"}))
    config = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": len(vocab), "hidden_size": hidden,
              "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": intermediate,
              "max_position_embeddings": max_positions, "type_vocab_size": 2, "hidden_act": "gelu",
              "layer_norm_eps": 1e-12, "pad_token_id": 0}
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    save_file(tiny_bert_weights(len(vocab), hidden, layers, intermediate, max_positions, seed),
              str(folder / "model.safetensors"))
    return folder


def make_tiny_distilbert(folder, hidden=8, layers=1, heads=2, intermediate=16, max_positions=64, seed=0):
    """A DistilBERT checkpoint (no segment embeddings, other weight names) with the same vocabulary."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = SPECIAL + WORDS
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True, "pad_token": "[PAD]"}))
    config = {"architectures": ["DistilBertModel"], "model_type": "distilbert", "vocab_size": len(vocab), "dim": hidden,
              "n_layers": layers, "n_heads": heads, "hidden_dim": intermediate, "dropout": 0.1,
              "max_position_embeddings": max_positions, "pad_token_id": 0}
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    rng = np.random.default_rng(seed)

    def normal(*shape):
        return (rng.standard_normal(shape) * 0.2).astype("float32")

    weights = {"distilbert.embeddings.word_embeddings.weight": normal(len(vocab), hidden),
               "distilbert.embeddings.position_embeddings.weight": normal(max_positions, hidden),
               "distilbert.embeddings.LayerNorm.weight": np.ones(hidden, "float32"),
               "distilbert.embeddings.LayerNorm.bias": np.zeros(hidden, "float32")}
    shapes = {"attention.q_lin": (hidden, hidden), "attention.k_lin": (hidden, hidden),
              "attention.v_lin": (hidden, hidden), "attention.out_lin": (hidden, hidden),
              "ffn.lin1": (intermediate, hidden), "ffn.lin2": (hidden, intermediate)}
    for i in range(layers):
        prefix = f"distilbert.transformer.layer.{i}."
        for name, (rows, cols) in shapes.items():
            weights[f"{prefix}{name}.weight"] = normal(rows, cols)
            weights[f"{prefix}{name}.bias"] = normal(rows)
        for norm in ("sa_layer_norm", "output_layer_norm"):
            weights[f"{prefix}{norm}.weight"] = np.ones(hidden, "float32")
            weights[f"{prefix}{norm}.bias"] = np.zeros(hidden, "float32")
    save_file(weights, str(folder / "model.safetensors"))
    return folder


def train_on_tiny_bert(root, arch, output, *options):
    """A tiny checkpoint (root/tiny-bert), train/valid CSVs, and `mltc-keras train --arch ARCH` on them."""
    make_tiny_bert(root / "tiny-bert")
    write_csv(root / "train.csv", make_rows(160, seed=1))
    write_csv(root / "valid.csv", make_rows(48, seed=2))
    result = run_cli("train", "--arch", arch, "--pretrained", "tiny-bert", "--train", "train.csv", "--valid",
                     "valid.csv", "--output", output, *options, cwd=root)
    assert result.returncode == 0, result.stderr
    return root
