"""Models the operators share: loaded once per process, seeded per call.

Loading goes through :mod:`zp_hf.loading`, so ``model:`` accepts a local folder,
a packaged alias (``smollm2-135m-instruct``) or a hub id, exactly as backends do.
"""

from __future__ import annotations

import contextlib
import random
from typing import Any, Iterator, Literal

ModelKind = Literal["causal", "seq2seq"]
_LOADED: dict[tuple[str, str, str, str], tuple[Any, Any]] = {}


def shared_model(kind: ModelKind, name: str, *, dtype: str = "fp32", device: str = "cpu") -> tuple[Any, Any]:
    """``(model, tokenizer)``, loaded on first use and then reused by every operator."""
    key = (kind, name, dtype, device)
    if key not in _LOADED:
        from zp_hf.loading import load_causal_lm, load_seq2seq_lm

        loader = load_causal_lm if kind == "causal" else load_seq2seq_lm
        _LOADED[key] = loader(name, dtype=dtype, device=device)  # type: ignore[arg-type]
    return _LOADED[key]


@contextlib.contextmanager
def seeded_torch(rng: random.Random) -> Iterator[None]:
    """Run with torch's global generators seeded from ``rng``, restoring them after.

    ``generate()`` samples from the global generators, so a forked, seeded state is
    the way to make sampling reproducible without disturbing the caller's state.
    """
    import torch

    seed = rng.getrandbits(63)
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
