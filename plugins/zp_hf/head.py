"""The LM head at the scored positions only, in fp32, and the attention masks of packed rows."""

from __future__ import annotations

from typing import Any

import torch


class ScoringHead:
    """Log-softmax of the LM head at given hidden states, in fp32.

    In bf16/fp16 the logits would be rounded to ~3 significant digits (0.125 at 20),
    enough to flip close labels, so the head runs in fp32 from an fp32 copy of its
    weights; it runs only at the positions that are read, never over a whole batch.

    Args:
        model: a Hugging Face LM (its ``get_output_embeddings()`` is the head).
        scale: multiplies the hidden states first (T5 with tied embeddings: d_model^-0.5).
    """

    def __init__(self, model: Any, *, scale: float = 1.0) -> None:
        head = model.get_output_embeddings()
        weight = head.weight.detach()
        bias = getattr(head, "bias", None)
        self.weight = weight.float() if weight.dtype != torch.float32 else weight
        self.bias = None if bias is None else bias.detach().float()
        self.scale = scale
        self.softcap = getattr(model.config, "final_logit_softcapping", None)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """``(positions, vocab)`` fp32 logits for ``hidden`` of shape (positions, hidden)."""
        hidden = hidden.float()
        if self.scale != 1.0:
            hidden = hidden * self.scale
        logits = torch.nn.functional.linear(hidden, self.weight, self.bias)
        if self.softcap:
            logits = torch.tanh(logits / self.softcap) * self.softcap
        return logits

    def picked_log_probs(self, hidden: torch.Tensor, rows: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """``log p(tokens[i] | hidden[rows[i]])`` for each pick: the picked logits minus their
        row's logsumexp, without writing a (positions, vocab) log-softmax to memory."""
        logits = self.logits(hidden)
        return logits[rows, tokens] - torch.logsumexp(logits, dim=-1)[rows]


def segment_mask(
    query_seg: torch.Tensor,
    key_seg: torch.Tensor,
    dtype: torch.dtype,
    *,
    causal: bool,
    query_branch: torch.Tensor | None = None,
    key_branch: torch.Tensor | None = None,
) -> torch.Tensor:
    """An additive (rows, 1, queries, keys) mask: 0 where a query may attend, the dtype's
    minimum elsewhere.

    A query sees the keys of its own segment (earlier or equal positions if ``causal``);
    with branches, a key of branch b > 0 only from the same branch (trunk keys, branch 0,
    from every branch). Padding queries (segment -1) see every key, so that no row of
    the softmax is empty: their outputs are never read, and no real query sees them.
    Additive masks work with both the ``sdpa`` and the ``eager`` attention of transformers.
    """
    allowed = query_seg[:, :, None] == key_seg[:, None, :]
    if causal:
        q_index = torch.arange(query_seg.shape[1], device=query_seg.device)
        k_index = torch.arange(key_seg.shape[1], device=key_seg.device)
        allowed &= q_index[None, :, None] >= k_index[None, None, :]
    if query_branch is not None and key_branch is not None:
        allowed &= (key_branch[:, None, :] == 0) | (key_branch[:, None, :] == query_branch[:, :, None])
    allowed |= (query_seg == -1)[:, :, None]
    mask = torch.zeros(allowed.shape, dtype=dtype, device=allowed.device)
    return mask.masked_fill_(~allowed, torch.finfo(dtype).min).unsqueeze(1)
