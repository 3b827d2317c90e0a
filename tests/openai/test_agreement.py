"""Rank classification through the server agrees with hf_causal on the same model."""

from __future__ import annotations

import pytest

from zp_openai.agreement import argmax_agreement, comparison_items, timed_predict


@pytest.mark.slow
def test_served_scores_pick_the_labels_hf_causal_picks(llama_server, catalog, capsys):
    from zp_evolve.plugins import load_plugins
    from zp_openai.backend import OpenAICompatibleBackend

    items = comparison_items(catalog, ["rotten_tomatoes", "sms_spam"], 100)
    assert len(items) == 200
    local = load_plugins().build("backends", {"backend": "hf_causal", "name": "smollm2-135m-instruct", "threads": 1})
    served = OpenAICompatibleBackend(llama_server.base_url, concurrency=4)
    hf, remote = timed_predict(local, items), timed_predict(served, items)
    agree = argmax_agreement(hf.predictions, remote.predictions)
    with capsys.disabled():
        print(f"\nargmax agreement served (Q4_1 GGUF) vs hf_causal (dequantised fp32): {agree}/{len(items)}; "
              f"{remote.per_second(len(items)):.1f} vs {hf.per_second(len(items)):.1f} examples/s")
    assert agree >= 0.95 * len(items)
    assert served.usage.requests == sum(len(p) for p in remote.predictions)
