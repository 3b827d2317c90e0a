"""Packed rank-classification scoring for decoder-only LMs: the GPU path.

It computes exactly what :mod:`zp_hf.naive` computes (``log p(answer | context)``,
summed over the answer's tokens), organised for a GPU, where per-batch host syncs
and Python work, not arithmetic, were the cost of the CPU-tuned path
(:mod:`zp_hf.causal`):

* items become units packed into rows of a token budget (:mod:`zp_hf.packing`):
  no padding in the Linear layers, and a multi-token answer is a branch of its
  context's unit, so one forward scores every token of every answer (no KV cache);
* attention stays inside each unit through a block-diagonal (tree) mask built on the
  device from per-token segment ids, with position ids restarting per unit;
* each batch's integer inputs travel in one pinned, asynchronous host-to-device copy;
  scores accumulate on the device, and the call ends with one device-to-host copy
  (no ``.item()`` or ``.tolist()`` per batch, so the GPU never waits for Python);
* widths and row counts are bucketed, so CUDA graphs (``cuda_graphs``) are captured
  once per shape and ``torch.compile`` (``compile``) compiles once per width;
* the LM head runs only at the read-out positions, in fp32 (:class:`ScoringHead`).
"""

from __future__ import annotations

import abc
from typing import Any, Sequence

import torch

from zp_evolve.errors import ModelError
from zp_hf.batching import TokenItem, finish
from zp_hf.head import ScoringHead, segment_mask
from zp_hf.packed_batches import build_causal_batch, to_device
from zp_hf.packing import Layout, Plan, Unit, causal_units, plan_batches
from zp_hf.runner import Runner, repeated_blocks
from zp_hf.scorer_base import ScorerBase
from zp_hf.settings import PackingSettings, ScorerSettings

#: Attention implementations that take an arbitrary additive 4D mask.
MASKED_ATTENTION = ("sdpa", "eager")


class PackedScorerBase(ScorerBase, abc.ABC):
    """What the packed scorers of both families share: layout, runner, soft-prompt slots.

    Args:
        model, tokenizer, settings: as :class:`zp_hf.scorer_base.ScorerBase`
            (``batch_size`` is unused: ``max_batch_tokens`` bounds each batch).
        packing: the layout and how batches run (:class:`PackingSettings`).
    """

    head: ScoringHead  # set by each family's scorer

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        settings: ScorerSettings = ScorerSettings(),
        packing: PackingSettings = PackingSettings(),
    ) -> None:
        super().__init__(model, tokenizer, settings)
        layout, pack_length = packing.layout, packing.pack_length
        cuda_graphs, compile, compile_backend = packing.cuda_graphs, packing.compile, packing.compile_backend
        if layout not in ("packed", "padded"):
            raise ModelError(f"unknown layout {layout!r}; use packed or padded")
        if pack_length < 8:
            raise ModelError(f"pack_length must be at least 8 (got {pack_length})")
        attention = getattr(model.config, "_attn_implementation", None) or "eager"
        if attention not in MASKED_ATTENTION:
            raise ModelError(
                f"scoring: packed needs attention that takes a custom mask ({' or '.join(MASKED_ATTENTION)}); "
                f"this model uses {attention!r}. Load it with attn_implementation='sdpa', or use scoring: fast"
            )
        self.layout: Layout = layout
        self.pack_length = pack_length
        self.dtype = next(model.parameters()).dtype
        # Static shapes matter only to graphs and compile; eager runs keep the last batch small.
        self.bucket_rows = cuda_graphs or compile
        self.runner = Runner(
            self._forward, device=self.device, blocks=repeated_blocks(model) if compile else (), compile=compile,
            graphs=cuda_graphs, compile_backend=compile_backend,
        )  # fmt: skip
        self.last_call: dict[str, Any] = {}
        self._vectors: dict[str, torch.Tensor | None] = {}

    @abc.abstractmethod
    def _forward(self, *tensors: torch.Tensor | None) -> torch.Tensor:
        """The model's forward pass on one packed batch (the causal and seq2seq scorers differ here)."""

    # -- soft prompts ------------------------------------------------------------
    def _prepare_soft_prompts(self, items: Sequence[TokenItem]) -> None:
        """Each task's soft-prompt vectors, on the device, once per call (before any batch,
        so no host-to-device copy interrupts the batches)."""
        self._vectors = {}
        if self.table is None:
            return
        for task in dict.fromkeys(item.task for item in items):
            vectors = self.table.vectors(task, unseen=self.unseen, seed=self.seed)
            self._vectors[task] = None if vectors is None else vectors.to(device=self.device, dtype=self.dtype)

    def _soft_slots(self, task: str) -> int:
        vectors = self._vectors.get(task)
        return 0 if vectors is None else int(vectors.shape[0])

    def _embed(self, ids: torch.Tensor, batch: dict[str, torch.Tensor], tasks: Sequence[str]) -> torch.Tensor:
        """Token embeddings, with each unit's soft-prompt vectors written into its slots."""
        embeds = self.model.get_input_embeddings()(ids)
        if tasks:
            sources = torch.cat([self._vectors[task] for task in tasks])  # type: ignore[misc]
            flat = embeds.view(-1, embeds.shape[-1])
            flat.index_copy_(0, batch["soft_pos"], sources.index_select(0, batch["soft_src"]))
        return embeds

    # -- the call ------------------------------------------------------------------
    def _plans(self, units: Sequence[Unit]) -> list[Plan]:
        return plan_batches(
            units, layout=self.layout, pack_length=self.pack_length, max_batch_tokens=self.max_batch_tokens,
            bucket_rows=self.bucket_rows, min_rows=2 if self.runner.compile else 1,
        )  # fmt: skip

    def _collect(self, items: Sequence[TokenItem], totals: torch.Tensor, first_slots: list[int]) -> list[list[float]]:
        values = totals.tolist()  # the call's one device-to-host copy
        out = []
        for item, first in zip(items, first_slots):
            count = len(item.candidates)
            out.append(finish(values[first : first + count], [len(c) for c in item.candidates], self.length_normalize))
        return out

    def _accumulate(self, totals: torch.Tensor, hidden: torch.Tensor, batch: dict[str, torch.Tensor]) -> None:
        """Add every pick's log-probability to its output slot, on the device."""
        read = hidden.reshape(-1, hidden.shape[-1]).index_select(0, batch["readout"])
        picked = self.head.picked_log_probs(read, batch["pick_row"], batch["pick_token"])
        totals.index_add_(0, batch["pick_slot"], picked)


