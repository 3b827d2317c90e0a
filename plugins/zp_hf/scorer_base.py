"""What the fast scorers (:mod:`zp_hf.causal`, :mod:`zp_hf.seq2seq`) share."""

from __future__ import annotations

import contextlib
from typing import Any, Sequence

import torch

from zp_hf.settings import ScorerSettings


class ScorerBase:
    """The model, its tokenizer and the :class:`ScorerSettings` (soft-prompt table E, batch limits).

    Args:
        model: a Hugging Face LM in eval mode.
        tokenizer: its tokenizer.
        settings: the soft prompts and batch limits.
    """

    def __init__(self, model: Any, tokenizer: Any, settings: ScorerSettings = ScorerSettings()) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.settings = settings
        self.table = settings.soft_prompts
        self.unseen = settings.unseen
        self.seed = settings.seed
        self.batch_size = settings.batch_size
        self.max_batch_tokens = settings.max_batch_tokens
        self.length_normalize = settings.length_normalize
        self.device = next(model.parameters()).device
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.unpadder: Any = None  # a subclass installs a zp_hf.unpad.Unpadder on its body or encoder

    def prompts_for(self, tasks: Sequence[str]) -> torch.Tensor | None:
        """The soft-prompt vectors of each row's task, or ``None`` without a table."""
        if self.table is None:
            return None
        return self.table.batch(tasks, unseen=self.unseen, seed=self.seed)

    def prompt_group(self, task: str) -> bool:
        """Whether ``task`` gets soft-prompt vectors (rows with and without never share a batch)."""
        return self.table is not None and (task in self.table or self.unseen != "none")

    def _unpadded(self, mask: torch.Tensor) -> Any:
        """The unpadder's padding-free block for ``mask`` (batch, time), or a no-op without one."""
        return self.unpadder.active(mask) if self.unpadder is not None else contextlib.nullcontext()
