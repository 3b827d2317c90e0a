"""The ``fluency`` objective: how natural a prompt reads to the scoring LM.

GPS with a small scorer often prefers back-translation debris that no person would
ship; maximising fluency beside the metric (NSGA-II, ``search.objectives: [metric,
fluency]``) keeps readable prompts on the Pareto front.
"""

from __future__ import annotations

from typing import Any, Sequence

from zp_evolve.errors import ConfigError
from zp_evolve.prompts import template_wording
from zp_evolve.tasks import Task


class Fluency:
    """Mean log-probability per token of a prompt's wording (placeholders and blank removed)
    under the scoring causal LM; higher reads more naturally."""

    def __init__(self, backend: Any = None) -> None:
        if backend is None or getattr(backend, "family", "") != "causal":
            raise ConfigError(
                "objective 'fluency' needs a causal LM to read the prompts: use model: {backend: hf_causal, ...}"
            )
        self.backend = backend

    def evaluate(self, prompts: Sequence[tuple[str, Task]]) -> list[float]:
        return self.backend.mean_token_logprob([template_wording(template) for template, _ in prompts])
