"""What the fast scorers (:mod:`zp_hf.causal`, :mod:`zp_hf.seq2seq`) share."""

from __future__ import annotations

import contextlib
from typing import Any, Sequence

import torch

from zp_hf.soft_prompts import SoftPromptTable, UnseenPolicy


class ScorerBase:
    """The model, its tokenizer, the soft-prompt table (E) and the batch limits.

    Args:
        model: a Hugging Face LM in eval mode.
        tokenizer: its tokenizer.
        soft_prompts: the task table (E), or ``None``.
        unseen: what tasks missing from the table get.
        seed: seeds the soft prompts of unseen tasks.
        batch_size: rows per forward.
        max_batch_tokens: bound on rows x padded length per forward.
        length_normalize: average (not sum) the answer's token log-probabilities.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        soft_prompts: SoftPromptTable | None = None,
        unseen: UnseenPolicy = "random",
        seed: int = 0,
        batch_size: int = 32,
        max_batch_tokens: int = 8192,
        length_normalize: bool = False,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.table = soft_prompts
        self.unseen = unseen
        self.seed = seed
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.length_normalize = length_normalize
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
