"""The naive reference scorers: one full forward per (example, candidate), batch 1.

They compute the same function as :mod:`zp_hf.causal` and :mod:`zp_hf.seq2seq` the
obvious way (full sequence in, full logits out), so tests and the benchmark can check
the fast paths against them. Select them with the backend option ``scoring: naive``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Sequence

import torch

from zp_hf.batching import TokenItem, finish
from zp_hf.settings import ScorerSettings
from zp_hf.soft_prompts import prepend


class _NaiveBase(ABC):
    def __init__(self, model: Any, settings: ScorerSettings = ScorerSettings()) -> None:
        self.model = model
        self.table = settings.soft_prompts
        self.unseen = settings.unseen
        self.seed = settings.seed
        self.length_normalize = settings.length_normalize
        self.device = next(model.parameters()).device

    def _embeds(self, task: str, ids: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        tensor = torch.tensor([ids], device=self.device)
        embeds = self.model.get_input_embeddings()(tensor)
        prompts = None if self.table is None else self.table.batch([task], unseen=self.unseen, seed=self.seed)
        return prepend(embeds, torch.ones_like(tensor), prompts)

    def score(self, items: Sequence[TokenItem]) -> list[list[float]]:
        with torch.inference_mode():
            return [
                finish([self._one(item, cand) for cand in item.candidates], [len(c) for c in item.candidates], self.length_normalize)
                for item in items
            ]

    @abstractmethod
    def _one(self, item: TokenItem, cand: list[int]) -> float:
        """The log-likelihood of one candidate, from full forwards."""


class NaiveCausalScorer(_NaiveBase):
    """``log p(candidate | context)`` from one forward of ``context + candidate``."""

    def _one(self, item: TokenItem, cand: list[int]) -> float:
        embeds, mask = self._embeds(item.task, item.context + cand)
        logits = self.model(inputs_embeds=embeds, attention_mask=mask).logits[0].float()
        logp = torch.log_softmax(logits, dim=-1)
        start = embeds.shape[1] - len(cand) - 1  # the position that predicts the first answer token
        return float(sum(logp[start + j, token] for j, token in enumerate(cand)))


class NaiveSeq2SeqScorer(_NaiveBase):
    """``log p(answer | source)`` from one encoder-decoder forward per candidate."""

    def __init__(self, model: Any, settings: ScorerSettings = ScorerSettings(), *, sentinel_id: int | None) -> None:
        super().__init__(model, settings)
        start = model.config.decoder_start_token_id
        self.prefix = [start if start is not None else 0] + ([sentinel_id] if sentinel_id is not None else [])

    def _one(self, item: TokenItem, cand: list[int]) -> float:
        embeds, mask = self._embeds(item.task, item.context)
        decoder = torch.tensor([self.prefix + cand[:-1]], device=self.device)
        logits = self.model(inputs_embeds=embeds, attention_mask=mask, decoder_input_ids=decoder).logits[0].float()
        logp = torch.log_softmax(logits, dim=-1)
        first = len(self.prefix) - 1
        return float(sum(logp[first + j, token] for j, token in enumerate(cand)))
