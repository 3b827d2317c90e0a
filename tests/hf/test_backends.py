"""Backend options: the hybrid prompt's switches (E, V, D), generation, errors."""

from __future__ import annotations

import pytest
import torch

from zp_evolve.errors import ModelError
from zp_evolve.plugins import load_plugins
from zp_hf.backends import HFCausalBackend, HFSeq2SeqBackend
from zp_hf.formatting import PredictItem, causal_context


def _build(spec):
    return load_plugins().build("backends", spec, path="model")


def test_backends_build_from_yaml_specs(tiny_causal, tiny_t5):
    import torch

    causal = _build({"backend": "hf_causal", "name": tiny_causal})
    seq2seq = _build({"backend": "hf_seq2seq", "name": tiny_t5, "dtype": "bf16"})
    assert isinstance(causal, HFCausalBackend) and isinstance(seq2seq, HFSeq2SeqBackend)
    assert next(causal.model.parameters()).dtype == torch.float32  # the default
    assert {p.dtype for p in seq2seq.model.parameters()} == {torch.bfloat16}  # the spec's dtype reached the weights


def test_verbalizer_switch_lists_the_options_and_changes_scores(tiny_causal, real_task):
    task, examples = real_task("rotten_tomatoes", 4)
    items = [PredictItem(task, task.prompts[0], example) for example in examples]
    on, off = HFCausalBackend(tiny_causal), HFCausalBackend(tiny_causal, use_verbalizers=False)
    with_v = [causal_context(q.prompt, q.language) for q in on.queries(items)]
    without_v = [causal_context(q.prompt, q.language) for q in off.queries(items)]
    assert all(text.startswith("Options: negative, positive. ") for text in with_v)
    assert all("Options:" not in text for text in without_v)
    assert on.predict(items) != off.predict(items)


def test_description_switch_drops_the_template(tiny_causal, real_task):
    task, examples = real_task("rotten_tomatoes", 4)
    items = [PredictItem(task, task.prompts[0], example) for example in examples]
    off = HFCausalBackend(tiny_causal, use_description=False, use_verbalizers=False)
    for query, example in zip(off.queries(items), examples):
        assert causal_context(query.prompt, query.language) == example.inputs["X"] + "\n"
    assert off.predict(items) != HFCausalBackend(tiny_causal, use_verbalizers=False).predict(items)


def test_span_marks_never_reach_the_model(tiny_causal, tiny_t5, real_task):
    from zp_evolve.spans import strip_marks

    task, examples = real_task("rotten_tomatoes", 4)
    marked = "Review: [X] {{Was the film good or bad?}} Answer: _"
    for backend in (HFCausalBackend(tiny_causal), HFSeq2SeqBackend(tiny_t5)):
        items = [PredictItem(task, marked, example) for example in examples]
        plain = [PredictItem(task, strip_marks(marked), example) for example in examples]
        texts = [backend.tokenizer.decode(item.context) for item in backend.encode(backend.queries(items))]
        assert texts and not any("{{" in t or "}}" in t for t in texts)
        assert backend.predict(items) == backend.predict(plain)  # the model reads the same text either way


@pytest.mark.parametrize("kind", ["causal", "t5"])
def test_soft_prompt_switch(kind, tiny_causal, tiny_t5, tmp_path, real_task):
    from zp_hf.loading import load_causal_lm, load_seq2seq_lm
    from zp_hf.soft_prompts import SoftPromptTable, save_checkpoint

    folder, cls = (tiny_causal, HFCausalBackend) if kind == "causal" else (tiny_t5, HFSeq2SeqBackend)
    model, tokenizer = (load_causal_lm if kind == "causal" else load_seq2seq_lm)(folder)
    width = model.get_input_embeddings().embedding_dim
    save_checkpoint(tmp_path, model, tokenizer, SoftPromptTable(["rotten_tomatoes"], 3, width, init_std=1.0))
    task, examples = real_task("rotten_tomatoes", 4)
    items = [PredictItem(task, task.prompts[0], example) for example in examples]
    with_e = cls(str(tmp_path), soft_prompts=True).predict(items)
    without_e = cls(str(tmp_path), soft_prompts=False).predict(items)
    plain = cls(folder).predict(items)
    assert without_e == plain  # same weights, E off
    assert with_e != without_e
    # An unseen task gets no E under policy "none", so it scores like the plain model.
    other, other_examples = real_task("sarcasm", 3)
    unseen = [PredictItem(other, other.prompts[0], example) for example in other_examples]
    assert cls(str(tmp_path), unseen_soft_prompt="none").predict(unseen) == cls(folder).predict(unseen)
    assert cls(str(tmp_path), unseen_soft_prompt="mean").predict(unseen) != cls(folder).predict(unseen)
    with pytest.raises(ModelError, match="soft_prompts.safetensors"):
        cls(folder, soft_prompts=True)


