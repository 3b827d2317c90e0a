"""A pretrained-LM generalist on a small CPU: LoRA (peft) with E, bf16 autocast, gradient
checkpointing and packing, on a tiny causal model and real tasks. The loss falls, the
adapter checkpoint reloads (merged) with its E, resumes exactly, and eval and GPS take it."""

from __future__ import annotations

import json
import random

import pytest

from zp_hf.placement import placement

from tests.trainer.conftest import TRAIN_TASKS, UNSEEN_TASK, gps_on_checkpoint, train_data

LORA = {"r": 8, "alpha": 16, "dropout": 0.0}


def lora_data(model: str, **overrides):
    """The tiny training config with every fitting technique of smollm2_generalist.yaml."""
    settings = {
        "lora": dict(LORA),
        "pack_tokens": 600,
        "model.autocast": "bf16",
        "model.gradient_checkpointing": True,
        "optim.lr": 1e-2,
        "optim.soft_prompt_lr": 5e-2,
        "optim.grad_accum": 2,
    }
    settings.update(overrides)
    return train_data(model, **settings)


@pytest.fixture(scope="session")
def trained_lora(tiny_causal, data_sources, tmp_path_factory):
    """A finished LoRA + E run of the tiny causal LM (12 steps)."""
    from zp_trainer.jobs import TrainJob

    out = tmp_path_factory.mktemp("lora") / "run"
    TrainJob(progress=False).run(lora_data(tiny_causal), out)
    return out


def _items(catalog, per_task: int = 2):
    from zp_trainer.items import build_item

    rng = random.Random(5)
    items = []
    for name in TRAIN_TASKS:
        task = catalog.get(name)
        for example in catalog.eval_pool(name)[:per_task]:
            items.append(build_item(task, example, rng, max_input_chars=300))
    return items


def _packed(generalist, items, texts=(), capacity=600):
    from zp_trainer.batches import BatchBuilder
    from zp_trainer.packing import PackItem, pack

    builder = BatchBuilder(generalist.tokenizer, "causal", max_source_tokens=512, max_target_tokens=24)
    packed = [PackItem(ids, labels, item.task) for item, (ids, labels) in zip(items, builder.supervised_rows(items))]
    rows = builder.unlabelled_rows(list(texts), random.Random(0), window=32, noise_density=0.15, mean_span_length=3.0)
    packed += [PackItem(ids, labels, None, mlm=True) for ids, labels in rows]
    return pack(packed, capacity=capacity, prompt_length=generalist.prompt_length, pad_id=builder.pad_id), builder


def test_lora_and_e_train_the_loss_falls_and_only_they_change(tiny_causal, catalog, tmp_path):
    import torch

    from zp_trainer.loop import Trainer
    from zp_trainer.mixture import TrainingTask
    from zp_trainer.model import Generalist
    from zp_trainer.schema import TrainConfig

    config = TrainConfig.model_validate(lora_data(tiny_causal, **{"optim.steps": 15}))
    tasks = [TrainingTask(catalog.get(n), tuple(catalog.eval_pool(n)[:2])) for n in TRAIN_TASKS]
    generalist = Generalist.load(
        tiny_causal, tasks=TRAIN_TASKS, soft_prompt_length=4, lora=config.lora.model_dump(),
        autocast="bf16", gradient_checkpointing=True,
    )  # fmt: skip
    base_before = {n: p.detach().clone() for n, p in generalist.model.named_parameters() if "lora_" not in n}
    e_before = generalist.table.weight.detach().clone()
    batch, _ = _packed(generalist, _items(catalog))
    with torch.no_grad():
        before = float(generalist.packed_losses(batch)[0])
    result = Trainer(config, generalist, tasks, [], tmp_path, seed=0, training_info={}, progress=False).run()
    with torch.no_grad():
        after = float(generalist.packed_losses(batch)[0])
    assert result.step == 15 and after < 0.7 * before, (before, after)
    assert result.tokens > 0
    # peft froze the base: every base weight is bitwise unchanged; E moved.
    for name, parameter in generalist.model.named_parameters():
        if "lora_" not in name:
            assert torch.equal(parameter, base_before[name]), name
    assert not torch.equal(generalist.table.weight, e_before)
    trainable = {n for n, p in generalist.model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)


