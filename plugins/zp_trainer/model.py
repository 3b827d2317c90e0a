"""The generalist being trained: a Hugging Face LM plus the soft-prompt table E.

E is :class:`zp_hf.soft_prompts.SoftPromptTable`, prepended to the input embeddings
with :func:`zp_hf.soft_prompts.prepend` (the encoder side for T5), exactly as the
backends do when they score a trained checkpoint.

Making a pretrained LM fit a small CPU (all optional, all standard):

* **LoRA** (peft): the base weights are frozen and low-rank deltas of the Linear layers
  are trained with E; checkpoints hold only the deltas (:mod:`zp_hf.adapters`);
* **bf16 autocast**: matmuls run in bf16 (AMX/AVX512-BF16 on recent CPUs), the weights,
  E and the optimiser stay fp32;
* **gradient checkpointing**: layer activations are recomputed in the backward pass;
* **packing** (causal): :meth:`Generalist.packed_losses` runs packed rows
  (:mod:`zp_trainer.packing`) and applies the LM head only where a loss is taken (for
  SmolLM2 the 49k-word head is a fifth of the compute per token, and answers are a few
  tokens of each example).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator, Literal, Mapping, Sequence

from zp_evolve.errors import ModelError
from zp_trainer.batches import IGNORE, Batch
from zp_trainer.packing import PackedBatch

Kind = Literal["seq2seq", "causal"]


def model_kind(name: str, kind: str = "auto") -> Kind:
    """``seq2seq`` or ``causal``: as given, or read from the model's config.json."""
    if kind in ("seq2seq", "causal"):
        return kind  # type: ignore[return-value]
    from zp_hf.loading import read_model_config

    config = read_model_config(name)
    return "seq2seq" if getattr(config, "is_encoder_decoder", False) else "causal"


def enable_checkpointing(model: Any, *, every: int = 1) -> None:
    """Gradient (activation) checkpointing of every ``every``-th layer of ``model``.

    Non-reentrant, so E and the LoRA deltas get gradients whatever requires grad upstream.
    """
    from zp_hf.adapters import unwrap

    hf_model = unwrap(model)
    options = {"use_reentrant": False}
    if hasattr(hf_model, "activation_checkpointing_enable"):  # transformers >= 5
        hf_model.activation_checkpointing_enable(activation_checkpointing_kwargs=options, every_n_layers=every)
    elif every == 1:
        hf_model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=options)
    else:
        raise ModelError("checkpoint_every > 1 needs transformers >= 5 (activation_checkpointing_enable); set it to 1")


