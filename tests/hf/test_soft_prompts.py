"""Soft prompts (E): the table, its checkpoint files and prepending to embeddings."""

from __future__ import annotations

import json

import pytest
import torch

from zp_evolve.errors import ModelError
from zp_hf.soft_prompts import META_FILE, SoftPromptTable, has_soft_prompts, prepend, save_checkpoint


def test_save_load_round_trip(tmp_path):
    table = SoftPromptTable(["sst", "trec"], 3, 8, seed=4)
    table.save(tmp_path, extra={"trained_steps": 10})
    loaded = SoftPromptTable.load(tmp_path)
    assert loaded.tasks == ["sst", "trec"] and loaded.n == 3
    assert torch.equal(loaded.weight, table.weight)
    assert json.loads((tmp_path / META_FILE).read_text())["trained_steps"] == 10


def test_unseen_policies():
    table = SoftPromptTable(["a", "b"], 2, 4, seed=0)
    assert table.vectors("new", unseen="none") is None
    assert torch.allclose(table.vectors("new", unseen="mean"), table.weight.mean(0))
    first = table.vectors("new", unseen="random", seed=1)
    assert torch.equal(first, table.vectors("new", unseen="random", seed=1))
    assert not torch.equal(first, table.vectors("other", unseen="random", seed=1))
    table.add_task("new", first)
    assert torch.equal(table.vectors("new"), first) and table.tasks[-1] == "new"


def test_prepend_extends_embeddings_and_mask():
    embeds = torch.zeros(2, 5, 4)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    prompts = torch.ones(2, 3, 4)
    out, out_mask = prepend(embeds, mask, prompts)
    assert out.shape == (2, 8, 4) and torch.equal(out[:, :3], prompts)
    assert out_mask.tolist()[0] == [1, 1, 1, 1, 1, 1, 0, 0]
    same, same_mask = prepend(embeds, mask, None)
    assert same is embeds and same_mask is mask


def test_inconsistent_checkpoint_is_rejected(tmp_path):
    SoftPromptTable(["a"], 2, 4).save(tmp_path)
    meta = json.loads((tmp_path / META_FILE).read_text())
    meta["n"] = 5
    (tmp_path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="inconsistent"):
        SoftPromptTable.load(tmp_path)


def test_checkpoint_folder_loads_as_a_model(tmp_path, tiny_causal):
    from zp_hf.loading import load_causal_lm

    model, tokenizer = load_causal_lm(tiny_causal)
    width = model.get_input_embeddings().embedding_dim
    save_checkpoint(tmp_path / "ckpt", model, tokenizer, SoftPromptTable(["a"], 2, width))
    assert has_soft_prompts(tmp_path / "ckpt")
    reloaded, _ = load_causal_lm(str(tmp_path / "ckpt"))
    assert torch.equal(reloaded.get_input_embeddings().weight, model.get_input_embeddings().weight)
    with pytest.raises(ModelError, match="width"):
        save_checkpoint(tmp_path / "bad", model, tokenizer, SoftPromptTable(["a"], 2, width + 1))
