"""The generalist being trained: a Hugging Face LM plus the soft-prompt table E.

E is :class:`zp_hf.soft_prompts.SoftPromptTable`, prepended to the input embeddings
with :func:`zp_hf.soft_prompts.prepend` (the encoder side for T5), exactly as the
backends do when they score a trained checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Sequence

from zp_evolve.errors import ModelError
from zp_trainer.batches import IGNORE, Batch

Kind = Literal["seq2seq", "causal"]


def model_kind(name: str, kind: str = "auto") -> Kind:
    """``seq2seq`` or ``causal``: as given, or read from the model's config.json."""
    if kind in ("seq2seq", "causal"):
        return kind  # type: ignore[return-value]
    from zp_hf.loading import read_model_config

    config = read_model_config(name)
    return "seq2seq" if getattr(config, "is_encoder_decoder", False) else "causal"


class Generalist:
    """A model, its tokenizer, its kind and (optionally) its soft-prompt table."""

    def __init__(self, model: Any, tokenizer: Any, kind: Kind, table: Any | None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.kind = kind
        self.table = table

    @classmethod
    def load(
        cls,
        name: str,
        *,
        kind: str = "auto",
        dtype: str = "fp32",
        device: str = "cpu",
        tasks: Sequence[str] = (),
        soft_prompt: bool = True,
        soft_prompt_length: int = 8,
        init_std: float = 0.5,
        seed: int = 0,
    ) -> "Generalist":
        """Load a model (alias, folder, hub id or trained checkpoint) and give ``tasks`` a soft prompt.

        A checkpoint's trained prompts are kept; tasks without one get a seeded random
        init of ``init_std`` times the embeddings' standard deviation.
        """
        from zp_hf.loading import load_causal_lm, load_seq2seq_lm, resolve_model_source
        from zp_hf.soft_prompts import SoftPromptTable, has_soft_prompts

        resolved = model_kind(name, kind)
        loader = load_seq2seq_lm if resolved == "seq2seq" else load_causal_lm
        model, tokenizer = loader(name, dtype=dtype, device=device)  # type: ignore[arg-type]
        table = None
        if soft_prompt:
            source = Path(resolve_model_source(name))
            embeddings = model.get_input_embeddings().weight
            if source.is_dir() and has_soft_prompts(source):
                table = SoftPromptTable.load(source)
                if table.hidden_size != embeddings.shape[1]:
                    raise ModelError(f"{source}: soft prompts are {table.hidden_size} wide, the model {embeddings.shape[1]}")
                for task in tasks:
                    if task not in table:
                        table.add_task(task, seed=seed)
            else:
                scale = float(embeddings.detach().float().std()) * init_std
                table = SoftPromptTable(list(tasks), soft_prompt_length, embeddings.shape[1], init_std=scale, seed=seed)
            table.to(device)
        return cls(model, tokenizer, resolved, table)

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    def train(self, mode: bool = True) -> None:
        self.model.train(mode)
        if self.table is not None:
            self.table.train(mode)

    def parameter_groups(self, *, lr: float, soft_prompt_lr: float | None, weight_decay: float) -> list[dict[str, Any]]:
        """AdamW groups: the model (biases and norms without decay, as usual) and E."""
        decay, no_decay = [], []
        for name, parameter in self.model.named_parameters():
            if not parameter.requires_grad:
                continue
            (no_decay if parameter.ndim < 2 or "norm" in name.lower() else decay).append(parameter)
        groups = [
            {"params": decay, "weight_decay": weight_decay, "lr": lr},
            {"params": no_decay, "weight_decay": 0.0, "lr": lr},
        ]
        if self.table is not None:
            groups.append({"params": list(self.table.parameters()), "weight_decay": 0.0, "lr": soft_prompt_lr or lr})
        return groups

    def loss(self, batch: Batch) -> Any:
        """Mean token cross-entropy of a batch; rows with a task get its soft prompt in front."""
        import torch

        from zp_hf.soft_prompts import prepend

        device = self.device
        input_ids = batch.input_ids.to(device)
        mask = batch.attention_mask.to(device)
        labels = batch.labels.to(device)
        embeds = self.model.get_input_embeddings()(input_ids)
        prompts = self.table.batch(batch.tasks) if self.table is not None and batch.tasks else None
        embeds, mask = prepend(embeds, mask, prompts)
        if prompts is not None and self.kind == "causal":
            # The prefix vectors are inputs, never targets.
            labels = torch.cat([labels.new_full((labels.shape[0], prompts.shape[1]), IGNORE), labels], dim=1)
        return self.model(inputs_embeds=embeds, attention_mask=mask, labels=labels).loss

    def save(self, folder: str | Path, *, extra: dict[str, Any] | None = None) -> Path:
        """A checkpoint folder the backends load (layout: docs/backends.md)."""
        from zp_hf.soft_prompts import save_checkpoint

        return save_checkpoint(folder, self.model, self.tokenizer, self.table, extra=extra)
