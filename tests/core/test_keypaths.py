"""Dotted key paths: one merger for --set overrides and for sweep cells."""

from __future__ import annotations

import pytest

from zp_evolve.config import apply_overrides
from zp_evolve.errors import ConfigError
from zp_evolve.grid import expand
from zp_evolve.keypaths import KeyPathError, assign, merged


def test_merged_assigns_dotted_keys_and_merges_mappings():
    base = {"a": {"b": 1, "c": 2}, "mutators": [{"name": "edit", "weight": 1}], "model": None}
    out = merged(base, {"a.b": 5, "d": [1], "a": {"e": 3}, "mutators.0.weight": 4, "model.name": "m"})
    assert out == {"a": {"b": 5, "c": 2, "e": 3}, "mutators": [{"name": "edit", "weight": 4}], "model": {"name": "m"}, "d": [1]}
    assert base["a"] == {"b": 1, "c": 2} and base["mutators"][0]["weight"] == 1  # the base is copied, not changed


def test_assign_replaces_unless_merging_and_refuses_paths_through_values():
    data = {"search": {"top_k": 4, "generations": 2}, "name": "x", "items": [1]}
    assign(data, "search", {"top_k": 8})
    assert data["search"] == {"top_k": 8}
    with pytest.raises(KeyPathError, match="name holds str"):
        assign(data, "name.first", 1)
    with pytest.raises(KeyPathError, match=r"items.3: the list has 1 items"):
        assign(data, "items.3", 2)


def test_overrides_and_sweep_cells_edit_configs_alike(tmp_path):
    base = {"search": {"top_k": 4}, "mutators": [{"name": "edit"}]}
    edits = {"search.top_k": 8, "mutators.0.weight": 2}
    by_set = apply_overrides(base, [f"{k}={v}" for k, v in edits.items()])
    _, (cell,) = expand({"name": "s", "base": base, "grid": {"variant": {"one": edits}}}, tmp_path)
    assert by_set == {k: v for k, v in cell.data.items() if k != "name"} == merged(base, edits)
    with pytest.raises(ConfigError, match="cannot set 'mutators.5.weight'"):
        apply_overrides(base, ["mutators.5.weight=2"])
    with pytest.raises(ConfigError, match=r"grid.variant.bad: cannot merge into the base config: search.top_k holds int"):
        expand({"name": "s", "base": base, "grid": {"variant": {"bad": {"search.top_k.x": 1}}}}, tmp_path)
