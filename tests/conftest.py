"""Shared fixtures: the repository root, a runner for the real CLI, and one harness for GPS
runs in this process (events are read back with ``RunDirectory.events()``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import pytest

if TYPE_CHECKING:
    from zp_gps.search import GeneticPromptSearch

REPO = Path(__file__).resolve().parents[1]


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(extra)
    return env


def run_cli(*args: str, plugins: str = "", timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    """Run ``zp-evolve ARGS`` in a subprocess, as a user would."""
    extra = {"ZP_EVOLVE_PLUGINS": plugins} if plugins else {}
    return subprocess.run(
        [sys.executable, "-m", "zp_evolve.cli.main", *args],
        cwd=REPO,
        env=cli_env(**extra, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def cli():
    return run_cli


def gps_search(run_dir: Path, raw: dict, *, extra: Sequence[object] = ()) -> "GeneticPromptSearch":
    """A search built as ``zp-evolve run`` builds it (config validated against the run's own
    plugins, installed ones plus ``extra``), writing to ``run_dir``, quiet."""
    from zp_evolve.plugins import load_plugins
    from zp_evolve.rundir import RunDirectory
    from zp_gps.config import validate
    from zp_gps.search import GeneticPromptSearch

    plugins = load_plugins(list(extra))
    return GeneticPromptSearch(
        validate(raw, plugins), raw, RunDirectory(run_dir), plugins, extra_plugins=list(extra), progress=False, echo=lambda s: None
    )


class StopSearch(Exception):
    """Raised by :func:`cut_search` to stop a search between generations."""


def cut_search(run_dir: Path, raw: dict, generations: int, *, extra: Sequence[object] = ()) -> None:
    """Run the search of ``raw`` in ``run_dir`` and stop it after ``generations`` generations
    (G0 counted), as a killed run would stop: a later ``gps_search(...).run(resume=True)`` continues it."""
    search = gps_search(run_dir, raw, extra=extra)
    original, left = search._generation, [generations]

    def limited(state, info):
        if not left[0]:
            raise StopSearch
        left[0] -= 1
        original(state, info)

    search._generation = limited
    with pytest.raises(StopSearch):
        search.run()


@pytest.fixture
def run_gps(tmp_path):
    """``run_gps(name="run", raw=None, extra=(toy_plugin,), **search) -> (summary, RunDirectory)``:
    a search run in this process; by default the toy search of tests/toy_plugin.py with ``search`` options."""
    from tests import toy_plugin

    def run(name: str = "run", raw: dict | None = None, *, extra: Sequence[object] = (toy_plugin,), **search: object):
        search_ = gps_search(tmp_path / name, raw or toy_plugin.toy_config(tmp_path, **search), extra=extra)
        return search_.run(), search_.run_dir

    return run
