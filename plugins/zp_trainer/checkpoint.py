"""Resumable training checkpoints, all in safetensors and JSON (no pickle).

A step checkpoint is a model checkpoint folder (docs/backends.md: model, tokenizer,
soft prompts) plus what resuming needs::

    training.json            the training config, the training tasks and their types
    optimizer.safetensors    AdamW's moment tensors, flattened ("state.<i>.<key>")
    optimizer.json           AdamW's param groups (without the tensors) and tensor-free state
    trainer_state.json       step, mixture sampler and data RNG states, loss totals
    rng.safetensors          torch's CPU (and CUDA) generator states
    COMPLETE                 written last: a folder without it is ignored on resume
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from zp_evolve.errors import RunError

COMPLETE = "COMPLETE"
TRAINING_FILE = "training.json"
_STEP_DIR = re.compile(r"^step-(\d+)$")


def step_dir(root: Path, step: int) -> Path:
    return root / f"step-{step:06d}"


def latest(root: Path) -> Path | None:
    """The newest complete step checkpoint under ``root``, if any."""
    if not root.is_dir():
        return None
    found = []
    for child in root.iterdir():
        match = _STEP_DIR.match(child.name)
        if match and (child / COMPLETE).is_file():
            found.append((int(match.group(1)), child))
    return max(found)[1] if found else None


def prune(root: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest step checkpoints (and incomplete ones)."""
    if not root.is_dir():
        return
    complete, partial = [], []
    for child in root.iterdir():
        match = _STEP_DIR.match(child.name)
        if match:
            (complete if (child / COMPLETE).is_file() else partial).append((int(match.group(1)), child))
    for _, path in sorted(complete)[:-keep] + partial:
        shutil.rmtree(path, ignore_errors=True)


def save_optimizer(folder: Path, optimizer: Any) -> None:
    from safetensors.torch import save_file
    import torch

    state = optimizer.state_dict()
    tensors: dict[str, Any] = {}
    plain: dict[str, dict[str, Any]] = {}
    for index, entries in state["state"].items():
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                plain.setdefault(str(index), {})[key] = value
    save_file(tensors, str(folder / "optimizer.safetensors"))
    groups = [{k: v for k, v in group.items()} for group in state["param_groups"]]
    (folder / "optimizer.json").write_text(json.dumps({"param_groups": groups, "plain": plain}), encoding="utf-8")


def load_optimizer(folder: Path, optimizer: Any) -> None:
    from safetensors.torch import load_file

    tensors = load_file(str(folder / "optimizer.safetensors"))
    meta = json.loads((folder / "optimizer.json").read_text(encoding="utf-8"))
    state: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors.items():
        _, index, key = name.split(".", 2)
        state.setdefault(int(index), {})[key] = tensor
    for index, entries in meta["plain"].items():
        state.setdefault(int(index), {}).update(entries)
    groups = meta["param_groups"]
    for group in groups:
        if isinstance(group.get("betas"), list):
            group["betas"] = tuple(group["betas"])
    try:
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except ValueError as error:
        raise RunError(f"{folder}: the optimizer state does not fit this model ({error}); resume with the same config") from error


def save_rng(folder: Path) -> None:
    from safetensors.torch import save_file
    import torch

    tensors = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda.{index}"] = state
    save_file(tensors, str(folder / "rng.safetensors"))


def load_rng(folder: Path) -> None:
    from safetensors.torch import load_file
    import torch

    tensors = load_file(str(folder / "rng.safetensors"))
    torch.set_rng_state(tensors["cpu"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("cuda.")]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


def read_training(folder: str | Path) -> dict[str, Any] | None:
    """``training.json`` of a trained checkpoint (tasks, types, config), or None for other models."""
    path = Path(folder) / TRAINING_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))