class Generalist:
    """A model, its tokenizer, its kind and (optionally) its soft-prompt table."""

    def __init__(self, model: Any, tokenizer: Any, kind: Kind, table: Any | None, *, autocast: str = "none") -> None:
        from zp_hf.adapters import unwrap

        self.model = model
        self.tokenizer = tokenizer
        self.kind = kind
        self.table = table
        self.autocast = autocast
        self.lora = model is not unwrap(model)

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
        lora: Mapping[str, Any] | None = None,
        resume: str | Path | None = None,
        autocast: str = "none",
        gradient_checkpointing: bool = False,
        checkpoint_every: int = 1,
    ) -> "Generalist":
        """Load a model (alias, folder, hub id or trained checkpoint) and give ``tasks`` a soft prompt.

        A checkpoint's trained prompts are kept; tasks without one get a seeded random
        init of ``init_std`` times the embeddings' standard deviation. ``resume`` is a step
        checkpoint of this run: its weights (or, with ``lora``, its adapter) and its E.
        ``lora`` (r, alpha, dropout, target_modules) wraps the model with a fresh adapter;
        a LoRA checkpoint given as ``name`` is merged into its base first.
        """
        from zp_hf.adapters import attach_adapter, new_adapter
        from zp_hf.loading import load_causal_lm, load_seq2seq_lm, resolve_model_source
        from zp_hf.soft_prompts import SoftPromptTable, has_soft_prompts

        resolved = model_kind(name, kind)
        loader = load_seq2seq_lm if resolved == "seq2seq" else load_causal_lm
        weights = str(resume) if resume is not None and lora is None else name
        model, tokenizer = loader(weights, dtype=dtype, device=device)  # type: ignore[arg-type]
        if lora is not None:
            if resume is not None:
                model = attach_adapter(model, resume)
            else:
                import torch

                # LoRA's A matrices start random: seed them from the run seed, not from
                # whatever the process drew before.
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(seed)
                    model = new_adapter(model, base_name=name, **lora)
        if lora is not None and autocast != "none":
            from zp_hf.adapters import skip_input_casts

            skip_input_casts(model)
        if gradient_checkpointing:
            enable_checkpointing(model, every=checkpoint_every)
        table = None
        if soft_prompt:
            source = Path(str(resume)) if resume is not None else Path(resolve_model_source(name))
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
        return cls(model, tokenizer, resolved, table, autocast=autocast)

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

    @property
    def prompt_length(self) -> int:
        """n, the soft prompt's vectors per task (0 without E)."""
        return self.table.n if self.table is not None else 0

    @contextlib.contextmanager
    def precision(self) -> Iterator[None]:
        """bf16 autocast around a forward (and the backward it records), when configured."""
        import torch

        enabled = self.autocast == "bf16"
        with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=enabled):
            yield

    def loss(self, batch: Batch) -> Any:
        """Mean token cross-entropy of a batch; rows with a task get its soft prompt in front."""
        import torch

        from zp_hf.soft_prompts import prepend

        device = self.device
        input_ids = batch.input_ids.to(device)
        mask = batch.attention_mask.to(device)
        labels = batch.labels.to(device)
        with self.precision():
            embeds = self.model.get_input_embeddings()(input_ids)
            prompts = self.table.batch(batch.tasks) if self.table is not None and batch.tasks else None
            embeds, mask = prepend(embeds, mask, prompts)
            if prompts is not None and self.kind == "causal":
                # The prefix vectors are inputs, never targets.
                labels = torch.cat([labels.new_full((labels.shape[0], prompts.shape[1]), IGNORE), labels], dim=1)
            return self.model(inputs_embeds=embeds, attention_mask=mask, labels=labels).loss.float()

    def packed_losses(self, batch: PackedBatch) -> tuple[Any | None, Any | None]:
        """(supervised, auxiliary) mean token cross-entropy of a packed batch (causal LMs).

        E fills each example's reserved slots; the LM head runs only at the positions whose
        next token is a target. Either loss is None when the batch has no such token.
        """
        import torch

        from zp_hf.adapters import unwrap

        if self.kind != "causal":
            raise ModelError("pack_tokens works with causal LMs only; remove it for seq2seq models")
        device = self.device
        input_ids = batch.input_ids.to(device)
        hf_model = unwrap(self.model)
        body = getattr(hf_model, hf_model.base_model_prefix)
        head = hf_model.get_output_embeddings()
        with self.precision():
            embeds = self.model.get_input_embeddings()(input_ids)
            if batch.prompt_slots:
                if self.table is None:
                    raise ModelError("the packed batch reserves soft-prompt slots but the model has no E")
                rows, cols = [], []
                for row, start, _ in batch.prompt_slots:
                    rows.extend([row] * batch.prompt_length)
                    cols.extend(range(start, start + batch.prompt_length))
                vectors = self.table.batch([task for _, _, task in batch.prompt_slots])  # (slots, n, H)
                index = (torch.tensor(rows, device=device), torch.tensor(cols, device=device))
                embeds = embeds.index_put(index, vectors.reshape(-1, vectors.shape[-1]).to(embeds.dtype))
            hidden = body(
                inputs_embeds=embeds, position_ids=batch.position_ids.to(device), attention_mask=None, use_cache=False
            ).last_hidden_state
            targets = batch.labels[:, 1:].to(device)
            scored = targets != IGNORE
            logits = head(hidden[:, :-1][scored]).float()
        losses = torch.nn.functional.cross_entropy(logits, targets[scored], reduction="none")
        is_mlm = batch.mlm[:, 1:].to(device)[scored]
        sup = losses[~is_mlm].mean() if bool((~is_mlm).any()) else None
        mlm = losses[is_mlm].mean() if bool(is_mlm.any()) else None
        return sup, mlm

    def save(self, folder: str | Path, *, extra: dict[str, Any] | None = None) -> Path:
        """A checkpoint folder the backends load (layout: docs/backends.md)."""
        from zp_hf.soft_prompts import save_checkpoint

        return save_checkpoint(folder, self.model, self.tokenizer, self.table, extra=extra)
