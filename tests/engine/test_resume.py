"""A run killed with SIGKILL resumes to exactly the summary of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from tests import toy_plugin
from tests.conftest import REPO, cli_env, run_cli
from zp_evolve.rundir import RunDirectory


def _write_config(tmp_path: Path) -> Path:
    raw = toy_plugin.toy_config(tmp_path, generations=4, top_k=2, children_per_parent=2)
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_resume_after_sigkill_gives_identical_summary(tmp_path):
    config = _write_config(tmp_path)
    reference = run_cli("run", str(config), "--run-dir", str(tmp_path / "reference"), "--no-progress", plugins="tests.toy_plugin")
    assert reference.returncode == 0, reference.stderr

    killed_dir = tmp_path / "killed"
    # Slow the toy fitness down so the kill lands in the middle of a generation.
    process = subprocess.Popen(
        [sys.executable, "-m", "zp_evolve.cli.main", "run", str(config), "--run-dir", str(killed_dir), "--no-progress"],
        cwd=REPO,
        env=cli_env(ZP_EVOLVE_PLUGINS="tests.toy_plugin", ZP_TOY_SLOW="0.05"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        if sum(1 for e in RunDirectory(killed_dir).events() if e["generation"] == 2) >= 2:
            break
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = list(RunDirectory(killed_dir).events())
    assert not (killed_dir / "summary.json").exists()
    assert any(e["generation"] == 2 for e in before)

    resumed = run_cli("resume", str(killed_dir), "--no-progress", plugins="tests.toy_plugin")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout

    expected = json.loads((tmp_path / "reference" / "summary.json").read_text())
    actual = json.loads((killed_dir / "summary.json").read_text())
    assert actual == expected

    after = list(RunDirectory(killed_dir).events())
    assert after[: len(before)] == before  # nothing written before the kill was lost
    per_prompt = Counter((e["generation"], e["task"], e["split"], e["prompt"]) for e in after)
    assert max(per_prompt.values()) == 1  # nothing scored (or logged) twice
    reference_prompts = {(e["generation"], e["task"], e["split"], e["prompt"]) for e in RunDirectory(tmp_path / "reference").events()}
    assert set(per_prompt) == reference_prompts


def test_resume_of_a_missing_run_is_a_clear_error(tmp_path):
    result = run_cli("resume", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "not a run directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_refuses_to_overwrite_an_existing_run(tmp_path):
    config = _write_config(tmp_path)
    first = run_cli("run", str(config), "--run-dir", str(tmp_path / "r"), "--set", "search.generations=0", plugins="tests.toy_plugin")
    assert first.returncode == 0, first.stderr
    second = run_cli("run", str(config), "--run-dir", str(tmp_path / "r"), plugins="tests.toy_plugin")
    assert second.returncode == 2
    assert "zp-evolve resume" in second.stderr
