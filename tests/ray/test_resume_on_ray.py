"""A ``zp-evolve run`` on a local Ray, killed with SIGKILL mid-generation, resumes with
``zp-evolve resume`` to the summary of an uninterrupted run, losing and rescoring nothing.
It also checks that the killed run's local Ray went down with it (no orphans)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest
import yaml

from tests import toy_plugin
from tests.conftest import REPO, cli_env, run_cli
from tests.ray.cluster import kill_processes_under
from tests.ray.conftest import make_search, scored_keys
from zp_evolve.rundir import RunDirectory


@pytest.mark.slow
def test_run_killed_mid_generation_on_local_ray_resumes_to_identical_summary(tmp_path):
    reference = make_search(tmp_path, "reference", {"name": "serial"})
    expected = reference.run()

    raw = toy_plugin.toy_config(tmp_path)
    raw["executor"] = {"name": "ray", "num_actors": 2, "num_cpus": 2, "chunks_per_actor": 1}  # address unset: local Ray
    config = tmp_path / "ray.yaml"
    config.write_text(yaml.safe_dump(raw))
    run_dir = tmp_path / "killed"
    ray_tmp = tempfile.mkdtemp(prefix="zpray", dir="/tmp")  # the local Ray's session folder goes here
    process = subprocess.Popen(
        [sys.executable, "-m", "zp_evolve.cli.main", "run", str(config), "--run-dir", str(run_dir), "--no-progress"],
        cwd=REPO,
        # ZP_TOY_SLOW slows the toy fitness (the local Ray's workers inherit it).
        env=cli_env(ZP_EVOLVE_PLUGINS="tests.toy_plugin", ZP_TOY_SLOW="0.25", RAY_TMPDIR=ray_tmp),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            if sum(e["generation"] == 1 for e in RunDirectory(run_dir).events()) >= 2:
                break
            time.sleep(0.05)
        assert process.poll() is None, f"the run ended before it could be killed: {process.stderr.read()}"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        stragglers = kill_processes_under(ray_tmp, grace_s=15)
    assert not stragglers, "the killed run's local Ray outlived it"
    before = list(RunDirectory(run_dir).events())
    assert not (run_dir / "summary.json").exists()
    generation_1 = [e for e in before if e["generation"] == 1]
    assert generation_1 and not any(e["generation"] == 2 for e in before)  # killed inside generation 1

    resumed = run_cli("resume", str(run_dir), "--no-progress", plugins="tests.toy_plugin", RAY_TMPDIR=ray_tmp)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout
    assert not kill_processes_under(ray_tmp, grace_s=15), "the resumed run left Ray processes behind"
    shutil.rmtree(ray_tmp, ignore_errors=True)

    assert json.loads((run_dir / "summary.json").read_text()) == expected
    after = list(RunDirectory(run_dir).events())
    assert after[: len(before)] == before  # nothing written before the kill was lost
    keys = scored_keys(run_dir)
    assert max(keys.values()) == 1  # nothing scored twice
    assert keys == scored_keys(tmp_path / "reference")
