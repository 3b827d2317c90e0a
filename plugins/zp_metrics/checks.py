"""What each metric can score, declared at registration (``check_task``) and checked by
``zp-evolve validate`` and at the start of a run, before any model loads.

Each message completes "metric 'auc', which ...".
"""

from __future__ import annotations

from typing import Any, Mapping

from zp_evolve.tasks import Task


def classification_only(task: Task, options: Mapping[str, Any], plugins: Any) -> str | None:
    """Metrics over label scores: no generation tasks."""
    if task.kind == "classification":
        return None
    return "reads label scores, and the task generates text; use rouge1, string_f1 or pos_f1"


def binary_only(task: Task, options: Mapping[str, Any], plugins: Any) -> str | None:
    """ROC-AUC: two fixed labels, the second being the positive class."""
    problem = classification_only(task, options, plugins)
    if problem:
        return problem
    if task.multiple_choice:
        return "compares two fixed labels, and the task has options per example; use micro_f1"
    if len(task.labels) != 2:
        return f"needs exactly two labels, and the task has {len(task.labels)}; use micro_f1"
    return None


def generation_only(task: Task, options: Mapping[str, Any], plugins: Any) -> str | None:
    """Metrics over generated strings: no classification tasks (their predictions are label scores)."""
    if task.kind == "generation":
        return None
    return "compares generated text, and the task is a classification task; use auc (two labels) or micro_f1"
