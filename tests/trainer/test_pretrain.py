"""Pretraining a T5 from scratch: sentencepiece tokenizer, span corruption, install as an alias."""

from __future__ import annotations

import json
import re

import pytest


@pytest.mark.slow
def test_pretrain_a_tiny_t5_from_the_packaged_corpora_and_load_it_by_alias(data_sources, tmp_path, monkeypatch):
    from zp_hf.loading import load_seq2seq_lm, resolve_model_source
    from zp_trainer.jobs import PretrainJob
    from zp_trainer.pretrain import CorpusConfig, corpus_texts, install

    data = {
        "job": "pretrain",
        "name": "t5-test",
        "corpus": {"types": ["TOPIC", "NEWS"], "per_task": 150},
        "tokenizer": {"vocab_size": 3000},
        "model": {"d_model": 64, "layers": 1, "heads": 2, "d_kv": 32, "d_ff": 128},
        "optim": {"steps": 16, "batch_size": 8, "warmup_steps": 2, "lr": 0.01},
        "checkpoint": {"every": 8},
        "log_every": 1,
        "install_as": None,
    }
    summary = PretrainJob(progress=False).run(data, tmp_path / "run")
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    losses = [r["mlm"] for r in records]
    assert len(losses) == 16 and sum(losses[-4:]) < 0.85 * sum(losses[:4]), losses
    assert summary["job"] == "pretrain" and summary["corpus_texts"] > 300 and summary["steps"] == 16
    model, tokenizer = load_seq2seq_lm(summary["checkpoint"])
    assert len(tokenizer) == summary["vocab_size"] == model.config.vocab_size
    sentinels = [tokenizer.convert_tokens_to_ids(f"<extra_id_{i}>") for i in range(100)]
    assert len(set(sentinels)) == 100 and tokenizer.unk_token_id not in sentinels
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (0, 1, 2)  # T5's layout
    # The corpus's Chinese text is covered (character_coverage 0.9995: all but the rarest characters).
    texts = corpus_texts(CorpusConfig.model_validate(data["corpus"]), 0)
    chinese = [t for t in texts if re.search("[\u4e00-\u9fff]", t)][:50]
    assert len(chinese) == 50
    ids = [i for t in chinese for i in tokenizer(t, add_special_tokens=False)["input_ids"]]
    assert ids.count(tokenizer.unk_token_id) < 0.01 * len(ids)
    monkeypatch.setenv("ZP_EVOLVE_CACHE", str(tmp_path / "cache"))
    folder = install(tmp_path / "run" / "checkpoint", "zp-t5-small", info={"steps": 16})
    assert resolve_model_source("zp-t5-small") == str(folder)
    assert not (folder / "optimizer.safetensors").exists()

    # A second sweep that needs the same T5 reuses the installed one instead of retraining.
    from zp_trainer.pretrain import fingerprint

    same = {**data, "name": "t5-again", "install_as": "zp-t5-small", "reuse_installed": True}
    install(tmp_path / "run" / "checkpoint", "zp-t5-small", info={"steps": 16, "fingerprint": fingerprint(same)})
    reused = PretrainJob(progress=False).run(same, tmp_path / "again")
    assert reused["reused"] is True and reused["installed"] == str(folder)
    other = {**same, "optim": {**data["optim"], "steps": 17}}  # learns something else: no reuse
    assert fingerprint(other) != fingerprint(same)
