"""The packed scorers (the GPU path) compute what the naive loop computes, sync once per
call, and compile once: checked on the CPU with tiny models and real task data."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from tests.hf.conftest import single_token_words
from tests.hf.test_equivalence import BACKENDS, _assert_same, _folder, _items
from zp_evolve.errors import ModelError
from zp_hf.backends import HFCausalBackend, HFSeq2SeqBackend
from zp_hf.formatting import PredictItem

#: Small rows and budgets, so that a few dozen items make several batches and rows.
PACKED = {"scoring": "packed", "pack_length": 64, "max_batch_tokens": 256}


@pytest.mark.parametrize("layout", ["packed", "padded"])
@pytest.mark.parametrize("kind", ["causal", "t5"])
@pytest.mark.parametrize("answers", ["single", "multi", "mixed"])
def test_packed_equals_naive(kind, answers, layout, tiny_causal, tiny_t5, real_task):
    folder = _folder(kind, tiny_causal, tiny_t5)
    packed = BACKENDS[kind](folder, layout=layout, **PACKED)
    naive = BACKENDS[kind](folder, scoring="naive")
    task, examples = real_task("rotten_tomatoes", 8)
    single = single_token_words(packed.tokenizer, lead_space=kind == "causal", count=2)
    verbalizers = {"single": single, "multi": ("not good at all", "really quite good"), "mixed": (single[0], "really quite good")}
    items = _items(dataclasses.replace(task, verbalizers=verbalizers[answers]), examples)
    _assert_same(packed.predict(items), naive.predict(items))
    assert packed.scorer.last_call["batches"] > 1


@pytest.mark.parametrize("kind", ["causal", "t5"])
def test_packed_equals_naive_with_soft_prompts_and_length_normalisation(kind, tiny_causal, tiny_t5, tmp_path, real_task):
    from zp_hf.loading import load_causal_lm, load_seq2seq_lm
    from zp_hf.soft_prompts import SoftPromptTable, save_checkpoint

    loader = load_causal_lm if kind == "causal" else load_seq2seq_lm
    model, tokenizer = loader(_folder(kind, tiny_causal, tiny_t5))
    width = model.get_input_embeddings().embedding_dim
    save_checkpoint(tmp_path, model, tokenizer, SoftPromptTable(["rotten_tomatoes"], 4, width, init_std=0.5, seed=1))
    task, examples = real_task("rotten_tomatoes", 6)
    unseen = dataclasses.replace(task, name="unseen_task")  # gets seeded random vectors
    items = _items(task, examples) + _items(unseen, examples[:3])
    packed = BACKENDS[kind](str(tmp_path), length_normalize=True, **PACKED)
    naive = BACKENDS[kind](str(tmp_path), scoring="naive", length_normalize=True)
    assert packed.soft_prompts is not None
    _assert_same(packed.predict(items), naive.predict(items))


@pytest.mark.parametrize("kind", ["causal", "t5"])
def test_packed_multiple_choice_and_generation(kind, tiny_causal, tiny_t5, real_task):
    folder = _folder(kind, tiny_causal, tiny_t5)
    task, examples = real_task("quartz", 6)
    items = [PredictItem(task, task.prompts[0], example) for example in examples]
    packed = BACKENDS[kind](folder, **PACKED)
    _assert_same(packed.predict(items), BACKENDS[kind](folder, scoring="naive").predict(items))
    # Generation has no packed form: the packed backend hands it to the fast scorer.
    fast = BACKENDS[kind](folder, batch_size=4)
    queries = packed.queries(items[:3])
    assert packed.generate(queries) == fast.generate(queries)


def test_packed_scoring_copies_to_the_host_once_per_call(tiny_causal, real_task, monkeypatch):
    task, examples = real_task("trec_coarse", 8)
    backend = HFCausalBackend(tiny_causal, **PACKED)
    items = backend.encode(backend.queries(_items(task, examples)))
    calls = {"tolist": 0, "item": 0, "cpu": 0, "__bool__": 0}
    for name in calls:
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    backend.scorer.score(items)
    monkeypatch.undo()
    assert backend.scorer.last_call["batches"] > 2
    # One read of the summed scores at the end; nothing per batch makes the host wait.
    assert calls == {"tolist": 1, "item": 0, "cpu": 0, "__bool__": 0}


def test_auto_scoring_keeps_the_cpu_path_on_the_cpu(tiny_causal):
    from zp_hf.causal import CausalScorer
    from zp_hf.packed import PackedCausalScorer

    assert type(HFCausalBackend(tiny_causal).scorer) is CausalScorer
    assert HFCausalBackend(tiny_causal).scorer.max_batch_tokens == 8192
    assert type(HFCausalBackend(tiny_causal, scoring="packed").scorer) is PackedCausalScorer


def test_bad_packed_options_are_clear_errors(tiny_causal, tiny_t5):
    with pytest.raises(ModelError, match="compile: true needs scoring: packed"):
        HFCausalBackend(tiny_causal, compile=True)
    with pytest.raises(ModelError, match="cuda_graphs: true needs scoring: packed"):
        HFSeq2SeqBackend(tiny_t5, cuda_graphs=True, scoring="fast")
    with pytest.raises(ModelError, match="needs device: cuda"):
        HFCausalBackend(tiny_causal, scoring="packed", cuda_graphs=True)
    with pytest.raises(ModelError, match="pack_length"):
        HFCausalBackend(tiny_causal, scoring="packed", pack_length=4)
    with pytest.raises(ModelError, match="unknown scoring"):
        HFCausalBackend(tiny_causal, scoring="fastest")
    from zp_hf.runner import Runner

    with pytest.raises(ModelError, match="no repeated transformer block"):
        Runner(lambda x: x, device=torch.device("cpu"), blocks=(), compile=True)


@pytest.mark.parametrize("layout", ["packed", "padded"])
def test_compiled_scorer_does_not_recompile_on_later_calls(layout, tiny_causal, real_task):
    """Dynamo (the part of torch.compile that decides when to recompile) on a tiny model:
    later calls with other item counts, like later GPS generations, reuse the graphs."""
    from zp_hf.loading import load_causal_lm
    from zp_hf.packed import PackedCausalScorer
    from zp_hf.settings import PackingSettings, ScorerSettings

    torch._dynamo.reset()  # compiled code is shared by every model of this shape in the process
    model, tokenizer = load_causal_lm(tiny_causal)
    settings = ScorerSettings(max_batch_tokens=512)
    compiled = PackedCausalScorer(model, tokenizer, settings,
                                  PackingSettings(layout=layout, pack_length=64, compile=True, compile_backend="eager"))  # fmt: skip
    eager = PackedCausalScorer(model, tokenizer, settings, PackingSettings(layout=layout, pack_length=64))
    task, examples = real_task("trec_coarse", 16)
    backend = HFCausalBackend(tiny_causal)
    items = backend.encode(backend.queries(_items(task, examples)))

    def same(count: int) -> None:
        flat = lambda rows: [value for row in rows for value in row]  # noqa: E731
        assert flat(compiled.score(items[:count])) == pytest.approx(flat(eager.score(items[:count])), abs=1e-5)

    same(40)
    first = compiled.runner.compiled_graphs
    assert first >= 1
    for count in (13, 64, 7, len(items)):
        same(count)
    assert compiled.runner.compiled_graphs == first


def test_compiled_t5_scorer_does_not_recompile_on_later_calls(tiny_t5, real_task):
    from zp_hf.loading import load_seq2seq_lm
    from zp_hf.packed_seq2seq import PackedSeq2SeqScorer
    from zp_hf.settings import PackingSettings, ScorerSettings

    torch._dynamo.reset()
    model, tokenizer = load_seq2seq_lm(tiny_t5)
    backend = HFSeq2SeqBackend(tiny_t5)
    settings = ScorerSettings(max_batch_tokens=512)
    compiled = PackedSeq2SeqScorer(model, tokenizer, settings, PackingSettings(pack_length=64, compile=True, compile_backend="eager"),
                                   sentinel_id=backend.sentinel_id)  # fmt: skip
    eager = PackedSeq2SeqScorer(model, tokenizer, settings, PackingSettings(pack_length=64), sentinel_id=backend.sentinel_id)
    task, examples = real_task("trec_coarse", 16)
    items = backend.encode(backend.queries(_items(task, examples)))
    flat = lambda rows: [value for row in rows for value in row]  # noqa: E731
    assert flat(compiled.score(items[:50])) == pytest.approx(flat(eager.score(items[:50])), abs=1e-4)
    first = compiled.runner.compiled_graphs
    assert first >= 1
    for count in (9, len(items)):
        assert flat(compiled.score(items[:count])) == pytest.approx(flat(eager.score(items[:count])), abs=1e-4)
    assert compiled.runner.compiled_graphs == first


@pytest.mark.slow
def test_inductor_compile_warms_up_once_and_matches_eager(tiny_causal, real_task):
    """The real compiler (inductor, C++ on the CPU): one block compiled once, then reused."""
    import time

    torch._dynamo.reset()
    backend = HFCausalBackend(tiny_causal, scoring="packed", compile=True, pack_length=64, max_batch_tokens=512)
    eager = HFCausalBackend(tiny_causal, scoring="packed", pack_length=64, max_batch_tokens=512)
    task, examples = real_task("trec_coarse", 16)
    items = _items(task, examples)
    start = time.perf_counter()
    _assert_same(backend.predict(items[:24]), eager.predict(items[:24]))
    warmup = time.perf_counter() - start
    graphs = backend.scorer.runner.compiled_graphs
    assert 1 <= graphs <= 2 and warmup < 300
    _assert_same(backend.predict(items), eager.predict(items))
    assert backend.scorer.runner.compiled_graphs == graphs
