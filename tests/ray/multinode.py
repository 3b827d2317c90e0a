"""Drivers for the multi-node tests: ``zp-evolve`` and ``ray`` commands run in the head
node's namespace of a :class:`~tests.ray.netns_cluster.NetnsCluster`, and the state API
read from there (``python -m tests.ray.multinode actors ADDRESS DASHBOARD_URL``).

Everything runs as a user would run it: the real CLI in a subprocess, joined to the
cluster by its address on the bridge, the run folder on the file system that every
node here shares.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO
from tests.ray.netns_cluster import NetnsCluster
from zp_evolve.rundir import RunDirectory


def write_config(path: Path, raw: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(raw))
    return path


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "zp_evolve.cli.main", *args]


def driver_env(cluster: NetnsCluster, plugins: str = "tests.toy_plugin", pythonpath: str = str(REPO), **extra: str) -> dict:
    """The driver's environment: the cluster's (token, no ``RAY_ADDRESS``), the checkout on
    ``PYTHONPATH`` and the run's plugin modules."""
    return cluster.env(PYTHONPATH=pythonpath, ZP_EVOLVE_PLUGINS=plugins, **extra)


def run_in_head(cluster: NetnsCluster, argv: list[str], *, timeout: float = 300, env: dict | None = None,
                wrap: list[str] | None = None) -> subprocess.CompletedProcess:
    """``argv`` in the head's namespace (behind ``wrap``, e.g. ``unshare``), output captured."""
    return subprocess.run(
        cluster.command([*(wrap or []), *argv]), env=env or driver_env(cluster), cwd=REPO,
        capture_output=True, text=True, timeout=timeout,
    )


def start_in_head(cluster: NetnsCluster, argv: list[str], *, env: dict | None = None, log: Path) -> subprocess.Popen:
    """``argv`` started in the head's namespace; ``ip netns exec`` execs it, so the pid is its own."""
    stream = open(log, "w")
    return subprocess.Popen(
        cluster.command(argv), env=env or driver_env(cluster), cwd=REPO, stdout=stream, stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for_events(run_dir: Path, generation: int, count: int, timeout_s: float, process: subprocess.Popen | None = None) -> int:
    """Wait until ``events.jsonl`` holds ``count`` events of ``generation``; returns how many it holds."""
    deadline = time.monotonic() + timeout_s
    seen = 0
    while time.monotonic() < deadline:
        seen = sum(1 for e in RunDirectory(run_dir).events() if e["generation"] == generation)
        if seen >= count or (process is not None and process.poll() is not None):
            return seen
        time.sleep(0.05)
    return seen


def evaluation_actors(cluster: NetnsCluster, timeout: float = 60) -> list[dict]:
    """Every ``EvaluationActor`` the cluster has seen (live or dead), with its node's IP, from Ray's state API."""
    argv = [sys.executable, "-m", "tests.ray.multinode", "actors", cluster.address, cluster.dashboard]
    result = run_in_head(cluster, argv, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"the state API query failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _actors(address: str, dashboard: str) -> None:
    import ray
    from ray.util.state import list_actors

    ray.init(address=address, logging_level="ERROR", log_to_driver=False)
    ips = {node["NodeID"]: node["NodeManagerAddress"] for node in ray.nodes()}
    actors = list_actors(
        address=dashboard, filters=[("class_name", "=", "EvaluationActor")], limit=1000, detail=True,
        raise_on_missing_output=False,
    )
    print(json.dumps([
        {"actor_id": a.actor_id, "state": a.state, "node_ip": ips.get(a.node_id), "pid": a.pid, "job_id": a.job_id}
        for a in actors
    ]))


if __name__ == "__main__":
    if sys.argv[1:2] == ["actors"]:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        _actors(sys.argv[2], sys.argv[3])
