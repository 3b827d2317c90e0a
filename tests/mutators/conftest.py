"""Shared helpers: the engine's own offspring check, real packaged tasks, and tiny local models."""

from __future__ import annotations

import pytest

from zp_evolve.prompts import normalize, placeholders
from zp_evolve.tasks import Task
from zp_gps.offspring import rejection_reason


def fields_of(prompt: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(placeholders(prompt)))


def engine_verdict(child: str, parent: str) -> str | None:
    """What the GPS engine would say of ``child``: None (accepted) or the rejection reason."""
    return rejection_reason(child, parent, required=fields_of(parent), max_chars=400, seen={normalize(parent)})


def assert_valid_offspring(parents, children, *, at_least: float = 1.0) -> int:
    """Every parent got a list; a share ``at_least`` of parents got >= 1 accepted, new child."""
    assert isinstance(children, list) and len(children) == len(parents)
    good = 0
    for parent, kids in zip(parents, children):
        assert isinstance(kids, list)
        if any(engine_verdict(kid, parent) is None for kid in kids):
            good += 1
    assert good >= at_least * len(parents), f"only {good}/{len(parents)} parents got a valid new child: {children}"
    return good


@pytest.fixture(scope="session")
def packaged_tasks() -> dict[str, Task]:
    """The packaged provider's task cards (metadata only: no data download)."""
    from zp_evolve.plugins import load_plugins

    provider = load_plugins().build("tasks", {"name": "packaged"})
    return {task.name: task for task in provider.tasks()}


@pytest.fixture(scope="module")
def tiny_t5():
    """A tiny T5 built locally (one torch thread: these tests run beside others)."""
    import torch

    from zp_hf.tiny import tiny_model

    torch.set_num_threads(1)
    return tiny_model("t5")


@pytest.fixture(scope="module")
def tiny_causal():
    """A tiny causal LM built locally."""
    import torch

    from zp_hf.tiny import tiny_model

    torch.set_num_threads(1)
    return tiny_model("causal")
