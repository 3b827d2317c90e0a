"""Task-specific soft prompts (the hybrid prompt's E) and the checkpoint folder layout.

A :class:`SoftPromptTable` holds ``n`` prefix vectors per task, in the model's
embedding space. Backends prepend a task's vectors to ``inputs_embeds`` (the
encoder's, for T5). The trainer trains the table and saves a checkpoint folder::

    model.safetensors, config.json, ...    save_pretrained of the model
    tokenizer.json, tokenizer_config.json  save_pretrained of the tokenizer
    soft_prompts.safetensors               tensor "soft_prompts", shape (tasks, n, hidden)
    soft_prompts.json                      {"format", "n", "hidden_size", "tasks": [...]}

This module is imported only when a model is loaded, so it imports torch at the top.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

import torch

from zp_evolve.errors import ModelError
from zp_hf.settings import UnseenPolicy  # noqa: F401  (what an unseen task gets)

WEIGHTS_FILE = "soft_prompts.safetensors"
META_FILE = "soft_prompts.json"
TENSOR_KEY = "soft_prompts"
FORMAT = "zp_evolve.soft_prompts/1"
# An unseen task gets nothing, the mean of the trained prompts, or random vectors at the
# table's scale (UnseenPolicy; the paper's Table 5 found random init the best of these).


class SoftPromptTable(torch.nn.Module):
    """``n`` trainable prefix vectors per task.

    Args:
        tasks: task names, one row each.
        n: prefix vectors per task.
        hidden_size: the model's embedding width.
        init_std: standard deviation of the random init.
        seed: seeds the random init.
    """

    def __init__(self, tasks: Sequence[str], n: int, hidden_size: int, *, init_std: float = 0.02, seed: int = 0) -> None:
        super().__init__()
        if n < 1:
            raise ModelError(f"soft prompts need n >= 1 vectors per task (got {n})")
        if len(set(tasks)) != len(tasks):
            raise ModelError("soft prompt task names must be unique")
        self.tasks = list(tasks)
        self.n = n
        self.hidden_size = hidden_size
        generator = torch.Generator().manual_seed(seed)
        self.weight = torch.nn.Parameter(torch.randn(len(self.tasks), n, hidden_size, generator=generator) * init_std)
        self._row = {task: i for i, task in enumerate(self.tasks)}

    def __contains__(self, task: object) -> bool:
        return task in self._row

    def add_task(self, task: str, vectors: torch.Tensor | None = None, *, seed: int = 0) -> None:
        """Add a row for ``task``: given ``vectors`` or a seeded random init at the table's scale."""
        if task in self._row:
            raise ModelError(f"task {task!r} already has a soft prompt")
        if vectors is None:
            vectors = self.random_vectors(task, seed=seed)
        if tuple(vectors.shape) != (self.n, self.hidden_size):
            raise ModelError(f"soft prompt for {task!r} must have shape ({self.n}, {self.hidden_size})")
        with torch.no_grad():
            grown = torch.cat([self.weight.data, vectors.to(self.weight).unsqueeze(0)], dim=0)
        self.weight = torch.nn.Parameter(grown, requires_grad=self.weight.requires_grad)
        self.tasks.append(task)
        self._row[task] = len(self.tasks) - 1

    def random_vectors(self, task: str, *, seed: int = 0) -> torch.Tensor:
        """Random vectors with the table's standard deviation, seeded by ``seed`` and the task name."""
        digest = int(hashlib.sha256(f"{seed}:{task}".encode()).hexdigest()[:15], 16)
        generator = torch.Generator().manual_seed(digest)
        scale = float(self.weight.detach().float().std()) if self.weight.numel() > 1 else 0.02
        return torch.randn(self.n, self.hidden_size, generator=generator) * scale

    def vectors(self, task: str, *, unseen: UnseenPolicy = "random", seed: int = 0) -> torch.Tensor | None:
        """The ``(n, hidden)`` prompt of ``task``; for an unseen task, what ``unseen`` says."""
        if task in self._row:
            return self.weight[self._row[task]]
        if unseen == "none":
            return None
        if unseen == "mean":
            return self.weight.mean(dim=0)
        if unseen == "random":
            return self.random_vectors(task, seed=seed).to(self.weight)
        raise ModelError(f"unknown unseen-task policy {unseen!r}; use none, mean or random")

    def batch(self, tasks: Sequence[str], *, unseen: UnseenPolicy = "random", seed: int = 0) -> torch.Tensor | None:
        """``(B, n, hidden)`` prompts for a batch; ``None`` when no row has one."""
        rows = [self.vectors(task, unseen=unseen, seed=seed) for task in tasks]
        if all(row is None for row in rows):
            return None
        if any(row is None for row in rows):
            raise ModelError("a batch mixes tasks with and without soft prompts; split it by task")
        return torch.stack(rows)  # type: ignore[arg-type]

    def save(self, folder: str | Path, *, extra: dict[str, Any] | None = None) -> None:
        """Write ``soft_prompts.safetensors`` and ``soft_prompts.json`` into ``folder``."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file({TENSOR_KEY: self.weight.detach().float().cpu().contiguous()}, str(folder / WEIGHTS_FILE))
        meta = {"format": FORMAT, "n": self.n, "hidden_size": self.hidden_size, "tasks": self.tasks, **(extra or {})}
        (folder / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: str | Path) -> "SoftPromptTable":
        """Read a table saved by :meth:`save` (fp32, on the CPU)."""
        from safetensors.torch import load_file

        folder = Path(folder)
        meta = read_meta(folder)
        try:
            weight = load_file(str(folder / WEIGHTS_FILE))[TENSOR_KEY]
        except (OSError, KeyError) as error:
            raise ModelError(f"{folder / WEIGHTS_FILE}: cannot read tensor {TENSOR_KEY!r}: {error}") from error
        expected = (len(meta["tasks"]), meta["n"], meta["hidden_size"])
        if tuple(weight.shape) != expected:
            raise ModelError(
                f"{folder / WEIGHTS_FILE} has shape {tuple(weight.shape)} but {META_FILE} says {expected}; "
                "the checkpoint is inconsistent, save it again"
            )
        table = cls(meta["tasks"], meta["n"], meta["hidden_size"])
        with torch.no_grad():
            table.weight.copy_(weight)
        return table


def has_soft_prompts(folder: str | Path) -> bool:
    folder = Path(folder)
    return (folder / WEIGHTS_FILE).is_file() and (folder / META_FILE).is_file()


def read_meta(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot read {path}: {error}. A checkpoint folder needs {META_FILE} and {WEIGHTS_FILE}.") from error
    missing = [key for key in ("n", "hidden_size", "tasks") if key not in meta]
    if missing:
        raise ModelError(f"{path} lacks {', '.join(missing)}")
    return meta


def save_checkpoint(folder: str | Path, model: Any, tokenizer: Any, table: SoftPromptTable | None, *, extra: dict[str, Any] | None = None) -> Path:
    """Save a checkpoint folder: the model, its tokenizer and (if any) the soft prompts."""
    from zp_hf.adapters import save_options

    folder = Path(folder)
    model.save_pretrained(folder, **save_options(model))
    tokenizer.save_pretrained(folder)
    if table is not None:
        if table.hidden_size != model.get_input_embeddings().embedding_dim:
            raise ModelError("soft prompt width differs from the model's embedding width")
        table.save(folder, extra=extra)
    return folder


def prepend(
    embeds: torch.Tensor, attention_mask: torch.Tensor, prompts: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Put ``prompts`` (B, n, H) in front of ``embeds`` (B, T, H) and extend the mask."""
    if prompts is None:
        return embeds, attention_mask
    prompts = prompts.to(device=embeds.device, dtype=embeds.dtype)
    ones = attention_mask.new_ones(attention_mask.shape[0], prompts.shape[1])
    return torch.cat([prompts, embeds], dim=1), torch.cat([ones, attention_mask], dim=1)
