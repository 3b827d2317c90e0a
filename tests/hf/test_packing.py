"""Packing, bucketing and masks of the packed scorers (pure logic, no model)."""

from __future__ import annotations

import random

import pytest
import torch

from zp_hf.batching import TokenItem
from zp_hf.head import segment_mask
from zp_hf.packed_batches import build_causal_batch, build_seq2seq_batch, to_device
from zp_hf.packing import causal_units, pack_rows, packed_width, padded_width, plan_batches, seq2seq_units

PAD = 0


def test_pack_rows_is_best_fit_decreasing_and_never_overfills():
    rows = pack_rows([5, 3, 4, 2, 6, 1], capacity=8)
    assert rows == [[4, 3], [0, 1], [2, 5]]  # 6+2, 5+3, 4+1: three rows, the minimum for 21 tokens
    lengths = [random.Random(seed).randrange(1, 60) for seed in range(300)]
    rows = pack_rows(lengths, capacity=64)
    assert sorted(i for row in rows for i in row) == list(range(300))
    assert all(sum(lengths[i] for i in row) <= 64 for row in rows)
    assert len(rows) <= 1.15 * sum(lengths) / 64 + 1  # nearly as few rows as tokens allow
    with pytest.raises(ValueError):
        pack_rows([9], capacity=8)


def test_widths_come_from_few_buckets():
    assert [padded_width(n) for n in (1, 16, 17, 128, 129, 512, 513)] == [16, 16, 32, 128, 192, 512, 768]
    assert [packed_width(n, 256) for n in (1, 256, 257, 1000)] == [256, 256, 512, 1024]
    assert len({padded_width(n) for n in range(1, 2049)}) <= 20


def _items(seed: int, count: int, longest: int = 60) -> list[TokenItem]:
    rng = random.Random(seed)
    return [
        TokenItem("t", [rng.randrange(3, 99) for _ in range(rng.randrange(1, longest))],
                  [[rng.randrange(3, 99) for _ in range(rng.randrange(1, 4))] for _ in range(2)])
        for _ in range(count)
    ]  # fmt: skip


@pytest.mark.parametrize("layout", ["packed", "padded"])
def test_plans_respect_the_token_budget_and_bucket_row_counts(layout):
    shapes = set()
    for count in (7, 50, 123, 200):  # different generations: different numbers of items
        units, _ = causal_units(_items(count, count), lambda task: 0, PAD)
        plans = plan_batches(units, layout=layout, pack_length=128, max_batch_tokens=1024, bucket_rows=True, min_rows=2)
        assert sorted(u for plan in plans for row in plan.rows for u in row) == list(range(count))
        for plan in plans:
            assert len(plan.rows) <= plan.shape_rows and plan.shape_rows * plan.width <= 1024
            assert all(sum(units[u].length for u in row) <= plan.width for row in plan.rows)
            per_batch = 1024 // plan.width
            assert plan.shape_rows == per_batch or plan.shape_rows & (plan.shape_rows - 1) == 0
            shapes.add((plan.shape_rows, plan.width))
    # Four different generations reuse a handful of shapes: graphs and compiled code are reused.
    assert len(shapes) <= (6 if layout == "packed" else 24)
    units, _ = causal_units(_items(1, 5), lambda task: 0, PAD)
    eager = plan_batches(units, layout=layout, pack_length=128, max_batch_tokens=1024, bucket_rows=False)
    assert all(plan.shape_rows == len(plan.rows) for plan in eager)


def test_causal_unit_is_a_tree_of_trunk_and_answer_branches():
    item = TokenItem("t", [11, 12, 13], [[7], [8, 9, 10], [5, 6]])
    (unit,), first = causal_units([item], lambda task: 2, PAD)
    assert first == [0] and unit.soft == 2
    assert unit.main.tokens == [PAD, PAD, 11, 12, 13, 8, 9, 5]
    assert unit.main.positions == [0, 1, 2, 3, 4, 5, 6, 5]  # each branch continues after the trunk
    assert unit.main.branches == [0, 0, 0, 0, 0, 1, 1, 2]
    assert unit.main.readout == [4, 5, 6, 7]
    # The trunk's last position scores every first token; branch tokens score the next one.
    assert unit.picks == [(0, 7, 0), (0, 8, 1), (0, 5, 2), (1, 9, 1), (2, 10, 1), (3, 6, 2)]
    _, first = causal_units([item, item], lambda task: 0, PAD)
    assert first == [0, 3]


