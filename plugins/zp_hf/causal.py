"""Fast rank-classification scoring and generation with a decoder-only LM.

Scoring computes, for every candidate answer ``a = (t1..tk)`` after a context ``c``,
``log p(a | c) = sum_j log p(tj | c, t1..tj-1)``, exactly what a naive loop with one
full forward per (example, candidate) computes (:mod:`zp_hf.naive`), but:

* one forward per context, batched, sorted by length, right-padded: the hidden state
  at the context's last position gives ``log p(t1 | c)`` for every candidate at once,
  so single-token labels cost one forward per example;
* the LM head runs only at those scored positions (not at every position: for
  SmolLM2 the head is a 49k x 576 matrix, a quarter of the model's FLOPs per token);
* rows of one (task, prompt) are batched together and their common leading tokens
  (V and the template's text before the input) run once; every row continues from a
  copy of that KV cache;
* multi-token candidates reuse the context's KV cache: only their tokens run again,
  with positions continuing after each row's real length (the padding in the middle
  is masked out);
* everything runs under ``torch.inference_mode()`` and returns Python floats.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from transformers import DynamicCache

from zp_hf.batching import TokenItem, batches, common_prefix, finish, pad_left, pad_right
from zp_hf.scorer_base import ScorerBase
from zp_hf.settings import ScorerSettings
from zp_hf.soft_prompts import prepend
from zp_hf.unpad import Unpadder

#: Shorter common prefixes are not worth a separate forward.
MIN_SHARED_TOKENS = 4


class CausalScorer(ScorerBase):
    """Scores candidates and generates answers for :class:`TokenItem` batches.

    Args:
        model: an ``AutoModelForCausalLM`` in eval mode; ``tokenizer`` has a pad token.
        settings: soft prompts and batch limits (:class:`zp_hf.scorer_base.ScorerSettings`).
        share_prefix: run a batch's common leading tokens (one prompt's text before its
            input) once and reuse their KV cache for every row.
        unpad: run the Linear layers on real tokens only (:mod:`zp_hf.unpad`).
    """

    def __init__(
        self, model: Any, tokenizer: Any, settings: ScorerSettings = ScorerSettings(), *, share_prefix: bool = True, unpad: bool = True
    ) -> None:
        super().__init__(model, tokenizer, settings)
        self.share_prefix = share_prefix
        self.body = model.base_model  # the transformer without its LM head
        self.head = model.get_output_embeddings()
        # In bf16/fp16 the logits would be rounded to ~3 significant digits (0.125 at
        # 20), enough to flip close labels; the head runs in fp32 at the few scored
        # positions instead, from an fp32 copy of its weights.
        self.head32: tuple[torch.Tensor, torch.Tensor | None] | None = None
        weight = getattr(self.head, "weight", None)
        if isinstance(weight, torch.Tensor) and weight.dtype in (torch.bfloat16, torch.float16):
            bias = getattr(self.head, "bias", None)
            self.head32 = (weight.detach().float(), None if bias is None else bias.detach().float())
        self.softcap = getattr(model.config, "final_logit_softcapping", None)
        self.unpadder = Unpadder.install(self.body, skip=self.head) if unpad else None

    # -- pieces ----------------------------------------------------------------

    def log_probs(self, hidden: torch.Tensor) -> torch.Tensor:
        """Log-softmax of the LM head at the given hidden states, in fp32."""
        if self.head32 is not None:
            logits = torch.nn.functional.linear(hidden.float(), *self.head32)
        else:
            logits = self.head(hidden).float()
        if self.softcap:
            logits = torch.tanh(logits / self.softcap) * self.softcap
        return torch.log_softmax(logits, dim=-1)

    def _forward(self, ids: torch.Tensor, mask: torch.Tensor, prompts: torch.Tensor | None, use_cache: bool):
        if prompts is None:
            with self._unpadded(mask):
                out = self.body(input_ids=ids, attention_mask=mask, use_cache=use_cache)
            return out.last_hidden_state, out.cache, mask
        embeds, mask = prepend(self.model.get_input_embeddings()(ids), mask, prompts)
        with self._unpadded(mask):
            out = self.body(inputs_embeds=embeds, attention_mask=mask, use_cache=use_cache)
        return out.last_hidden_state, out.cache, mask

    # -- scoring ---------------------------------------------------------------
    def score(self, items: Sequence[TokenItem]) -> list[list[float]]:
        """Per item, one log-likelihood per candidate (summed, or averaged if normalising)."""
        results: list[list[float]] = [[] for _ in items]
        lengths = [len(item.context) for item in items]
        # Rows of one (task, prompt) batch together, so their common prefix is shared.
        groups = [(self.prompt_group(item.task), item.group if self.share_prefix else "") for item in items]
        with torch.inference_mode():
            for batch in batches(lengths, groups, batch_size=self.batch_size, max_batch_tokens=self.max_batch_tokens):
                for index, scores in zip(batch, self._score_batch([items[i] for i in batch])):
                    results[index] = scores
        return results

    def _score_batch(self, items: Sequence[TokenItem]) -> list[list[float]]:
        prompts = self.prompts_for([item.task for item in items])
        offset = 0 if prompts is None else prompts.shape[1]
        multi = [(b, c) for b, item in enumerate(items) for c, cand in enumerate(item.candidates) if len(cand) > 1]
        shared = self._shared_prefix(items, prompts)
        if shared:
            hidden, past, full_mask, last = self._forward_shared(items, prompts, shared)
        else:
            ids, mask = pad_right([item.context for item in items], self.pad_id, self.device)
            hidden, past, full_mask = self._forward(ids, mask, prompts, use_cache=bool(multi))
            last = mask.sum(dim=1) + offset - 1
        lengths = full_mask.sum(dim=1)  # real length of each row: soft prompt, shared prefix, own tokens
        rows = torch.arange(len(items), device=self.device)
        scores = first_token_scores(self.log_probs(hidden[rows, last]), items)
        for begin in range(0, len(multi), self.batch_size):
            self._continue(items, multi[begin : begin + self.batch_size], past, full_mask, lengths, scores)
        return [
            finish(row, [len(c) for c in item.candidates], self.length_normalize) for row, item in zip(scores, items)
        ]

    def _shared_prefix(self, items: Sequence[TokenItem], prompts: torch.Tensor | None) -> int:
        """Tokens every row of the batch starts with (one prompt's text before its input), or 0."""
        if not self.share_prefix or len(items) < 2:
            return 0
        if prompts is not None and len({item.task for item in items}) > 1:
            return 0  # different soft prompts in front: nothing is shared
        shared = common_prefix([item.context for item in items])
        return shared if shared >= MIN_SHARED_TOKENS else 0

    def _forward_shared(self, items: Sequence[TokenItem], prompts: torch.Tensor | None, shared: int):
        """Run the common prefix once, then every row's own tokens on a copy of its KV cache."""
        head = torch.tensor([items[0].context[:shared]], device=self.device)
        _, cache, head_mask = self._forward(head, torch.ones_like(head), None if prompts is None else prompts[:1], True)
        cache.batch_repeat_interleave(len(items))
        ids, mask = pad_right([item.context[shared:] for item in items], self.pad_id, self.device)
        before = head_mask.shape[1]  # soft prompt + shared tokens
        attention = torch.cat([mask.new_ones(len(items), before), mask], dim=1)
        positions = (before + torch.arange(ids.shape[1], device=self.device)).unsqueeze(0).expand(len(items), -1)
        with self._unpadded(mask):
            out = self.body(input_ids=ids, attention_mask=attention, position_ids=positions, cache=cache, use_cache=True)
        return out.last_hidden_state, out.cache, attention, mask.sum(dim=1) - 1

    def _continue(self, items, pairs, past, full_mask, lengths, scores) -> None:
        """Score tokens 2..k of multi-token candidates, reusing the contexts' KV cache."""
        select = torch.tensor([b for b, _ in pairs], device=self.device)
        cache = DynamicCache(
            ddp_cache_data=[(layer.keys[select], layer.values[select]) for layer in past.layers],
            config=self.model.config,
        )
        feeds = [items[b].candidates[c][:-1] for b, c in pairs]
        ids, cont_mask = pad_right(feeds, self.pad_id, self.device)
        attention = torch.cat([full_mask[select], cont_mask], dim=1)
        positions = lengths[select].unsqueeze(1) + torch.arange(ids.shape[1], device=self.device).unsqueeze(0)
        with self._unpadded(cont_mask):
            out = self.body(input_ids=ids, attention_mask=attention, position_ids=positions, cache=cache, use_cache=True)
        real = cont_mask.bool()
        logp = self.log_probs(out.last_hidden_state[real])  # (real positions, vocab)
        targets = torch.tensor([t for b, c in pairs for t in items[b].candidates[c][1:]], device=self.device)
        picked = logp[torch.arange(len(targets), device=self.device), targets].tolist()
        cursor = 0
        for b, c in pairs:
            count = len(items[b].candidates[c]) - 1
            scores[b][c] += float(sum(picked[cursor : cursor + count]))
            cursor += count

    # -- generation ------------------------------------------------------------
    def generate(self, items: Sequence[TokenItem], *, max_new_tokens: int = 32, num_beams: int = 1) -> list[list[int]]:
        """Greedy (or beam) continuations of each context: the new token ids."""
        out: list[list[int]] = [[] for _ in items]
        lengths = [len(item.context) for item in items]
        groups = [self.prompt_group(item.task) for item in items]
        with torch.inference_mode():
            for batch in batches(lengths, groups, batch_size=self.batch_size, max_batch_tokens=self.max_batch_tokens):
                chunk = [items[i] for i in batch]
                ids, mask = pad_left([item.context for item in chunk], self.pad_id, self.device)
                prompts = self.prompts_for([item.task for item in chunk])
                options = dict(
                    attention_mask=mask, max_new_tokens=max_new_tokens, num_beams=num_beams, do_sample=False,
                    pad_token_id=self.pad_id, eos_token_id=self.tokenizer.eos_token_id,
                )  # fmt: skip
                if prompts is None:
                    generated = self.model.generate(input_ids=ids, **options)[:, ids.shape[1] :]
                else:
                    # Left padding then E would put E after the padding; E first keeps every row's
                    # soft prompt adjacent to its text, with the padding masked out in front.
                    embeds = self.model.get_input_embeddings()(ids)
                    embeds = torch.cat([prompts.to(embeds.dtype), embeds], dim=1)
                    embeds, mask = _left_pack(embeds, torch.cat([mask.new_ones(len(chunk), prompts.shape[1]), mask], 1))
                    options["attention_mask"] = mask
                    generated = self.model.generate(inputs_embeds=embeds, **options)
                for index, row in zip(batch, generated.tolist()):
                    out[index] = row
        return out


def first_token_scores(logp: torch.Tensor, items: Sequence[TokenItem]) -> list[list[float]]:
    """``logp[b, first token of candidate c]`` for every item b and candidate c, in one gather
    (one device-to-host copy, not one per candidate)."""
    rows = [b for b, item in enumerate(items) for _ in item.candidates]
    cols = [cand[0] for item in items for cand in item.candidates]
    flat = logp[torch.tensor(rows, device=logp.device), torch.tensor(cols, device=logp.device)].tolist()
    out, cursor = [], 0
    for item in items:
        out.append(flat[cursor : cursor + len(item.candidates)])
        cursor += len(item.candidates)
    return out


def _left_pack(embeds: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Move every row's unmasked positions to the right end (left padding), keeping their order."""
    order = torch.argsort(mask, dim=1, stable=True)  # masked (0) first, then real (1) in order
    return embeds.gather(1, order.unsqueeze(-1).expand_as(embeds)), mask.gather(1, order)
