from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import toy_plugin
from zp_evolve.config import validate
from zp_evolve.engine.gps import GeneticPromptSearch
from zp_evolve.engine.rundir import RunDirectory
from zp_evolve.plugins import load_plugins


@pytest.fixture
def toy_plugins():
    return load_plugins([toy_plugin])


@pytest.fixture
def run_toy(tmp_path, toy_plugins):
    """Run a toy search in-process; returns (summary, run directory)."""

    def run(name: str = "run", raw: dict | None = None, **search) -> tuple[dict, RunDirectory]:
        raw = raw or toy_plugin.toy_config(tmp_path, **search)
        config = validate(raw, toy_plugins)
        run_dir = RunDirectory(tmp_path / name)
        search_ = GeneticPromptSearch(config, raw, run_dir, toy_plugins, extra_plugins=[toy_plugin], progress=False, echo=lambda s: None)
        return search_.run(), run_dir

    return run


def read_events(run_dir: RunDirectory) -> list[dict]:
    return [json.loads(line) for line in Path(run_dir.events_path).read_text().splitlines()]
