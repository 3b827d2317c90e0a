"""A run folder written before GPS became a plugin still resumes to the same summary.

The fixture was made by the pre-move code: a toy run (tests.toy_plugin) killed in generation 2,
so ``checkpoint.pkl`` pickles ``zp_evolve.engine.*`` classes by those module paths.
``expected_summary.json`` is the summary of the same config run without interruption.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import run_cli

FIXTURE = Path(__file__).parent / "data" / "run_before_gps_plugin"


def test_old_run_folder_resumes_to_the_same_summary(tmp_path):
    run_dir = tmp_path / "old_run"
    shutil.copytree(FIXTURE, run_dir, ignore=shutil.ignore_patterns("expected_summary.json"))
    resumed = run_cli("resume", str(run_dir), "--no-progress", plugins="tests.toy_plugin")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout
    expected = json.loads((FIXTURE / "expected_summary.json").read_text())
    assert json.loads((run_dir / "summary.json").read_text()) == expected
