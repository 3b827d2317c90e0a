"""The settings the scorers are built with: plain data, importable without torch (the backends
build them when the plugin's components are configured)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from zp_hf.soft_prompts import SoftPromptTable

#: What tasks missing from the soft-prompt table get (:mod:`zp_hf.soft_prompts`).
UnseenPolicy = Literal["none", "mean", "random"]
#: ``packed``: several units per row; ``padded``: one per row (:mod:`zp_hf.packing`).
Layout = Literal["packed", "padded"]


@dataclass(frozen=True)
class ScorerSettings:
    """What every scorer of both families (fast, packed, naive) is set up with.

    Args:
        soft_prompts: the task table (E), or ``None``.
        unseen: what tasks missing from the table get.
        seed: seeds the soft prompts of unseen tasks.
        batch_size: rows per forward (the packed scorers bound batches by tokens alone).
        max_batch_tokens: bound on rows x padded length per forward.
        length_normalize: average (not sum) the answer's token log-probabilities.
    """

    soft_prompts: SoftPromptTable | None = None
    unseen: UnseenPolicy = "random"
    seed: int = 0
    batch_size: int = 32
    max_batch_tokens: int = 8192
    length_normalize: bool = False


@dataclass(frozen=True)
class PackingSettings:
    """How the packed scorers lay out and run their batches (backend options of ``scoring: packed``).

    Args:
        layout: ``packed`` (several units per row) or ``padded`` (one per row).
        pack_length: row width of the packed layout (longer units get wider rows).
        cuda_graphs: capture and replay one CUDA graph per batch shape.
        compile: ``torch.compile`` the model's repeated block (:mod:`zp_hf.runner`).
        compile_backend: ``torch.compile`` backend (tests use ``eager``).
    """

    layout: Layout = "packed"
    pack_length: int = 256
    cuda_graphs: bool = False
    compile: bool = False
    compile_backend: str = "inductor"
