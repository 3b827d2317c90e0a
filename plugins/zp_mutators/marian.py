"""Marian neural translation (Helsinki-NLP opus-mt models) for back-translation.

The opus-mt models (Tiedemann & Thottingal 2020) load by hub id, e.g.
``Helsinki-NLP/opus-mt-en-es``, or from a local folder. They need a model hub
or a copy on disk; this module only loads them and translates in batches.
"""

from __future__ import annotations

import random
from typing import Any, Sequence

from zp_evolve.errors import ModelError
from zp_mutators.languages import two_letter


class MarianTranslator:
    """Translates with one opus-mt model per direction, loaded on first use.

    Args:
        model_template: hub id or local path, with ``{src}`` and ``{tgt}`` filled by
            2-letter codes (``Helsinki-NLP/opus-mt-{src}-{tgt}``).
        device: torch device.
        batch_size: sentences per forward pass.
        num_beams: beam width when not sampling.
        sampling: sample (with ``top_p``) instead of beam search, for more diverse children.
        top_p: nucleus mass when sampling.
    """

    def __init__(
        self,
        model_template: str = "Helsinki-NLP/opus-mt-{src}-{tgt}",
        device: str = "cpu",
        batch_size: int = 16,
        num_beams: int = 4,
        sampling: bool = False,
        top_p: float = 0.9,
    ) -> None:
        self.model_template = model_template
        self.device = device
        self.batch_size = batch_size
        self.num_beams = num_beams
        self.sampling = sampling
        self.top_p = top_p
        self._models: dict[str, tuple[Any, Any]] = {}

    def model_name(self, source: str, target: str) -> str:
        return self.model_template.format(src=two_letter(source), tgt=two_letter(target))

    def supports(self, source: str, target: str) -> bool:
        """Marian has models for most pairs; a missing one fails at load time with a clear error."""
        return True

    def load(self, source: str, target: str) -> tuple[Any, Any]:
        name = self.model_name(source, target)
        if name not in self._models:
            from zp_hf.loading import load_seq2seq_lm

            try:
                self._models[name] = load_seq2seq_lm(name, device=self.device)  # type: ignore[arg-type]
            except ModelError as error:
                raise ModelError(
                    f"back_translation engine 'marian' could not load {name!r}. {error} "
                    "Marian needs the Hugging Face hub, or the models saved locally (set model_template to a folder "
                    "such as '/models/opus-mt-{src}-{tgt}'). Without either, use engine: apertium "
                    "(sudo apt-get install apertium apertium-eng-spa)."
                ) from error
        return self._models[name]

    def translate(self, lines: Sequence[str], source: str, target: str, *, rng: random.Random | None = None) -> list[str]:
        """Translate ``lines`` in batches; sampling is seeded from ``rng``."""
        if not lines:
            return []
        import torch

        model, tokenizer = self.load(source, target)
        generator_seed = (rng or random.Random(0)).getrandbits(63)
        out: list[str] = []
        with torch.inference_mode():
            for start in range(0, len(lines), self.batch_size):
                batch = list(lines[start : start + self.batch_size])
                encoded = tokenizer(batch, return_tensors="pt", padding=True, truncation=True).to(self.device)
                options: dict[str, Any] = {"max_new_tokens": 128}
                if self.sampling:
                    torch.manual_seed(generator_seed + start)  # generate() draws from the global generator
                    options.update(do_sample=True, top_p=self.top_p)
                else:
                    options.update(num_beams=self.num_beams)
                generated = model.generate(**encoded, **options)
                out.extend(tokenizer.batch_decode(generated, skip_special_tokens=True))
        return [" ".join(text.split()) for text in out]
