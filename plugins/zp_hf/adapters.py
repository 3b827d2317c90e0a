"""LoRA adapter checkpoints (peft): low-rank weight deltas on top of a named base model.

A LoRA-trained generalist is saved as an adapter folder, not as a full copy of the model::

    adapter_config.json          peft's LoRA config; base_model_name_or_path names the base
    adapter_model.safetensors    the low-rank matrices A, B of every adapted Linear layer
    tokenizer files, soft_prompts.*, training.json   as in any checkpoint (docs/backends.md)

The base is named as the training config named it (a packaged alias, a hub id or an
absolute folder), so the folder stays small (a few MB) and portable. The loaders
(:func:`zp_hf.loading.load_causal_lm` and friends) merge the adapter into the base on
load (``W + scale * B @ A``): the backends then score a plain model, at the base
model's speed, with the same fast code paths.

peft is imported only when an adapter is loaded or built.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zp_evolve.errors import ModelError

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"


def is_adapter_folder(path: str | Path) -> bool:
    """True for a folder that holds a peft adapter (``adapter_config.json``)."""
    return (Path(path) / ADAPTER_CONFIG).is_file()


def adapter_base(folder: str | Path) -> str:
    """The base model an adapter folder was trained on (what ``name:`` would load)."""
    path = Path(folder) / ADAPTER_CONFIG
    try:
        base = json.loads(path.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot read {path}: {error}") from error
    if not isinstance(base, str) or not base:
        raise ModelError(
            f"{path} names no base model (base_model_name_or_path); set it to the model the adapter was trained on"
        )
    return base


def portable_base_name(name: str) -> str:
    """How an adapter records its base: aliases and hub ids as given, folders as absolute paths."""
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else name


def _peft() -> Any:
    try:
        import peft
    except ImportError as error:  # pragma: no cover - peft is a declared dependency
        raise ModelError(f"LoRA adapters need the 'peft' package: {error}. pip install peft") from error
    return peft


def merge_adapter(model: Any, folder: str | Path) -> Any:
    """``model`` with the adapter in ``folder`` merged into its weights (a plain transformers model)."""
    peft = _peft()
    try:
        wrapped = peft.PeftModel.from_pretrained(model, str(folder), is_trainable=False)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise ModelError(f"could not apply the LoRA adapter in {folder}: {error}. Is it an adapter of this base model?") from error
    merged = wrapped.merge_and_unload()
    merged.eval()
    return merged


def attach_adapter(model: Any, folder: str | Path) -> Any:
    """``model`` wrapped with the adapter in ``folder``, unmerged and trainable (to resume training)."""
    peft = _peft()
    try:
        return peft.PeftModel.from_pretrained(model, str(folder), is_trainable=True)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise ModelError(f"could not resume the LoRA adapter in {folder}: {error}") from error


def new_adapter(model: Any, *, r: int, alpha: float, dropout: float, target_modules: Any, base_name: str) -> Any:
    """``model`` wrapped with a fresh LoRA adapter (peft freezes every base weight)."""
    peft = _peft()
    config = peft.LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=target_modules, bias="none")
    try:
        wrapped = peft.get_peft_model(model, config)
    except ValueError as error:
        raise ModelError(f"LoRA target_modules {target_modules!r} do not fit this model: {error}") from error
    # get_peft_model records the folder the base was read from (the cache, for an alias);
    # the name as configured keeps the checkpoint portable.
    wrapped.peft_config["default"].base_model_name_or_path = portable_base_name(base_name)
    return wrapped


def skip_input_casts(model: Any) -> None:
    """Stop peft's LoRA layers from casting their input to the adapter's dtype (fp32).

    Under autocast the matmuls cast their operands anyway, so with a bf16 base the
    input was copied to fp32 and straight back to bf16 in every adapted layer: a sixth
    of the CPU time of a SmolLM2 training step, measured with torch.profiler.
    """
    from peft.tuners.tuners_utils import BaseTunerLayer

    for module in model.modules():
        if isinstance(module, BaseTunerLayer):
            module.cast_input_dtype_enabled = False


def save_options(model: Any) -> dict[str, Any]:
    """Options of ``model.save_pretrained``: for a LoRA model, the adapter alone.

    peft would otherwise look the base model up (on the hub, for an alias) to decide
    whether to save the embedding matrices too; LoRA here never trains them.
    """
    return {"save_embedding_layers": False} if unwrap(model) is not model else {}


def unwrap(model: Any) -> Any:
    """The transformers model inside a peft wrapper (or ``model`` itself): its layers carry the LoRA deltas."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model
