"""Faults of a real server: stopped mid-run, the run stops with exit 2 naming the URL; resumed, it loses nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import yaml

from tests.conftest import REPO, cli_env, gps_search, run_cli
from tests.openai.test_server import served_config
from zp_openai.serve import free_port


def _events(run_dir) -> list[dict]:
    path = run_dir / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_server_that_is_down_stops_the_run_with_exit_2_naming_the_url(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    config = tmp_path / "down.yaml"
    config.write_text(yaml.safe_dump(served_config(tmp_path, url, retry_seconds=1)))
    result = run_cli("run", str(config), "--run-dir", str(tmp_path / "run"), "--no-progress", timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"{url}/models did not answer" in result.stderr and "Traceback" not in result.stderr


def test_a_server_stopped_mid_run_stops_it_and_resume_rescores_nothing(tmp_path, spare_server, catalog):
    server = spare_server()
    raw = served_config(tmp_path, server.base_url, retry_seconds=3)
    reference = gps_search(tmp_path / "reference", raw).run()  # the same search, never interrupted
    config, run_dir = tmp_path / "served.yaml", tmp_path / "run"
    config.write_text(yaml.safe_dump(raw))
    process = subprocess.Popen(
        [sys.executable, "-m", "zp_evolve.cli.main", "run", str(config), "--run-dir", str(run_dir), "--no-progress"],
        cwd=REPO, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while len(_events(run_dir)) < 4 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    server.stop()  # mid-generation 0: prompts scored so far are in events.jsonl, the rest are not
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2, stderr
    assert server.base_url in stderr and "did not answer" in stderr and "Traceback" not in stderr
    before = _events(run_dir)
    assert 4 <= len(before) < sum(1 for _ in (tmp_path / "reference" / "events.jsonl").open())

    spare_server(port=server.port)  # the server is back, at the same address
    resumed = run_cli("resume", str(run_dir), "--no-progress", timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    events = _events(run_dir)
    assert events[: len(before)] == before
    scored = [(e["task"], e["split"], e["prompt"]) for e in events if not e["cached"]]
    assert len(scored) == len(set(scored))  # nothing scored twice
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary == reference  # usage included: what was scored before the stop counts once