def test_seq2seq_unit_has_contiguous_decoder_sequences():
    item = TokenItem("t", [11, 12, 1], [[7], [8, 9, 10]])
    (unit,), _ = seq2seq_units([item], lambda task: 0, PAD, prefix=[0, 99])
    assert unit.main.tokens == [11, 12, 1]
    assert [s.tokens for s in unit.decoder] == [[0, 99], [0, 99, 8, 9]]
    assert [s.readout for s in unit.decoder] == [[1], [2, 3]]
    assert unit.picks == [(0, 7, 0), (0, 8, 1), (1, 9, 1), (2, 10, 1)]


def test_causal_batch_layout_and_one_copy_to_the_device():
    items = [TokenItem("a", [1, 2, 3], [[4], [5]]), TokenItem("b", [6, 7], [[8, 9]])]
    units, _ = causal_units(items, lambda task: 1 if task == "b" else 0, PAD)
    plans = plan_batches(units, layout="packed", pack_length=8, max_batch_tokens=64, bucket_rows=False)
    assert len(plans) == 1 and plans[0].rows == [[1, 0]]  # the longer unit first, both in one row
    host = build_causal_batch(plans[0], units, PAD, positions=True, branches=True)
    arrays = {name: values.tolist() for name, values in host.arrays.items()}
    assert arrays["ids"] == [PAD, 6, 7, 8, 1, 2, 3, PAD]
    assert arrays["seg"] == [0, 0, 0, 0, 1, 1, 1, -1]
    assert arrays["pos"] == [0, 1, 2, 3, 0, 1, 2, 0]
    assert arrays["branch"] == [0, 0, 0, 1, 0, 0, 0, 0]
    assert arrays["readout"] == [2, 3, 6]
    assert arrays["pick_row"] == [0, 1, 2, 2] and arrays["pick_token"] == [8, 9, 4, 5]
    assert arrays["pick_slot"] == [2, 2, 0, 1]  # item "b" (slot 2) sits first in the row
    assert arrays["soft_pos"] == [0] and arrays["soft_src"] == [0] and host.tasks == ["b"]
    tensors = to_device(host, torch.device("cpu"))
    assert tensors["ids"].shape == (1, 8) and tensors["ids"].tolist() == [arrays["ids"]]
    assert tensors["ids"].untyped_storage().data_ptr() == tensors["pick_slot"].untyped_storage().data_ptr()


def test_seq2seq_batch_lines_decoders_up_with_their_encoder_segments():
    items = [TokenItem("a", [1, 2, 3], [[4], [5, 6]]), TokenItem("a", [7, 8], [[9]])]
    units, _ = seq2seq_units(items, lambda task: 0, PAD, prefix=[0])
    plans = plan_batches(units, layout="packed", pack_length=8, max_batch_tokens=64, bucket_rows=False)
    host = build_seq2seq_batch(plans[0], units, PAD)
    arrays = {name: values.tolist() for name, values in host.arrays.items()}
    assert arrays["seg"] == [0, 0, 0, 1, 1, -1, -1, -1]
    assert arrays["dec_ids"] == [0, 0, 5, 0] + [PAD] * 4
    assert arrays["dec_seg"] == [0, 1, 1, 2] + [-1] * 4
    assert arrays["dec_src"] == [0, 0, 0, 1] + [-1] * 4
    assert arrays["readout"] == [0, 2, 3]  # unit 0: its trunk, its branch (second token); unit 1: its trunk


def test_segment_mask_keeps_units_and_branches_apart():
    seg = torch.tensor([[0, 0, 0, 0, 1, 1, -1]])
    branch = torch.tensor([[0, 0, 1, 2, 0, 0, 0]])
    mask = segment_mask(seg, seg, torch.float32, causal=True, query_branch=branch, key_branch=branch)[0, 0]
    seen = (mask == 0).int().tolist()
    assert seen[2] == [1, 1, 1, 0, 0, 0, 0]  # branch 1: the trunk and itself
    assert seen[3] == [1, 1, 0, 1, 0, 0, 0]  # branch 2 does not see branch 1
    assert seen[5] == [0, 0, 0, 0, 1, 1, 0]  # the second unit sees only itself
    assert seen[6] == [1] * 7  # padding sees everything: no empty softmax row
    cross = segment_mask(torch.tensor([[0, 1, -1]]), seg, torch.float32, causal=False)[0, 0]
    assert (cross == 0).int().tolist()[1] == [0, 0, 0, 0, 1, 1, 0]
