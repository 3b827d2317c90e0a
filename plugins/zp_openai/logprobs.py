"""Label log-likelihoods from the prompt log-probabilities a completions endpoint returns.

Rank classification scores ``context + answer`` and keeps the log-probabilities of the
answer's tokens: those after the boundary ``len(context)``. Two dialects give them:

* ``echo``: ``echo: true`` with ``logprobs`` (OpenAI's legacy completions, llama-cpp-python,
  vLLM): ``tokens``, ``token_logprobs`` and ``text_offset`` (character offsets into the
  echoed text) per token; a token that straddles the boundary counts as the answer's.
* ``prompt_logprobs`` (vLLM): per prompt token ``None`` (the first) or
  ``{token_id: {"logprob", "decoded_token", ...}}``; with ``prompt_logprobs: 0`` only the
  prompt's own token is in it. There are no offsets, so the answer's tokens are found
  from the end: the last tokens whose decoded text covers the answer's characters.

:func:`counting_is_shifted` recognises a server whose echoed log-probabilities are shifted
by one token (llama-cpp-python issue 1983: each token scored by the distribution *after*
it, on models without a BOS token): a counting sequence is then improbable.
"""

from __future__ import annotations

import math
from typing import Any, Literal, Mapping, Sequence

Dialect = Literal["echo", "prompt_logprobs"]

#: A text every LM continues with near certainty, token after token.
COUNTING = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16"


def request_body(dialect: Dialect, model: str, prompt: str | list[str]) -> dict[str, Any]:
    """The completions request that returns the prompt's token log-probabilities."""
    body: dict[str, Any] = {"model": model, "prompt": prompt, "max_tokens": 1, "temperature": 0.0}
    if dialect == "echo":
        body.update(echo=True, logprobs=0)
    else:
        body.update(prompt_logprobs=0)
    return body


def answer_logprobs(dialect: Dialect, choice: Mapping[str, Any], boundary: int, end: int) -> list[float]:
    """The log-probabilities of the tokens of ``text[boundary:end]`` in one choice."""
    if dialect == "echo":
        return _echo(choice["logprobs"], boundary, end)
    return _prompt_logprobs(choice["prompt_logprobs"], end - boundary)


def _echo(logprobs: Mapping[str, Any], boundary: int, end: int) -> list[float]:
    tokens, values, offsets = logprobs["tokens"], logprobs["token_logprobs"], logprobs["text_offset"]
    if not (len(tokens) == len(values) == len(offsets)):
        raise ValueError("tokens, token_logprobs and text_offset differ in length")
    picked = []
    for token, value, offset in zip(tokens, values, offsets):
        if offset >= end:  # the generated token (max_tokens: 1) and anything after
            break
        if offset + len(token) > boundary:
            if value is None:
                raise ValueError("an answer token has no log-probability")
            picked.append(float(value))
    if not picked:
        raise ValueError(f"no token after offset {boundary} in the echoed prompt")
    return picked


def _prompt_logprobs(entries: Sequence[Mapping[str, Any] | None], answer_chars: int) -> list[float]:
    picked: list[float] = []
    covered = 0
    for entry in reversed(entries):
        if covered >= answer_chars:
            break
        if not entry:
            raise ValueError("the answer reaches the first prompt token, which has no log-probability")
        if len(entry) != 1:
            raise ValueError("prompt_logprobs entries hold several tokens; request prompt_logprobs: 0")
        (info,) = entry.values()
        picked.append(float(info["logprob"]))
        covered += len(info.get("decoded_token") or "")
    if not picked:
        raise ValueError("no prompt_logprobs for the answer")
    return picked[::-1]


def counting_is_shifted(choice: Mapping[str, Any], dialect: Dialect) -> bool:
    """Whether the counting probe's last half is improbable (mean log-prob under -3):
    the sign of log-probabilities shifted by one token."""
    values = answer_logprobs(dialect, choice, len(COUNTING) // 2, len(COUNTING))
    return sum(values) / len(values) < -3.0


def has_prompt_logprobs(choice: Mapping[str, Any], dialect: Dialect) -> bool:
    """Whether a probe answer carries per-token prompt log-probabilities of the dialect."""
    try:
        values = answer_logprobs(dialect, choice, len("1, 2"), len(COUNTING))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return False
    return len(values) >= 2 and all(math.isfinite(v) for v in values)
