"""Pure batching logic: length-sorted batches within groups, common prefixes."""

from __future__ import annotations

from zp_hf.batching import batches, common_prefix, pad_left, pad_right


def test_batches_sort_by_length_and_respect_groups_and_budgets():
    lengths = [5, 1, 9, 3, 7, 2]
    groups = ["a", "a", "a", "b", "b", "b"]
    out = list(batches(lengths, groups, batch_size=2, max_batch_tokens=100))
    assert out == [[1, 0], [2], [5, 3], [4]]
    assert sorted(i for b in out for i in b) == list(range(6))
    tight = list(batches([4, 4, 4], ["g"] * 3, batch_size=8, max_batch_tokens=8))
    assert tight == [[0, 1], [2]]  # 3 rows x 4 tokens would exceed 8 padded tokens


def test_common_prefix_leaves_every_row_a_token():
    assert common_prefix([[1, 2, 3, 4], [1, 2, 3, 9], [1, 2, 3, 4, 5]]) == 3
    assert common_prefix([[1, 2], [1, 2]]) == 1
    assert common_prefix([[7, 1], [8, 1]]) == 0
    assert common_prefix([]) == 0


def test_padding_sides():
    ids, mask = pad_right([[1, 2, 3], [4]], 0)
    assert ids.tolist() == [[1, 2, 3], [4, 0, 0]] and mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    ids, mask = pad_left([[1, 2, 3], [4]], 0)
    assert ids.tolist() == [[1, 2, 3], [0, 0, 4]] and mask.tolist() == [[1, 1, 1], [0, 0, 1]]