class PackedCausalScorer(PackedScorerBase):
    """Scores :class:`TokenItem` candidates with a decoder-only LM in packed batches.

    Generation (which has no packed form) goes to :class:`zp_hf.causal.CausalScorer`.
    """

    def __init__(
        self, model: Any, tokenizer: Any, settings: ScorerSettings = ScorerSettings(), packing: PackingSettings = PackingSettings()
    ) -> None:
        super().__init__(model, tokenizer, settings, packing)
        self.body = model.base_model
        self.head = ScoringHead(model)
        self._generator: Any = None

    def _forward(self, embeds: torch.Tensor, positions: torch.Tensor | None, mask: torch.Tensor | None) -> torch.Tensor:
        out = self.body(inputs_embeds=embeds, position_ids=positions, attention_mask=mask, use_cache=False)
        return out.last_hidden_state

    def score(self, items: Sequence[TokenItem]) -> list[list[float]]:
        """Per item, one log-likelihood per candidate (summed, or averaged if normalising)."""
        if not items:
            return []
        with torch.inference_mode():
            self._prepare_soft_prompts(items)
            units, first_slots = causal_units(items, self._soft_slots, self.pad_id)
            plans = self._plans(units)
            totals = torch.zeros(sum(len(item.candidates) for item in items), dtype=torch.float32, device=self.device)
            real = slots = 0
            for plan in plans:
                branched = any(units[u].branched for row in plan.rows for u in row)
                # One unit per row, no branches: plain causal attention (SDPA's flash path),
                # default positions, and no mask at all (right padding is never attended).
                plain = self.layout == "padded" and not branched
                host = build_causal_batch(plan, units, self.pad_id, positions=not plain, branches=branched)
                batch = to_device(host, self.device)
                embeds = self._embed(batch["ids"], batch, host.tasks)
                mask = None
                if not plain:
                    mask = segment_mask(batch["seg"], batch["seg"], self.dtype, causal=True,
                                        query_branch=batch.get("branch"), key_branch=batch.get("branch"))  # fmt: skip
                hidden = self.runner([embeds, batch.get("pos"), mask])
                self._accumulate(totals, hidden, batch)
                real += host.real_tokens
                slots += plan.shape_rows * plan.width
            self.last_call = {"batches": len(plans), "real_tokens": real, "row_tokens": slots,
                              "shapes": sorted({(p.shape_rows, p.width) for p in plans})}  # fmt: skip
            return self._collect(items, totals, first_slots)

    def generate(self, items: Sequence[TokenItem], *, max_new_tokens: int = 32, num_beams: int = 1) -> list[list[int]]:
        """Greedy (or beam) continuations, by :class:`zp_hf.causal.CausalScorer`."""
        if self._generator is None:
            from zp_hf.causal import CausalScorer

            self._generator = CausalScorer(self.model, self.tokenizer, self.settings, share_prefix=False, unpad=False)
        return self._generator.generate(items, max_new_tokens=max_new_tokens, num_beams=num_beams)