def test_packed_loss_equals_the_unpacked_loss(tiny_causal, catalog):
    """Packing changes the layout, not the numbers: no example sees another."""
    import torch

    from zp_trainer.model import Generalist

    generalist = Generalist.load(tiny_causal, tasks=TRAIN_TASKS, soft_prompt_length=4, init_std=5.0)
    items = _items(catalog, per_task=3)
    texts = [e.inputs["X"] for e in catalog.eval_pool("chatterbot_topics_en")[:3]]
    batch, builder = _packed(generalist, items, texts, capacity=400)
    assert batch.input_ids.shape[0] < len(items) + len(texts)  # several examples share a row
    with torch.no_grad():
        sup, mlm = generalist.packed_losses(batch)
        unpacked_sup = generalist.loss(builder.supervised(items))
        unpacked_mlm = generalist.loss(builder.unlabelled(texts, random.Random(0), window=32, noise_density=0.15, mean_span_length=3.0))
    assert float(sup) == pytest.approx(float(unpacked_sup), rel=1e-5)
    assert float(mlm) == pytest.approx(float(unpacked_mlm), rel=1e-5)


def test_pack_bins_fills_bins_within_capacity():
    from zp_evolve.errors import DataError
    from zp_trainer.packing import pack_bins

    lengths = [7, 3, 5, 2, 9, 1, 4]
    bins = pack_bins(lengths, 10)
    assert sorted(i for b in bins for i in b) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in b) <= 10 for b in bins)
    assert len(bins) == 4 and bins == pack_bins(lengths, 10)  # 31 tokens, deterministic
    with pytest.raises(DataError, match="pack_tokens"):
        pack_bins([11], 10)


def test_the_adapter_checkpoint_reloads_merged_with_e_and_scores_as_trained(trained_lora, tiny_causal, catalog):
    import torch

    from zp_evolve.plugins import load_plugins
    from zp_hf.adapters import adapter_base
    from zp_hf.formatting import PredictItem
    from zp_trainer.items import build_item
    from zp_trainer.model import Generalist

    records = [json.loads(line) for line in (trained_lora / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 13)) and all(r["tokens_per_s"] > 0 for r in records)
    summary = json.loads((trained_lora / "summary.json").read_text())
    assert 0 < summary["trainable_parameters"] < summary["parameters"] and summary["peak_rss_gb"] > 0
    checkpoint = trained_lora / "checkpoint"
    names = {p.name for p in checkpoint.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "soft_prompts.safetensors", "training.json"} <= names
    assert "model.safetensors" not in names  # the deltas only, not a copy of the base
    assert adapter_base(checkpoint) == tiny_causal
    training = json.loads((checkpoint / "training.json").read_text())
    assert training["lora"]["r"] == LORA["r"] and training["tasks"] == TRAIN_TASKS

    merged = Generalist.load(str(checkpoint), tasks=TRAIN_TASKS)  # a plain model: base + B @ A merged
    assert not merged.lora and merged.table.tasks == TRAIN_TASKS
    base = Generalist.load(tiny_causal, tasks=TRAIN_TASKS, soft_prompt=False)
    changed = [
        name for (name, a), (_, b) in zip(merged.model.named_parameters(), base.model.named_parameters()) if not torch.equal(a, b)
    ]
    assert any("q_proj" in n for n in changed)  # the deltas are in the weights
    backend = load_plugins().build("backends", {"backend": "hf_causal", "name": str(checkpoint), "max_input_chars": 300})
    assert torch.equal(backend.soft_prompts.weight, merged.table.weight)
    batch, _ = _packed(merged, _items(catalog))
    task = catalog.get("chatterbot_topics_en")
    example = catalog.eval_pool(task.name)[7]
    for template in task.prompts:
        item = build_item(task, example, random.Random(0), template=template, max_input_chars=300)
        score = backend.predict([PredictItem(task, template, example)])[0][example.target]
        assert _answer_logprob(merged, item) == pytest.approx(score, abs=1e-3)


