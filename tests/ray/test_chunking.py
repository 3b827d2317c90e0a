"""Chunk planning: a partition of the batch, balanced by cost, grouped by task."""

from __future__ import annotations

import random

import pytest

from zp_ray.chunking import plan_chunks, request_cost


def _check_partition(chunks, count):
    indices = [i for c in chunks for i in c.indices]
    assert sorted(indices) == list(range(count))


def test_chunks_cover_every_request_once_and_go_out_largest_first():
    rng = random.Random(0)
    costs = [rng.randint(1, 100) * 1.0 for _ in range(57)]
    groups = [rng.choice("abc") for _ in costs]
    chunks = plan_chunks(costs, groups, num_chunks=8)
    _check_partition(chunks, 57)
    assert len(chunks) == 8
    assert [c.cost for c in chunks] == sorted((c.cost for c in chunks), reverse=True)
    for chunk in chunks:
        assert chunk.cost == sum(costs[i] for i in chunk.indices)


def test_chunk_costs_are_balanced():
    rng = random.Random(1)
    costs = [float(rng.randint(1, 50)) for _ in range(200)]
    chunks = plan_chunks(costs, ["t"] * 200, num_chunks=8)
    target = sum(costs) / 8
    # A cut lands within one item of the target.
    assert max(c.cost for c in chunks) <= target + max(costs)
    assert min(c.cost for c in chunks) >= target - max(costs)


def test_requests_of_a_task_stay_together():
    costs = [1.0] * 12
    groups = ["a"] * 6 + ["b"] * 6
    chunks = plan_chunks(costs, groups, num_chunks=2)
    assert sorted(c.indices for c in chunks) == [tuple(range(6)), tuple(range(6, 12))]


def test_max_size_caps_requests_per_chunk():
    chunks = plan_chunks([1.0] * 10, ["t"] * 10, num_chunks=1, max_size=3)
    _check_partition(chunks, 10)
    assert max(len(c.indices) for c in chunks) <= 3
    assert len(chunks) == 4


def test_never_more_chunks_than_requests_and_none_empty():
    chunks = plan_chunks([5.0, 1.0, 1.0], ["t", "t", "t"], num_chunks=10)
    assert len(chunks) == 3
    assert all(c.indices for c in chunks)
    assert plan_chunks([], [], num_chunks=4) == []


def test_one_huge_request_gets_a_chunk_of_its_own():
    costs = [1000.0] + [1.0] * 9
    chunks = plan_chunks(costs, ["t"] * 10, num_chunks=2)
    assert chunks[0].indices == (0,)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError):
        plan_chunks([1.0], ["t", "u"], num_chunks=1)
    with pytest.raises(ValueError):
        plan_chunks([1.0], ["t"], num_chunks=0)


def test_request_cost_is_examples_times_prompt_length():
    assert request_cost(32, 50) == 1600.0
    assert request_cost(0, 0) == 1.0
