"""Named training presets (``recipe:``): sets of defaults a train config fills in; keys the user writes win.

* ``paper``: the paper's recipe and the schema's defaults: the full hybrid prompt E + V + D
  (V ahead of D), the auxiliary MLM loss, every weight trained at lr 3.5e-5, random E for
  unseen tasks (Tables 4 and 5 reproduce under it).
* ``causal_transfer``: the candidate default for causal LMs, from issue 23's SmolLM2-135M
  ablations (without V 44.70 against 37.13 with it, untrained 40.05; top-1 E init 43.9
  against random 39.4): no V, E with top-1 init for unseen tasks, the loss on the answer
  only, LoRA r = 16 at lr 1e-3 (E at 5e-3): the measured SmolLM2 generalist's optimiser
  (experiments/train/smollm2_generalist.yaml), under which those ablations ran.
* ``auto`` (the default): ``causal_transfer`` for causal LMs, ``paper`` for seq2seq ones.

The model's kind is read without loading it (``model.kind``, a packaged alias's kind, or
the folder's config.json); a hub id is not looked up, so ``auto`` means ``paper`` for it
unless ``model.kind: causal`` is set. The resolved name replaces ``auto`` in the validated config,
so ``training.json`` records which recipe a checkpoint was trained with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

RECIPES: dict[str, dict[str, Any]] = {
    "paper": {
        "prompt": {"soft_prompt": True, "verbalizers": "before", "description": True, "unseen_init": "random"},
        "loss": {"mlm": True, "answer_only": True},
    },
    "causal_transfer": {
        "prompt": {"soft_prompt": True, "verbalizers": "none", "description": True, "unseen_init": "top1"},
        "loss": {"answer_only": True},
        "lora": {"r": 16, "alpha": 32.0, "dropout": 0.0},
        "optim": {"lr": 1e-3, "soft_prompt_lr": 5e-3},
    },
}
AUTO = "auto"
NAMES: tuple[str, ...] = (AUTO, *RECIPES)


def unknown_message(name: object) -> str:
    return f"unknown recipe {name!r}; the recipes are: {', '.join(NAMES)}"


def fill(user: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``user`` with ``defaults`` filled in where it has no key; mappings merge key by key."""
    out = dict(user)
    for key, value in defaults.items():
        if key not in out:
            out[key] = value
        elif isinstance(out[key], Mapping) and isinstance(value, Mapping):
            out[key] = fill(out[key], value)
    return out


def model_kind_of(model: Any) -> str | None:
    """``causal`` or ``seq2seq`` for a config's ``model:`` entry, without loading the model (None: unknown)."""
    if not isinstance(model, Mapping):
        return None
    if model.get("kind") in ("seq2seq", "causal"):
        return str(model["kind"])
    name = model.get("name")
    if not isinstance(name, str) or not name:
        return None
    from zp_hf.packaged import PACKAGED

    if name in PACKAGED:
        return PACKAGED[name].kind
    try:
        from zp_hf.loading import read_model_config, resolve_model_source

        source = resolve_model_source(name, progress=False)
        if not Path(source).is_dir():  # a hub id: not read here (no network at validation)
            return None
        config = read_model_config(source)
    except Exception:  # a model that is not here yet: validation goes on, the run reports it
        return None
    return "seq2seq" if getattr(config, "is_encoder_decoder", False) else "causal"


def resolve(name: str, model: Any) -> str:
    """The preset ``name`` stands for (``auto``: by the model's kind)."""
    if name != AUTO:
        return name
    return "causal_transfer" if model_kind_of(model) == "causal" else "paper"


def apply(data: Mapping[str, Any]) -> dict[str, Any]:
    """A train section's raw keys with its recipe's defaults filled in and ``recipe`` resolved.

    An unknown recipe is left for the schema to report (with the valid names).
    """
    out = dict(data)
    name = out.get("recipe", AUTO)
    if not isinstance(name, str) or name not in NAMES:
        return out
    resolved = resolve(name, out.get("model"))
    out = fill(out, RECIPES[resolved])
    out["recipe"] = resolved
    return out