def _answer_logprob(generalist, item) -> float:
    """log P(answer | E, context) from the trainer's packed path, end token excluded."""
    import torch

    from zp_trainer.batches import IGNORE, BatchBuilder
    from zp_trainer.packing import PackItem, pack

    builder = BatchBuilder(generalist.tokenizer, "causal", max_source_tokens=512, max_target_tokens=64)
    ids, labels = builder.supervised_rows([item])[0]
    labels = labels[:-1] + [IGNORE]  # drop the end token: the backends score the answer only
    batch = pack([PackItem(ids, labels, item.task)], capacity=1024, prompt_length=generalist.prompt_length, pad_id=builder.pad_id)
    with torch.no_grad():
        sup, _ = generalist.packed_losses(batch)
    answer_tokens = sum(1 for label in labels if label != IGNORE)
    return -float(sup) * answer_tokens


def test_a_lora_run_resumes_exactly(tiny_causal, data_sources, tmp_path):
    from safetensors.torch import load_file

    from zp_trainer.runs import run_train
    from zp_trainer.schema import TrainConfig

    data = lora_data(tiny_causal, **{"optim.steps": 6, "checkpoint.every": 3, "model.autocast": "none"})
    config = TrainConfig.model_validate(data)
    first = run_train(config, data, tmp_path / "split", resume=False, progress=False, stop_after=4)
    assert first["stopped"] and first["steps"] == 4
    step = tmp_path / "split" / "checkpoints" / "step-000003"
    assert (step / "adapter_model.safetensors").is_file() and (step / "optimizer.safetensors").is_file()
    resumed = run_train(config, data, tmp_path / "split", resume=True, progress=False)
    assert resumed["resumed_from_step"] == 3 and resumed["steps"] == 6
    straight = run_train(config, data, tmp_path / "straight", resume=False, progress=False)
    for name in ("adapter_model.safetensors", "soft_prompts.safetensors"):
        a = load_file(str(tmp_path / "split" / "checkpoint" / name))
        b = load_file(str(tmp_path / "straight" / "checkpoint" / name))
        assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a), name
    assert straight["final_loss"] == resumed["final_loss"]


def test_eval_scores_the_lora_checkpoint_zero_shot(trained_lora, tmp_path):
    from zp_trainer.jobs import EvalJob

    data = {
        "job": "eval",
        "name": "eval-lora",
        "model": {"backend": "hf_causal", "name": str(trained_lora / "checkpoint"), "dtype": "bf16"},
        "tasks": {"names": [UNSEEN_TASK], "max_examples": 8},
        "prompts": "all",
        "soft_prompts": {"mode": "random"},
    }
    summary = EvalJob(progress=False).run(data, tmp_path / "eval")
    row = summary["tasks"][UNSEEN_TASK]
    assert row["seen_type"] is False and row["soft_prompt"] == "random" and len(row["prompt_scores"]) >= 3
    assert 0.0 <= summary["mean"] <= 1.0
    # Trained with V and D, scored with V and D (read from training.json), in bf16 as asked.
    assert placement(summary["backend"]["use_verbalizers"]) == "before" and summary["backend"]["dtype"] == "bf16"


def test_gps_searches_prompts_for_the_lora_checkpoint(trained_lora, tmp_path, cli):
    best = gps_on_checkpoint(cli, tmp_path, "hf_causal", trained_lora / "checkpoint")["best"]
    assert 0.0 <= best["dev"] <= 1.0 and 0.0 <= best["test"] <= 1.0 and best["prompt"]


def test_fitting_options_are_checked_before_any_model_loads(tiny_t5, tiny_causal, data_sources, tmp_path):
    from zp_evolve.errors import ConfigError
    from zp_trainer.jobs import TrainJob

    with pytest.raises(ConfigError, match="raise pack_tokens to at least 516"):
        TrainJob(progress=False).validate(lora_data(tiny_causal, pack_tokens=100))
    with pytest.raises(ConfigError, match="causal LMs only"):
        TrainJob(progress=False).run(lora_data(tiny_t5, **{"model.autocast": "none"}), tmp_path / "t5")


def test_an_adapter_without_its_base_model_says_what_to_fix(trained_lora, tmp_path):
    import shutil

    from zp_evolve.errors import ModelError
    from zp_hf.loading import load_causal_lm

    copy = tmp_path / "orphan"
    shutil.copytree(trained_lora / "checkpoint", copy)
    config = json.loads((copy / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = str(tmp_path / "gone")
    (copy / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="does not exist"):
        load_causal_lm(str(copy))
