"""Plain-transformers anchors and the FLOP bound, for ``zp-evolve bench --random-init``.

The anchor is what a user would write with transformers alone, on the same token ids
as the scorers: batches in data order, padded (left for a causal LM, right for T5's
encoder), logits at the last position only (``logits_to_keep=1``; T5's decoder input
is just ``[start, sentinel]``), log-softmax, the labels' columns copied to the host per
batch. It reads single-token answers only, which is what it is for: rank
classification with one-token labels.

The bound is the speed at which the matmul peak measured in the same run would do
the work that cannot be avoided: 2 x the non-embedding parameters x the tokens of each
example, plus the LM head at the one position that is read.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from zp_evolve.errors import ModelError
from zp_hf.batching import TokenItem, pad_left, pad_right


def _single_tokens(items: Sequence[TokenItem]) -> list[list[int]]:
    if any(len(c) != 1 for item in items for c in item.candidates):
        raise ModelError("the plain-transformers anchor reads single-token answers only")
    return [[c[0] for c in item.candidates] for item in items]


def causal_anchor(model: Any, items: Sequence[TokenItem], *, pad_id: int, batch_size: int = 1024) -> list[list[float]]:
    """Per item, the log-probability of each (single-token) candidate, plain transformers."""
    labels = _single_tokens(items)
    device = next(model.parameters()).device
    out: list[list[float]] = []
    with torch.inference_mode():
        for begin in range(0, len(items), batch_size):
            chunk = items[begin : begin + batch_size]
            ids, mask = pad_left([item.context for item in chunk], pad_id, device)
            logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=1).logits[:, -1]
            logp = torch.log_softmax(logits.float(), dim=-1)
            out.extend(_gather(logp, labels[begin : begin + batch_size]))
    return out


def seq2seq_anchor(
    model: Any, items: Sequence[TokenItem], *, pad_id: int, prefix: Sequence[int], batch_size: int = 1024
) -> list[list[float]]:
    """Per item, the log-probability of each (single-token) candidate after ``prefix``, plain transformers."""
    labels = _single_tokens(items)
    device = next(model.parameters()).device
    out: list[list[float]] = []
    with torch.inference_mode():
        for begin in range(0, len(items), batch_size):
            chunk = items[begin : begin + batch_size]
            ids, mask = pad_right([item.context for item in chunk], pad_id, device)
            decoder = torch.tensor([list(prefix)] * len(chunk), device=device)
            logits = model(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder, use_cache=False).logits[:, -1]
            logp = torch.log_softmax(logits.float(), dim=-1)
            out.extend(_gather(logp, labels[begin : begin + batch_size]))
    return out


def _gather(logp: torch.Tensor, labels: list[list[int]]) -> list[list[float]]:
    width = max(len(row) for row in labels)
    index = torch.tensor([row + row[:1] * (width - len(row)) for row in labels], device=logp.device)
    values = logp.gather(1, index).tolist()  # one copy per batch, as plain code does
    return [row[: len(label)] for row, label in zip(values, labels)]


# -- FLOPs -------------------------------------------------------------------------


def _numel(modules: Sequence[Any]) -> int:
    seen: set[int] = set()
    total = 0
    for module in modules:
        for p in module.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                total += p.numel()
    return total


def causal_item_flops(model: Any, context_tokens: Sequence[int]) -> list[float]:
    """Per item: 2 x non-embedding parameters x context tokens + the head at one position."""
    embed, head = model.get_input_embeddings(), model.get_output_embeddings()
    body = _numel([model]) - _numel([embed, head])
    head_flops = 2 * head.weight.numel()
    return [2.0 * body * n + head_flops for n in context_tokens]


def seq2seq_item_flops(model: Any, items: Sequence[TokenItem], decoder_tokens: int) -> list[float]:
    """Per item: 2 x (encoder parameters x encoder tokens + decoder parameters x decoder
    tokens, the cross-attention keys and values x encoder tokens) + the head at one position."""
    embed, head = model.get_input_embeddings(), model.get_output_embeddings()
    encoder = _numel([model.get_encoder()]) - _numel([embed])
    cross = [m for name, m in model.get_decoder().named_modules() if name.endswith(("EncDecAttention.k", "EncDecAttention.v"))]
    cross_params = _numel(cross)
    decoder = _numel([model.get_decoder()]) - _numel([embed]) - cross_params
    head_flops = 2 * head.weight.numel()
    return [2.0 * ((encoder + cross_params) * len(item.context) + decoder * decoder_tokens) + head_flops for item in items]


def matmul_peak(device: str, dtype: torch.dtype = torch.bfloat16, sizes: Sequence[int] = (4096, 8192), reps: int = 20) -> float:
    """Best FLOP/s of square ``dtype`` matmuls on ``device`` (random data, after a warm-up)."""
    import time

    best = 0.0
    for n in sizes:
        a = torch.randn(n, n, dtype=dtype, device=device)
        b = torch.randn(n, n, dtype=dtype, device=device)
        for _ in range(3):
            a @ b
        for _ in range(3):
            _sync(device)
            start = time.perf_counter()
            for _ in range(reps):
                a @ b
            _sync(device)
            best = max(best, 2 * n**3 * reps / (time.perf_counter() - start))
    return best


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()
