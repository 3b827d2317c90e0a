"""Training tiny models on real tasks: the loss falls, checkpoints reload and resume exactly,
and the hybrid prompt's E and V switches change the model input as specified."""

from __future__ import annotations

import json
import random

import pytest

from tests.trainer.conftest import TRAIN_TASKS, train_data


def _records(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _mean(values):
    return sum(values) / len(values)


def test_t5_loss_goes_down_and_the_run_is_complete(trained_t5):
    records = _records(trained_t5)
    assert [r["step"] for r in records] == list(range(1, 13))
    sup = [r["sup"] for r in records]
    assert _mean(sup[-4:]) < 0.8 * _mean(sup[:4]), sup
    assert all(r["mlm"] > 0 for r in records)  # the auxiliary span-corruption loss ran
    summary = json.loads((trained_t5 / "summary.json").read_text())
    assert summary["job"] == "train" and summary["steps"] == 12 and summary["tasks"] == TRAIN_TASKS
    assert summary["types"] == ["NEWS", "SUMM", "TOPIC"]
    assert summary["examples_per_s"] > 0 and summary["final_loss"]["sup"] == pytest.approx(sup[-1])
    checkpoint = trained_t5 / "checkpoint"
    for name in ("model.safetensors", "soft_prompts.safetensors", "soft_prompts.json", "tokenizer_config.json", "training.json"):
        assert (checkpoint / name).is_file(), name
    assert (trained_t5 / "loss_curve.png").stat().st_size > 5000
    training = json.loads((checkpoint / "training.json").read_text())
    assert training["tasks"] == TRAIN_TASKS and training["config"]["optim"]["lr"] == 3e-3
    data = json.loads((trained_t5 / "data.json").read_text())
    assert {t["name"]: t["examples"] for t in data["tasks"]} == {"chatterbot_topics_en": 34, "thucnews": 20, "abstract2title": 16}


def test_causal_loss_goes_down(tiny_causal, catalog, tmp_path):
    import torch

    from zp_trainer.loop import Trainer
    from zp_trainer.mixture import TrainingTask
    from zp_trainer.model import Generalist
    from zp_trainer.schema import TrainConfig

    config = TrainConfig.model_validate(train_data(tiny_causal, **{"optim.steps": 10}))
    tasks = [TrainingTask(catalog.get(n), tuple(catalog.eval_pool(n)[:2])) for n in TRAIN_TASKS]
    generalist = Generalist.load(tiny_causal, tasks=TRAIN_TASKS, soft_prompt_length=4)
    assert generalist.kind == "causal"
    batch = _fixed_batch(generalist, catalog)  # the training examples, under one sampled prompt each
    with torch.no_grad():
        before = float(generalist.loss(batch))
    result = Trainer(config, generalist, tasks, [], tmp_path, seed=0, training_info={}, progress=False).run()
    with torch.no_grad():
        after = float(generalist.loss(batch))
    assert result.step == 10 and after < 0.7 * before, (before, after)


def _fixed_batch(generalist, catalog):
    from zp_trainer.batches import BatchBuilder
    from zp_trainer.items import build_item

    rng = random.Random(5)
    items = []
    for name in TRAIN_TASKS:
        task = catalog.get(name)
        for example in catalog.eval_pool(name)[:2]:
            items.append(build_item(task, example, rng, max_input_chars=300))
    builder = BatchBuilder(generalist.tokenizer, generalist.kind, max_source_tokens=512, max_target_tokens=24)
    return builder.supervised(items)


def test_checkpoint_reloads_with_the_same_outputs(tiny_t5, catalog, tmp_path):
    import torch

    from zp_trainer.loop import Trainer
    from zp_trainer.mixture import TrainingTask
    from zp_trainer.model import Generalist
    from zp_trainer.schema import TrainConfig

    config = TrainConfig.model_validate(train_data(tiny_t5, **{"optim.steps": 4}))
    tasks = [TrainingTask(catalog.get(n), tuple(catalog.eval_pool(n)[:8])) for n in TRAIN_TASKS]
    generalist = Generalist.load(tiny_t5, tasks=TRAIN_TASKS, soft_prompt_length=4)
    Trainer(config, generalist, tasks, [], tmp_path, seed=0, training_info={}, progress=False).run()
    generalist.save(tmp_path / "ckpt")
    reloaded = Generalist.load(str(tmp_path / "ckpt"), tasks=TRAIN_TASKS)
    assert torch.equal(reloaded.table.weight, generalist.table.weight)
    batch = _fixed_batch(generalist, catalog)
    with torch.no_grad():
        assert float(reloaded.loss(batch)) == float(generalist.loss(batch))
    # The backends load it with its soft prompts, and score the same way twice.
    from zp_evolve.plugins import load_plugins
    from zp_hf.formatting import PredictItem

    backend = load_plugins().build("backends", {"backend": "hf_seq2seq", "name": str(tmp_path / "ckpt")})
    assert torch.equal(backend.soft_prompts.weight, generalist.table.weight)
    task = catalog.get("chatterbot_topics_en")
    items = [PredictItem(task, task.prompts[0], e) for e in catalog.eval_pool(task.name)[:4]]
    first = backend.predict(items)
    assert first == backend.predict(items) and set(first[0]) == set(task.labels)


def test_resume_continues_the_step_count_and_matches_an_uninterrupted_run(tiny_t5, data_sources, tmp_path):
    from safetensors.torch import load_file

    from zp_trainer.runs import run_train
    from zp_trainer.schema import TrainConfig

    data = train_data(tiny_t5, **{"optim.steps": 8, "checkpoint.every": 3})
    config = TrainConfig.model_validate(data)
    first = run_train(config, data, tmp_path / "split", resume=False, progress=False, stop_after=5)
    assert first["stopped"] and first["steps"] == 5
    assert sorted(p.name for p in (tmp_path / "split" / "checkpoints").iterdir()) == ["step-000003"]
    resumed = run_train(config, data, tmp_path / "split", resume=True, progress=False)
    assert resumed["resumed_from_step"] == 3 and resumed["steps"] == 8
    assert [r["step"] for r in _records(tmp_path / "split")] == list(range(1, 9))
    straight = run_train(config, data, tmp_path / "straight", resume=False, progress=False)
    assert straight["steps"] == 8
    a = load_file(str(tmp_path / "split" / "checkpoint" / "model.safetensors"))
    b = load_file(str(tmp_path / "straight" / "checkpoint" / "model.safetensors"))
    assert all((a[k] == b[k]).all() for k in a)
    assert _records(tmp_path / "split")[-1]["loss"] == _records(tmp_path / "straight")[-1]["loss"]
    # A finished run resumes to its summary without training again.
    assert run_train(config, data, tmp_path / "straight", resume=True, progress=False) == straight


def _captured_embeds(generalist, batch):
    """What the transformer receives as inputs_embeds (a forward pre-hook on the model)."""
    import torch

    seen = {}

    def hook(module, args, kwargs):
        seen["embeds"] = kwargs["inputs_embeds"].detach().clone()
        seen["mask"] = kwargs["attention_mask"].detach().clone()

    handle = generalist.model.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        with torch.no_grad():
            generalist.loss(batch)
    finally:
        handle.remove()
    return seen["embeds"], seen["mask"]


@pytest.mark.parametrize("kind", ["t5", "causal"])
def test_soft_prompt_e_is_prepended_and_removing_it_leaves_the_plain_embeddings(kind, tiny_t5, tiny_causal, catalog):
    import torch

    from zp_trainer.model import Generalist

    folder = tiny_t5 if kind == "t5" else tiny_causal
    with_e = Generalist.load(folder, tasks=TRAIN_TASKS, soft_prompt_length=4)
    without_e = Generalist.load(folder, tasks=TRAIN_TASKS, soft_prompt=False)
    assert without_e.table is None
    batch = _fixed_batch(with_e, catalog)
    plain = with_e.model.get_input_embeddings()(batch.input_ids).detach()
    embeds, mask = _captured_embeds(with_e, batch)
    assert embeds.shape[1] == batch.input_ids.shape[1] + 4
    for row, task in enumerate(batch.tasks):
        assert torch.equal(embeds[row, :4], with_e.table.vectors(task).detach())
    assert torch.equal(embeds[:, 4:], plain) and torch.equal(mask[:, 4:], batch.attention_mask)
    assert bool(mask[:, :4].all())
    bare, bare_mask = _captured_embeds(without_e, batch)
    assert torch.equal(bare, plain) and torch.equal(bare_mask, batch.attention_mask)


def test_minus_e_checkpoint_has_no_soft_prompts_and_minus_v_is_recorded(tiny_t5, data_sources, tmp_path):
    from zp_trainer.jobs import TrainJob

    data = train_data(tiny_t5, **{"optim.steps": 2, "prompt.soft_prompt": False, "prompt.verbalizers": False})
    summary = TrainJob(progress=False).run(data, tmp_path / "run")
    checkpoint = tmp_path / "run" / "checkpoint"
    assert not (checkpoint / "soft_prompts.safetensors").exists()
    training = json.loads((checkpoint / "training.json").read_text())
    assert training["prompt"]["soft_prompt"] is False and training["prompt"]["verbalizers"] is False
    assert summary["steps"] == 2


def _answer_logprob(generalist, item):
    """log P(answer | prompt) as the trainer computes it: its loss tokens, less the end token."""
    import torch

    from zp_trainer.batches import IGNORE, BatchBuilder

    batch = BatchBuilder(generalist.tokenizer, generalist.kind, max_source_tokens=512, max_target_tokens=64).supervised([item])
    captured = {}

    def keep_logits(module, args, output):
        captured["logits"] = output.logits

    handle = generalist.model.register_forward_hook(keep_logits)
    try:
        with torch.no_grad():
            generalist.loss(batch)
    finally:
        handle.remove()
    logp = torch.log_softmax(captured["logits"][0].float(), dim=-1)
    labels = batch.labels[0]
    answer = [i for i in range(len(labels)) if labels[i] != IGNORE][:-1]  # drop the end token
    if generalist.kind == "seq2seq":
        return sum(float(logp[i, labels[i]]) for i in answer[1:])  # the sentinel is given, not scored
    shift = logp.shape[0] - len(labels)  # the soft prompt's positions come first
    return sum(float(logp[i + shift - 1, labels[i]]) for i in answer)


@pytest.mark.parametrize("kind", ["t5", "causal"])
def test_the_trainer_learns_exactly_what_the_backend_scores(kind, trained_t5, tiny_causal, catalog, tmp_path):
    """Same text, same E, same tokens: the backend's score of the gold answer is the trainer's log-likelihood."""
    from zp_evolve.plugins import load_plugins
    from zp_hf.formatting import PredictItem
    from zp_trainer.items import build_item
    from zp_trainer.model import Generalist

    if kind == "t5":
        folder = str(trained_t5 / "checkpoint")
    else:
        folder = str(Generalist.load(tiny_causal, tasks=TRAIN_TASKS, soft_prompt_length=4, init_std=5.0).save(tmp_path / "c"))
    generalist = Generalist.load(folder, tasks=TRAIN_TASKS)
    backend = load_plugins().build(
        "backends", {"backend": "hf_seq2seq" if kind == "t5" else "hf_causal", "name": folder, "max_input_chars": 300}
    )
    checked = 0
    for name in ("chatterbot_topics_en", "thucnews"):
        task = catalog.get(name)
        for template in task.prompts:  # cloze and prefix prompts
            example = catalog.eval_pool(name)[7]
            item = build_item(task, example, random.Random(0), template=template, max_input_chars=300)
            scores = backend.predict([PredictItem(task, template, example)])[0]
            assert _answer_logprob(generalist, item) == pytest.approx(scores[example.target], abs=1e-3)
            checked += 1
    assert checked >= 6
