"""The fast scorers compute the same function as the naive loop.

Naive: one full forward per (example, candidate), batch 1, full logits. Fast:
batched, length-sorted, one forward per example for single-token answers, KV cache
(causal) or shared encoder output (T5) for multi-token answers, LM head only where
scored. Checked for both model families, single- and multi-token answers, mixed
answers, soft prompts on, and length normalisation.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.hf.conftest import single_token_words
from zp_hf.backends import HFCausalBackend, HFSeq2SeqBackend
from zp_hf.formatting import PredictItem

BACKENDS = {"causal": HFCausalBackend, "t5": HFSeq2SeqBackend}


def _folder(kind, tiny_causal, tiny_t5):
    return tiny_causal if kind == "causal" else tiny_t5


def _items(task, examples):
    # Every handcrafted prompt, plus a cloze variant with text after the blank.
    prompts = list(task.prompts) + ["[X] In short, it was _ and that is my verdict."]
    return [PredictItem(task, prompt, example) for prompt in prompts for example in examples]


def _assert_same(fast, naive, tol=2e-4):
    assert len(fast) == len(naive)
    for a, b in zip(fast, naive):
        assert list(a) == list(b)
        for key in a:
            assert a[key] == pytest.approx(b[key], abs=tol, rel=1e-5), (key, a, b)
        assert max(a, key=a.get) == max(b, key=b.get)


@pytest.mark.parametrize("kind", ["causal", "t5"])
@pytest.mark.parametrize("answers", ["single", "multi", "mixed"])
def test_fast_equals_naive(kind, answers, tiny_causal, tiny_t5, real_task):
    folder = _folder(kind, tiny_causal, tiny_t5)
    fast = BACKENDS[kind](folder, batch_size=5)
    naive = BACKENDS[kind](folder, scoring="naive")
    task, examples = real_task("rotten_tomatoes", 8)
    single = single_token_words(fast.tokenizer, lead_space=kind == "causal", count=2)
    verbalizers = {"single": single, "multi": ("not good at all", "really quite good"), "mixed": (single[0], "really quite good")}
    task = dataclasses.replace(task, verbalizers=verbalizers[answers])
    items = _items(task, examples)
    encoded = fast.encode(fast.queries(items[:1]))[0]
    lengths = [len(c) for c in encoded.candidates]
    assert {"single": lengths == [1, 1], "multi": min(lengths) > 1, "mixed": lengths[0] == 1 < lengths[1]}[answers]
    _assert_same(fast.predict(items), naive.predict(items))


@pytest.mark.parametrize("kind", ["causal", "t5"])
def test_fast_equals_naive_with_soft_prompts_and_length_normalisation(kind, tiny_causal, tiny_t5, tmp_path, real_task):
    from zp_hf.loading import load_causal_lm, load_seq2seq_lm
    from zp_hf.soft_prompts import SoftPromptTable, save_checkpoint

    loader = load_causal_lm if kind == "causal" else load_seq2seq_lm
    model, tokenizer = loader(_folder(kind, tiny_causal, tiny_t5))
    width = model.get_input_embeddings().embedding_dim
    save_checkpoint(tmp_path, model, tokenizer, SoftPromptTable(["rotten_tomatoes"], 4, width, init_std=0.5, seed=1))
    task, examples = real_task("rotten_tomatoes", 6)
    items = _items(task, examples)
    fast = BACKENDS[kind](str(tmp_path), batch_size=4, length_normalize=True)
    naive = BACKENDS[kind](str(tmp_path), scoring="naive", length_normalize=True)
    assert fast.soft_prompts is not None and naive.soft_prompts is not None
    _assert_same(fast.predict(items), naive.predict(items))


@pytest.mark.parametrize("kind", ["causal", "t5"])
def test_multiple_choice_fast_equals_naive(kind, tiny_causal, tiny_t5, real_task):
    folder = _folder(kind, tiny_causal, tiny_t5)
    task, examples = real_task("quartz", 6)
    assert task.multiple_choice and all(example.candidates for example in examples)
    items = [PredictItem(task, task.prompts[0], example) for example in examples]
    fast = BACKENDS[kind](folder, batch_size=3).predict(items)
    _assert_same(fast, BACKENDS[kind](folder, scoring="naive").predict(items))
    for prediction, example in zip(fast, examples):
        assert tuple(prediction) == example.candidates  # keys are the example's own options


def test_single_token_answers_take_one_forward_per_batch(tiny_causal, real_task):
    task, examples = real_task("rotten_tomatoes", 8)
    items = None
    counts = {}
    for share in (False, True):
        backend = HFCausalBackend(tiny_causal, batch_size=64, max_batch_tokens=1 << 20, share_prefix=share)
        task = dataclasses.replace(task, verbalizers=single_token_words(backend.tokenizer, lead_space=True, count=2))
        items = _items(task, examples)
        calls = []
        backend.model.base_model.register_forward_hook(lambda module, args, output: calls.append(1))
        backend.predict(items)
        counts[share] = len(calls)
    assert counts[False] == 1  # 8 examples x 4 prompts x 2 labels in a single forward
    # Sharing: per prompt, one forward of the common prefix and one of the rest.
    assert len(task.prompts) + 1 < counts[True] <= 2 * (len(task.prompts) + 1)


def test_shared_prefix_equals_unshared(tiny_causal, real_task):
    task, examples = real_task("trec_coarse", 8)
    items = _items(task, examples)
    backend = HFCausalBackend(tiny_causal, batch_size=4)
    encoded = backend.encode(backend.queries(items[:8]))
    from zp_hf.batching import common_prefix

    assert common_prefix([e.context for e in encoded]) >= 4  # V + template text before [X]
    _assert_same(backend.predict(items), HFCausalBackend(tiny_causal, batch_size=4, share_prefix=False).predict(items))


def test_results_do_not_depend_on_batching(tiny_causal, real_task):
    task, examples = real_task("trec_coarse", 8)
    items = _items(task, examples)
    one = HFCausalBackend(tiny_causal, batch_size=1).predict(items)
    many = HFCausalBackend(tiny_causal, batch_size=7, max_batch_tokens=400).predict(items)
    _assert_same(one, many)


@pytest.mark.parametrize("kind", ["causal", "t5"])
def test_unpadded_linear_layers_change_nothing(kind, tiny_causal, tiny_t5, real_task):
    folder = _folder(kind, tiny_causal, tiny_t5)
    task, examples = real_task("trec_coarse", 8)
    items = _items(task, examples)
    on = BACKENDS[kind](folder, batch_size=7)
    assert on.scorer.unpadder is not None and on.scorer.unpadder.patched > 0
    _assert_same(on.predict(items), BACKENDS[kind](folder, batch_size=7, unpad=False).predict(items))


def test_unpadder_skips_tensors_of_another_layout():
    import torch

    from zp_hf.unpad import Unpadder

    layer = torch.nn.Linear(3, 2)
    unpadder = Unpadder.install(torch.nn.Sequential(layer))
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    x, other = torch.randn(2, 3, 3), torch.randn(2, 4, 3)
    with torch.inference_mode(), unpadder.active(mask):
        y, z = layer(x), layer(other)
    assert torch.equal(y[0, 2], torch.zeros(2)) and torch.allclose(y[0, :2], torch.nn.functional.linear(x[0, :2], layer.weight, layer.bias))
    assert torch.allclose(z, torch.nn.functional.linear(other, layer.weight, layer.bias))  # rows differ: untouched
