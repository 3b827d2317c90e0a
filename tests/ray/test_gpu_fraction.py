"""Several actors sharing one GPU (``num_gpus_per_actor: 0.25``): the option's plumbing on
the test cluster's one logical GPU (the actors themselves run on the CPU)."""

from __future__ import annotations

import time

import pytest

from tests import toy_plugin
from tests.ray.test_executor import _toy_tasks
from zp_evolve.errors import ConfigError
from zp_evolve.evaluation import EvalRequest, WorkerFactory
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
    factory = WorkerFactory(fitness={"name": "text_fitness"}, tasks=tasks, seed=0, extra_plugins=(toy_plugin,))
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
