"""Packed rank-classification scoring for encoder-decoder LMs (T5): the GPU path.

The same function as :mod:`zp_hf.naive` and :mod:`zp_hf.seq2seq`, organised as
:mod:`zp_hf.packed` organises the causal one: encoder inputs packed into rows with a
block-diagonal mask (T5's relative position bias depends only on index differences,
so a unit's bias is the same at any offset in a row); the decoder sequences of each
row's units in the same row of a decoder batch, each cross-attending to its own
unit's encoder tokens only; one pinned host-to-device copy per batch, scores summed
on the device, one device-to-host copy per call; the LM head in fp32 at the read-out
positions only. Generation goes to :class:`zp_hf.seq2seq.Seq2SeqScorer`.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from zp_hf.batching import TokenItem
from zp_hf.head import ScoringHead, segment_mask
from zp_hf.packed import PackedScorerBase
from zp_hf.packed_batches import build_seq2seq_batch, to_device
from zp_hf.packing import seq2seq_units
from zp_hf.settings import PackingSettings, ScorerSettings


class PackedSeq2SeqScorer(PackedScorerBase):
    """Scores :class:`TokenItem` candidates with an encoder-decoder LM in packed batches.

    Args:
        sentinel_id: the id decoded before the answer (T5's ``<extra_id_0>``), or ``None``.
        settings, packing: as :class:`zp_hf.packed.PackedScorerBase`.
    """

    def __init__(
        self, model: Any, tokenizer: Any, settings: ScorerSettings = ScorerSettings(), packing: PackingSettings = PackingSettings(),
        *, sentinel_id: int | None,
    ) -> None:
        super().__init__(model, tokenizer, settings, packing)
        self.sentinel_id = sentinel_id
        start = model.config.decoder_start_token_id
        self.prefix = [self.pad_id if start is None else start] + ([sentinel_id] if sentinel_id is not None else [])
        self.encoder = model.get_encoder()
        self.decoder = model.get_decoder()
        config = model.config
        # T5 scales the decoder output before a head tied to the embeddings (``scale_decoder_outputs``).
        scaled = getattr(config, "scale_decoder_outputs", getattr(config, "tie_word_embeddings", False))
        self.head = ScoringHead(model, scale=config.d_model**-0.5 if scaled and hasattr(config, "d_model") else 1.0)
        self._generator: Any = None

    def _forward(
        self, embeds: torch.Tensor, encoder_mask: torch.Tensor, decoder_ids: torch.Tensor,
        decoder_mask: torch.Tensor, cross_mask: torch.Tensor,
    ) -> torch.Tensor:  # fmt: skip
        encoded = self.encoder(inputs_embeds=embeds, attention_mask=encoder_mask).last_hidden_state
        out = self.decoder(
            input_ids=decoder_ids, attention_mask=decoder_mask, encoder_hidden_states=encoded,
            encoder_attention_mask=cross_mask, use_cache=False,
        )  # fmt: skip
        return out.last_hidden_state

    def score(self, items: Sequence[TokenItem]) -> list[list[float]]:
        """Per item, one log-likelihood per candidate (summed, or averaged if normalising)."""
        if not items:
            return []
        with torch.inference_mode():
            self._prepare_soft_prompts(items)
            units, first_slots = seq2seq_units(items, self._soft_slots, self.pad_id, self.prefix)
            plans = self._plans(units)
            totals = torch.zeros(sum(len(item.candidates) for item in items), dtype=torch.float32, device=self.device)
            real = slots = 0
            for plan in plans:
                host = build_seq2seq_batch(plan, units, self.pad_id)
                batch = to_device(host, self.device)
                embeds = self._embed(batch["ids"], batch, host.tasks)
                seg, dseg, dsrc = batch["seg"], batch["dec_seg"], batch["dec_src"]
                masks = (
                    segment_mask(seg, seg, self.dtype, causal=False),
                    segment_mask(dseg, dseg, self.dtype, causal=True),
                    segment_mask(dsrc, seg, self.dtype, causal=False),
                )
                hidden = self.runner([embeds, masks[0], batch["dec_ids"], masks[1], masks[2]])
                self._accumulate(totals, hidden, batch)
                real += host.real_tokens
                slots += plan.shape_rows * (plan.width + plan.decoder_width)
            self.last_call = {"batches": len(plans), "real_tokens": real, "row_tokens": slots,
                              "shapes": sorted({(p.shape_rows, p.width, p.decoder_width) for p in plans})}  # fmt: skip
            return self._collect(items, totals, first_slots)

    def generate(self, items: Sequence[TokenItem], *, max_new_tokens: int = 32, num_beams: int = 1) -> list[list[int]]:
        """Greedy (or beam) decoder outputs, by :class:`zp_hf.seq2seq.Seq2SeqScorer`."""
        if self._generator is None:
            from zp_hf.seq2seq import Seq2SeqScorer

            self._generator = Seq2SeqScorer(self.model, self.tokenizer, self.settings, sentinel_id=self.sentinel_id, unpad=False)
        return self._generator.generate(items, max_new_tokens=max_new_tokens, num_beams=num_beams)
