"""The text a model reads and writes for one assembled prompt (shared with the backends).

* seq2seq (T5): the blank becomes the sentinel ``<extra_id_0>`` in the encoder input,
  and the decoder target is ``<extra_id_0> answer``.
* causal: the prompt text up to the blank, then the answer; the answer is what is
  scored (and, in training, what the loss is on).
"""

from __future__ import annotations

SENTINEL = "<extra_id_0>"


def seq2seq_texts(prefix: str, suffix: str, answer: str) -> tuple[str, str]:
    """``(encoder input, decoder target)`` of an encoder-decoder model."""
    return prefix + SENTINEL + suffix, f"{SENTINEL} {answer}"


def causal_parts(prefix: str, suffix: str, answer: str) -> tuple[str, str]:
    """``(prompt, answer)`` of a decoder-only model."""
    return prefix, answer
