"""Joining a cluster that a plain ``ray start --head`` started on this machine, the three
ways a user names it: ``address: auto``, ``address: auto`` with ``RAY_ADDRESS=127.0.0.1:PORT``
(this failed with ``InvalidAuthToken``: Ray resolved it to the node's IP and dropped the
token), and ``address: 127.0.0.1:PORT``. Each gives the serial executor's summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests import toy_plugin
from tests.conftest import run_cli
from tests.ray.cluster import LoopbackCluster


def _run(tmp_path: Path, name: str, executor: dict, **env: str) -> dict:
    raw = toy_plugin.toy_config(tmp_path, generations=2)
    raw["executor"] = executor
    config = tmp_path / f"{name}.yaml"
    config.write_text(yaml.safe_dump(raw))
    result = run_cli("run", str(config), "--run-dir", str(tmp_path / name), "--no-progress", plugins="tests.toy_plugin", **env)
    assert result.returncode == 0, (name, result.stderr[-3000:])
    assert "InvalidAuthToken" not in result.stderr
    return json.loads((tmp_path / name / "summary.json").read_text())


@pytest.mark.slow
def test_auto_and_ray_address_join_a_plain_head_node(tmp_path):
    serial = _run(tmp_path, "serial", {"name": "serial"})
    # No --node-ip-address: the node takes this machine's IP, as a plain `ray start --head` does.
    cluster = LoopbackCluster(num_cpus=3, node_ip_address=None).start()
    try:
        ray = {"name": "ray", "num_actors": 2}
        forms = {
            "auto": _run(tmp_path, "auto", {**ray, "address": "auto"}, RAY_TMPDIR=cluster.root),
            "auto_with_ray_address": _run(tmp_path, "env", {**ray, "address": "auto"}, RAY_ADDRESS=cluster.address),
            "loopback_address": _run(tmp_path, "loopback", {**ray, "address": cluster.address}),
        }
    finally:
        stragglers = cluster.stop()
    assert not stragglers, f"Ray processes outlived the cluster: {stragglers}"
    for form, summary in forms.items():
        assert summary == serial, form
