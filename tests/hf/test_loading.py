"""Model loading: local folders, packaged aliases, hub ids and clear errors."""

from __future__ import annotations

import pytest

from zp_evolve.errors import ModelError
from zp_hf.loading import (
    embed, load_causal_lm, load_embedder, load_seq2seq_lm, read_model_config, resolve_model_source,
)
from zp_hf.packaged import PACKAGED, packaged


def test_local_folder_resolves_to_absolute_path(tiny_causal):
    assert resolve_model_source(tiny_causal) == tiny_causal


def test_hub_id_is_returned_as_is():
    assert resolve_model_source("google/flan-t5-base") == "google/flan-t5-base"
    assert resolve_model_source("gpt2") == "gpt2"


def test_missing_local_folder_names_alternatives(tmp_path):
    with pytest.raises(ModelError) as error:
        resolve_model_source(str(tmp_path / "no-such-model"))
    assert "does not exist" in str(error.value)
    assert "smollm2-135m-instruct" in str(error.value) and "zp-evolve models pull" in str(error.value)


def test_unreachable_hub_fails_fast_with_advice(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError) as error:
        load_causal_lm("zp-evolve-tests/not-a-real-model")
    message = str(error.value)
    assert "not reachable" in message and "models pull" in message


def test_a_model_installed_under_any_alias_resolves_there(tiny_t5, tmp_path, monkeypatch):
    import shutil

    monkeypatch.setenv("ZP_EVOLVE_CACHE", str(tmp_path))
    with pytest.raises(ModelError, match="is built locally and is not installed yet. Build it with: zp-evolve run experiments/task_scaling.yaml"):
        resolve_model_source("zp-t5-mini")
    assert resolve_model_source("my-own-t5") == "my-own-t5"  # not installed: a hub id
    shutil.copytree(tiny_t5, tmp_path / "models" / "my-own-t5")  # what install_as: my-own-t5 leaves
    assert resolve_model_source("my-own-t5") == str(tmp_path / "models" / "my-own-t5")
    assert read_model_config("my-own-t5").is_encoder_decoder


def test_reading_the_config_of_an_unknown_model_offline_fails_fast(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError) as error:
        read_model_config("zp-evolve-tests/not-a-real-model")
    message = str(error.value)
    assert "cannot read the config" in message and "not reachable" in message and "models pull" in message


def test_tiny_causal_loads_as_llama(tiny_causal):
    model, tokenizer = load_causal_lm(tiny_causal)
    assert model.config.model_type == "llama" and not model.training
    assert tokenizer.pad_token is not None
    ids = tokenizer("A great movie.")["input_ids"]
    assert tokenizer.decode(ids) == "A great movie."


def test_tiny_t5_has_sentinels(tiny_t5):
    model, tokenizer = load_seq2seq_lm(tiny_t5)
    assert model.config.model_type == "t5"
    sentinel = tokenizer.convert_tokens_to_ids("<extra_id_0>")
    assert sentinel == len(tokenizer) - 1
    assert tokenizer("<extra_id_0> good", add_special_tokens=False)["input_ids"][0] == sentinel


def test_wrong_model_class_is_a_model_error(tiny_t5, tiny_causal):
    with pytest.raises(ModelError, match="hf_seq2seq"):
        load_causal_lm(tiny_t5)
    with pytest.raises(ModelError, match="hf_causal"):
        load_seq2seq_lm(tiny_causal)


def test_bf16_load(tiny_causal):
    import torch

    model, _ = load_causal_lm(tiny_causal, dtype="bf16")
    assert next(model.parameters()).dtype == torch.bfloat16
    with pytest.raises(ModelError, match="dtype"):
        load_causal_lm(tiny_causal, dtype="int3")


def test_packaged_aliases_are_pinned():
    for alias, model in PACKAGED.items():
        assert len(model.file.sha256) == 64 and model.file.size > 10_000_000, alias
    with pytest.raises(ModelError, match="unknown packaged model"):
        packaged("gpt-17")


@pytest.mark.slow
def test_minilm_embeddings_rank_paraphrases_closer():
    model, tokenizer = load_embedder("minilm")
    a, b, c = embed(model, tokenizer, ["A great movie.", "A wonderful film.", "The stock market fell sharply."])
    dot = lambda u, v: sum(x * y for x, y in zip(u, v))  # noqa: E731
    assert dot(a, b) > 0.6 > dot(a, c)
    assert abs(dot(a, a) - 1.0) < 1e-4


@pytest.mark.slow
def test_smollm2_alias_loads_fast_from_the_cache():
    import time

    resolve_model_source("smollm2-135m-instruct")  # converts once if needed
    start = time.perf_counter()
    model, tokenizer = load_causal_lm("smollm2-135m-instruct")
    assert time.perf_counter() - start < 30  # generous: the brief's claim is < 1 s
    assert model.config.num_hidden_layers == 30 and model.config.hidden_size == 576
    assert "quantization_config" not in model.config.to_dict()
    assert len(tokenizer(" positive")["input_ids"]) == 1
