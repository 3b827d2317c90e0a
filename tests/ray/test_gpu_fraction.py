"""Several actors sharing one GPU (``num_gpus_per_actor: 0.25``): the option's plumbing on
the test cluster's one logical GPU (the actors themselves run on the CPU)."""

from __future__ import annotations

import time

import pytest

from tests import toy_plugin
from tests.ray.test_executor import _toy_tasks
from zp_evolve.errors import ConfigError
from zp_evolve.evaluation import EvalRequest
from zp_evolve.workers import WorkerFactory
from zp_ray.executor import RayExecutor, default_pool_size


def test_default_pool_size_divides_fractions_exactly():
    assert default_pool_size(3, 1, 0.5, 0.25) == 4  # the GPU, not the CPUs, limits
    assert default_pool_size(16, 1, 1, 0.1) == 10  # 1 // 0.1 would be 9
    assert default_pool_size(16, 2, 1, 0.3) == 6
    assert default_pool_size(2, 0, 1, 0) == 2 and default_pool_size(0.5, 0, 1, 0) == 1


def test_more_than_one_gpu_per_actor_must_be_whole():
    with pytest.raises(ConfigError, match="num_gpus_per_actor above 1 must be a whole number"):
        RayExecutor(num_gpus_per_actor=1.5)
    RayExecutor(num_gpus_per_actor=2)  # whole GPUs are fine
    RayExecutor(num_gpus_per_actor=0.25)


def test_four_actors_share_one_gpu_and_match_serial(ray_session):
    import ray

    tasks = _toy_tasks()
    factory = WorkerFactory(fitness={"name": "text_fitness"}, tasks=tasks, extra_plugins=(toy_plugin,))
    requests = [EvalRequest(("toy_sentiment", "toy_pair")[i % 2], f"[X] [X1] [X2] prompt {i} _", "dev") for i in range(16)]
    expected = factory().evaluate(requests)
    assert ray.cluster_resources().get("GPU") == 1
    executor = RayExecutor(address=ray_session.address, num_cpus_per_actor=0.5, num_gpus_per_actor=0.25)
    executor.start(factory)
    try:
        assert len(set(executor.actor_pids())) == 4  # as many as quarter GPUs fit on the one GPU
        assert ray.available_resources().get("GPU", 0.0) == pytest.approx(0.0)  # each holds its quarter
        results = executor.evaluate(requests)
    finally:
        executor.close()
    assert [r.fitness for r in results] == [r.fitness for r in expected]
    deadline = time.monotonic() + 30
    while ray.available_resources().get("GPU", 0.0) < 1 - 1e-9 and time.monotonic() < deadline:
        time.sleep(0.2)  # killed actors release their resources asynchronously
    assert ray.available_resources().get("GPU", 0.0) == pytest.approx(1.0)


@pytest.mark.slow
def test_quarter_gpu_actors_with_packed_scoring_match_serial(ray_session, tmp_path):
    """A GPS generation on four actors holding a quarter GPU each, scoring with the packed
    (GPU) path on the CPU: the summary of the serial executor."""
    import torch

    from tests.ray.conftest import make_search, scored_keys
    from tests.ray.test_real_model import _real_config
    from zp_hf.tiny import tiny_model

    torch.set_num_threads(1)
    real = _real_config(tiny_model("causal"))

    def edit(raw: dict) -> None:
        real(raw)
        raw["model"].update(scoring="packed", pack_length=64, max_batch_tokens=512)

    search = dict(generations=1, top_k=2, children_per_parent=2)
    serial = make_search(tmp_path, "serial", {"name": "serial"}, extra=(), edit=edit, **search).run()
    executor = {"name": "ray", "address": ray_session.address, "num_actors": 4, "num_cpus_per_actor": 0.5,
                "num_gpus_per_actor": 0.25, "threads_per_actor": 1, "runtime_env": _this_code()}  # fmt: skip
    on_ray = make_search(tmp_path, "ray", executor, extra=(), edit=edit, **search).run()
    assert on_ray == serial
    assert scored_keys(tmp_path / "ray") == scored_keys(tmp_path / "serial")


def _this_code() -> dict:
    """A runtime env whose actors import the zp_evolve and zp_hf this test imports (a
    worktree's, even where another copy is installed), since packed scoring is new."""
    import os
    from pathlib import Path

    import zp_evolve
    import zp_hf

    roots = [str(Path(module.__file__).resolve().parents[1]) for module in (zp_evolve, zp_hf)]
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(dict.fromkeys(roots))}}
