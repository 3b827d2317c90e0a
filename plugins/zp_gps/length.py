"""The ``length`` objective: shorter prompts cost less to score and read better."""

from __future__ import annotations

import re
from typing import Any, Sequence

from zp_evolve.prompts import template_wording
from zp_evolve.tasks import Task


class PromptLength:
    """Tokens of a prompt's wording (placeholders and blank removed) under the scoring
    model's tokenizer; whitespace words when the backend has no tokenizer."""

    def __init__(self, backend: Any = None) -> None:
        self.tokenizer = getattr(backend, "tokenizer", None)

    def evaluate(self, prompts: Sequence[tuple[str, Task]]) -> list[float]:
        out = []
        for template, _task in prompts:
            words = template_wording(template)
            if self.tokenizer is not None:
                out.append(float(len(self.tokenizer(words, add_special_tokens=False)["input_ids"])))
            else:
                out.append(float(len(re.findall(r"\S+", words))))
        return out
