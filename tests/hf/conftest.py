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
