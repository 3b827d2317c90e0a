"""The ray executor with a real model: a tiny Llama-shaped LM built locally (the
``hf_causal`` backend), the ``dev_metric`` fitness and real packaged tasks. Two actors
must give the summary of the serial executor."""

from __future__ import annotations

import pytest

from tests.ray.conftest import make_search, scored_keys


def _real_config(tiny: str):
    def edit(raw: dict) -> None:
        raw["tasks"] = {
            "providers": [{"name": "packaged", "include": ["rotten_tomatoes", "trec_coarse"]}],
            "names": ["rotten_tomatoes", "trec_coarse"],
            "dev": {"size": 16, "per_label": 3},
            "test": {"max_examples": 16},
        }
        raw["model"] = {"backend": "hf_causal", "name": tiny, "threads": 1}
        raw["fitness"] = {"name": "dev_metric"}
        raw["mutators"] = [{"name": "edit"}]

    return edit


@pytest.mark.slow
def test_two_actors_with_a_real_model_match_serial(ray_session, tmp_path):
    import torch

    from zp_hf.tiny import tiny_model

    torch.set_num_threads(1)
    tiny = tiny_model("causal")
    search = dict(generations=1, top_k=2, children_per_parent=2)
    serial = make_search(tmp_path, "serial", {"name": "serial"}, extra=(), edit=_real_config(tiny), **search).run()
    executor = {"name": "ray", "address": ray_session.address, "num_actors": 2, "threads_per_actor": 1}
    on_ray = make_search(tmp_path, "ray", executor, extra=(), edit=_real_config(tiny), **search).run()
    assert on_ray == serial
    keys = scored_keys(tmp_path / "ray")
    assert keys == scored_keys(tmp_path / "serial") and max(keys.values()) == 1
    scores = [entry["dev"] for task in on_ray["tasks"].values() for entry in task["top_k"]]
    assert all(0.0 <= s <= 1.0 for s in scores)