def test_causal_generation_matches_hf_generate(tiny_causal, real_task):
    backend = HFCausalBackend(tiny_causal, max_new_tokens=6, batch_size=3)
    task, examples = real_task("ner_finance", 5)
    assert task.kind == "generation"
    items = [PredictItem(task, task.prompts[0], example) for example in examples]
    texts = backend.predict(items)
    for item, text in zip(items, texts):
        context = causal_context(backend.queries([item])[0].prompt, task.language)
        ids = backend.tokenizer(context, return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            out = backend.model.generate(ids, max_new_tokens=6, do_sample=False, pad_token_id=backend.tokenizer.pad_token_id)
        expected = backend.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True).strip().split("\n", 1)[0].strip()
        assert text == expected


def test_t5_generation_strips_sentinels(tiny_t5, real_task):
    backend = HFSeq2SeqBackend(tiny_t5, max_new_tokens=5, num_beams=2)
    sentinel = backend.tokenizer.convert_tokens_to_ids("<extra_id_0>")
    other = backend.tokenizer.convert_tokens_to_ids("<extra_id_1>")
    word = backend.tokenizer("the", add_special_tokens=False)["input_ids"]
    assert backend.decode([sentinel, *word, other, *word]) == "the"
    task, examples = real_task("abstract2title", 3)
    items = [PredictItem(task, task.prompts[0], example) for example in examples]
    query = backend.queries(items[:1])[0]
    source = backend.encode([query])[0].context
    assert sentinel in source  # the blank became <extra_id_0>
    texts = backend.predict(items)
    assert all(isinstance(t, str) and "<extra_id" not in t and "</s>" not in t for t in texts)


def test_int8_and_bf16_run_on_cpu(tiny_causal, real_task):
    task, examples = real_task("rotten_tomatoes", 4)
    items = [PredictItem(task, task.prompts[0], example) for example in examples]
    for options in ({"quantize": "int8"}, {"dtype": "bf16"}):
        predictions = HFCausalBackend(tiny_causal, **options).predict(items)
        assert all(set(p) == {"rotten", "fresh"} and all(v < 0 for v in p.values()) for p in predictions)
    with pytest.raises(ModelError, match="CPU"):
        HFCausalBackend(tiny_causal, quantize="int8", device="cuda")


def test_generation_with_soft_prompts_is_batch_independent(tiny_causal, tmp_path, real_task):
    from zp_hf.loading import load_causal_lm
    from zp_hf.soft_prompts import SoftPromptTable, save_checkpoint

    model, tokenizer = load_causal_lm(tiny_causal)
    width = model.get_input_embeddings().embedding_dim
    save_checkpoint(tmp_path, model, tokenizer, SoftPromptTable(["ner_finance"], 3, width, init_std=1.0))
    task, examples = real_task("ner_finance", 5)
    items = [PredictItem(task, task.prompts[0], example) for example in examples]
    one = HFCausalBackend(str(tmp_path), batch_size=1, max_new_tokens=5)
    many = HFCausalBackend(str(tmp_path), batch_size=5, max_new_tokens=5)
    alone = one.predict(items)
    assert alone == many.predict(items)  # left padding goes in front of E, not between E and the text
    assert alone != HFCausalBackend(tiny_causal, max_new_tokens=5).predict(items)


def test_max_input_tokens_cuts_each_input_to_that_many_tokens(tiny_causal, real_task):
    task, examples = real_task("rotten_tomatoes", 8)
    bounded, unbounded = HFCausalBackend(tiny_causal, max_input_tokens=5), HFCausalBackend(tiny_causal)

    def tokens(text):
        return len(bounded.tokenizer(text, add_special_tokens=False)["input_ids"])

    longest = max((e.inputs["X"] for e in examples), key=len)
    cut = bounded._cut_to_tokens(longest)
    assert longest.startswith(cut) and tokens(cut) == 5 < tokens(longest)
    assert bounded._cut_to_tokens("a b") == "a b"  # a shorter input stays whole
    items = [PredictItem(task, task.prompts[0], example) for example in examples]
    short, whole = bounded.queries(items), unbounded.queries(items)
    assert [len(s.prompt.prefix + s.prompt.suffix) < len(w.prompt.prefix + w.prompt.suffix) for s, w in zip(short, whole)] == [
        tokens(e.inputs["X"]) > 5 for e in examples
    ]
    assert len(bounded.predict(items)) == len(items)
    with pytest.raises(ModelError, match="max_input_tokens"):
        HFCausalBackend(tiny_causal, max_input_tokens=-1)
