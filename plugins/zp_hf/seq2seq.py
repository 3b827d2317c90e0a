"""Fast rank-classification scoring and generation with an encoder-decoder LM (T5).

The target of a candidate is ``[sentinel] + answer`` (T5) or ``answer``; its score is
the sum of the answer tokens' log-probabilities given the encoder text. Compared with
the naive loop (one full encoder + decoder pass per (example, candidate)):

* the encoder runs once per example, batched and length-sorted; its output is shared
  by every candidate (rows are repeated with ``index_select``, not recomputed);
* when every candidate's answer is one token, one decoder pass of length 1-2 per
  example (``[start, sentinel]``) gives them all from the last position;
* otherwise the decoder runs once per (example, candidate), in batches.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from transformers.modeling_outputs import BaseModelOutput

from zp_hf.batching import TokenItem, batches, finish, pad_right
from zp_hf.causal import first_token_scores
from zp_hf.scorer_base import ScorerBase
from zp_hf.settings import ScorerSettings
from zp_hf.soft_prompts import prepend
from zp_hf.unpad import Unpadder


class Seq2SeqScorer(ScorerBase):
    """Scores candidates and generates answers for :class:`TokenItem` batches.

    ``TokenItem.context`` holds the encoder ids; ``candidates`` the answer ids (no sentinel).

    Args:
        model: an ``AutoModelForSeq2SeqLM`` in eval mode.
        tokenizer: its tokenizer.
        sentinel_id: the id decoded before the answer (T5's ``<extra_id_0>``), or ``None``.
        settings: soft prompts and batch limits (:class:`zp_hf.scorer_base.ScorerSettings`).
        unpad: as in :class:`zp_hf.causal.CausalScorer` (it applies to the encoder).
    """

    def __init__(
        self, model: Any, tokenizer: Any, settings: ScorerSettings = ScorerSettings(), *, sentinel_id: int | None, unpad: bool = True
    ) -> None:
        super().__init__(model, tokenizer, settings)
        self.sentinel_id = sentinel_id
        self.start_id = model.config.decoder_start_token_id
        if self.start_id is None:
            self.start_id = self.pad_id
        self.encoder = model.get_encoder()
        self.unpadder = Unpadder.install(self.encoder) if unpad else None

    @property
    def decoder_prefix(self) -> list[int]:
        """Decoder ids before the answer: the start token, then the sentinel if any."""
        return [self.start_id] + ([self.sentinel_id] if self.sentinel_id is not None else [])

    def encode(self, items: Sequence[TokenItem]) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder hidden states (B, S, H) and their mask, soft prompts prepended."""
        ids, mask = pad_right([item.context for item in items], self.pad_id, self.device)
        prompts = self.prompts_for([item.task for item in items])
        embeds, mask = prepend(self.model.get_input_embeddings()(ids), mask, prompts)
        # Only the encoder's Linear layers are unpadded: all of them see (batch, source, features).
        with self._unpadded(mask):
            hidden = self.encoder(inputs_embeds=embeds, attention_mask=mask).last_hidden_state
        return hidden, mask

    def _decode_logp(self, hidden, mask, decoder_ids, decoder_mask) -> torch.Tensor:
        out = self.model(
            encoder_outputs=BaseModelOutput(last_hidden_state=hidden), attention_mask=mask,
            decoder_input_ids=decoder_ids, decoder_attention_mask=decoder_mask, use_cache=False,
        )  # fmt: skip
        return torch.log_softmax(out.logits.float(), dim=-1)

    def score(self, items: Sequence[TokenItem]) -> list[list[float]]:
        results: list[list[float]] = [[] for _ in items]
        lengths = [len(item.context) for item in items]
        groups = [self.prompt_group(item.task) for item in items]
        with torch.inference_mode():
            for batch in batches(lengths, groups, batch_size=self.batch_size, max_batch_tokens=self.max_batch_tokens):
                for index, scores in zip(batch, self._score_batch([items[i] for i in batch])):
                    results[index] = scores
        return results

    def _score_batch(self, items: Sequence[TokenItem]) -> list[list[float]]:
        hidden, mask = self.encode(items)
        prefix = self.decoder_prefix
        # One short decoder pass per example gives every candidate's first answer token.
        decoder_ids = torch.tensor([prefix] * len(items), device=self.device)
        first = self._decode_logp(hidden, mask, decoder_ids, None)[:, -1]
        scores = first_token_scores(first, items)
        multi = [(b, c) for b, item in enumerate(items) for c, cand in enumerate(item.candidates) if len(cand) > 1]
        for begin in range(0, len(multi), self.batch_size):
            pairs = multi[begin : begin + self.batch_size]
            select = torch.tensor([b for b, _ in pairs], device=self.device)
            feeds = [prefix + items[b].candidates[c][:-1] for b, c in pairs]
            ids, dmask = pad_right(feeds, self.pad_id, self.device)
            logp = self._decode_logp(hidden.index_select(0, select), mask.index_select(0, select), ids, dmask)
            # Position len(prefix)-1+j predicts answer token j; token 0 is already scored.
            rows = [row for row, (b, c) in enumerate(pairs) for _ in items[b].candidates[c][1:]]
            steps = [len(prefix) - 1 + j for b, c in pairs for j in range(1, len(items[b].candidates[c]))]
            targets = [t for b, c in pairs for t in items[b].candidates[c][1:]]
            index = lambda values: torch.tensor(values, device=logp.device)  # noqa: E731
            picked = logp[index(rows), index(steps), index(targets)].tolist()
            cursor = 0
            for b, c in pairs:
                count = len(items[b].candidates[c]) - 1
                scores[b][c] += float(sum(picked[cursor : cursor + count]))
                cursor += count
        return [
            finish(row, [len(c) for c in item.candidates], self.length_normalize) for row, item in zip(scores, items)
        ]

    def generate(self, items: Sequence[TokenItem], *, max_new_tokens: int = 32, num_beams: int = 1) -> list[list[int]]:
        """Greedy (or beam) decoder outputs for each encoder text (ids, start token dropped)."""
        out: list[list[int]] = [[] for _ in items]
        lengths = [len(item.context) for item in items]
        groups = [self.prompt_group(item.task) for item in items]
        with torch.inference_mode():
            for batch in batches(lengths, groups, batch_size=self.batch_size, max_batch_tokens=self.max_batch_tokens):
                chunk = [items[i] for i in batch]
                hidden, mask = self.encode(chunk)
                generated = self.model.generate(
                    encoder_outputs=BaseModelOutput(last_hidden_state=hidden), attention_mask=mask,
                    max_new_tokens=max_new_tokens, num_beams=num_beams, do_sample=False,
                    decoder_start_token_id=self.start_id, pad_token_id=self.pad_id,
                )  # fmt: skip
                for index, row in zip(batch, generated[:, 1:].tolist()):
                    out[index] = row
        return out
