"""Reading answer log-probabilities out of both dialects (unit tests on answers shaped like real ones)."""

from __future__ import annotations

import pytest

from zp_openai import logprobs


def echo_choice(tokens, values):
    offsets, at = [], 0
    for token in tokens:
        offsets.append(at)
        at += len(token)
    return {"logprobs": {"tokens": tokens, "token_logprobs": values, "text_offset": offsets}}


def test_echo_sums_the_tokens_after_the_boundary_and_drops_the_generated_one():
    choice = echo_choice(["Answer", ":", " pos", "itive", "\n"], [None, -1.0, -2.0, -0.5, -9.0])
    context, text = "Answer:", "Answer: positive"
    assert logprobs.answer_logprobs("echo", choice, len(context), len(text)) == [-2.0, -0.5]


def test_a_token_across_the_boundary_counts_as_the_answers():
    choice = echo_choice(["Answer", ": yes"], [None, -1.5])
    assert logprobs.answer_logprobs("echo", choice, len("Answer:"), len("Answer: yes")) == [-1.5]


def test_prompt_logprobs_find_the_answer_from_the_end():
    entries = [None, {"12": {"logprob": -1.0, "decoded_token": ":"}}, {"7": {"logprob": -2.0, "decoded_token": " pos"}},
               {"9": {"logprob": -0.25, "decoded_token": "itive"}}]  # fmt: skip
    choice = {"prompt_logprobs": entries}
    assert logprobs.answer_logprobs("prompt_logprobs", choice, len("Answer:"), len("Answer: positive")) == [-2.0, -0.25]
    entries[2] = {"7": {"logprob": -2.0, "decoded_token": " pos"}, "8": {"logprob": -0.1, "decoded_token": " neg"}}
    with pytest.raises(ValueError, match="prompt_logprobs: 0"):
        logprobs.answer_logprobs("prompt_logprobs", choice, len("Answer:"), len("Answer: positive"))


def test_the_counting_probe_recognises_shifted_logprobs():
    tokens = [t for part in logprobs.COUNTING.split(" ") for t in (part.rstrip(","), ",")][:-1]
    tokens = [tokens[0]] + [(" " + t if t != "," else t) for t in tokens[1:]]
    assert "".join(tokens) == logprobs.COUNTING
    good = echo_choice(tokens, [None] + [-0.05] * (len(tokens) - 1))
    shifted = echo_choice(tokens, [None] + [-9.0] * (len(tokens) - 1))
    assert logprobs.has_prompt_logprobs(good, "echo") and not logprobs.counting_is_shifted(good, "echo")
    assert logprobs.counting_is_shifted(shifted, "echo")
    assert not logprobs.has_prompt_logprobs({"logprobs": None}, "echo")


def test_the_launchers_top_k_sort_matches_the_builtin():
    import numpy as np

    from zp_openai import llama_server

    row = np.array([0.5, -1.0, 0.5, 2.0, -1.0, 0.5], dtype=np.float32)
    for top in (0, 1, 2, 4, 6):
        llama_server._state.top = top
        try:
            fast = llama_server.top_sorted(zip(row, range(len(row))), reverse=True)
        finally:
            llama_server._state.top = None
        assert fast == sorted(zip(row, range(len(row))), reverse=True)[:top]
    assert llama_server.top_sorted([3, 1, 2]) == [1, 2, 3]  # anything else: the builtin


def test_the_launcher_turns_off_llamas_extra_buffer_types_unless_asked(monkeypatch):
    """AMX / repacked weights crash llama_decode on amx_int8 CPUs; the launcher's defaults turn them off."""
    import types

    from zp_openai import llama_server

    def fresh_bindings():
        params = types.SimpleNamespace
        return types.SimpleNamespace(llama_model_default_params=lambda: params(use_extra_bufts=True, n_gpu_layers=0))

    monkeypatch.delenv("ZP_LLAMA_EXTRA_BUFFERS", raising=False)
    bindings = fresh_bindings()
    assert llama_server.without_extra_buffers(bindings)
    assert bindings.llama_model_default_params().use_extra_bufts is False
    assert bindings.llama_model_default_params().n_gpu_layers == 0
    assert not llama_server.without_extra_buffers(bindings)  # once only

    monkeypatch.setenv("ZP_LLAMA_EXTRA_BUFFERS", "1")
    kept = fresh_bindings()
    assert not llama_server.without_extra_buffers(kept)
    assert kept.llama_model_default_params().use_extra_bufts is True

    monkeypatch.delenv("ZP_LLAMA_EXTRA_BUFFERS")
    old_release = types.SimpleNamespace(llama_model_default_params=lambda: types.SimpleNamespace(n_gpu_layers=0))
    assert not llama_server.without_extra_buffers(old_release)
