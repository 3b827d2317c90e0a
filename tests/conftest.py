"""Shared fixtures: the repository root and a runner for the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
