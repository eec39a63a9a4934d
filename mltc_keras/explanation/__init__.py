"""Per-label explanations: how much each word of a text pushes one label's probability up or down.

Scores are computed per token (or per word, for occlusion) and reported per word of the input:
its whitespace-separated words in order, sub-word pieces merged back onto the word they came
from. Each sigmoid label is explained on its own, never as a share of a softmax.

Methods (`METHODS`):
- occlusion: p(label | text) - p(label | text without the word); any model, any backend, one
  predict call over the text and its n one-word-shorter copies.
- gradients: integrated gradients on the token embeddings (zero-embedding baseline), summed over
  a word's pieces; archs with a token-embedding table, TensorFlow and JAX backends.
- attention: bilstm's attention weight of each token, summed per word. It says where the model
  looked, not what raised a label: the same for every label, never negative.
"""

METHODS = ("occlusion", "gradients", "attention")
