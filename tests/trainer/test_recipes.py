"""Recipes and their knobs (issue 23): where V goes, answer-only loss, named presets, E init for
unseen tasks. Training and every scorer must build the same query, so the rendered strings
are pinned here for each placement, and a trained checkpoint carries its placement into
eval and GPS."""

from __future__ import annotations

import json
import random

import pytest

from tests.trainer.conftest import TRAIN_TASKS, UNSEEN_TASK, gps_on_checkpoint, train_data
from zp_evolve.errors import ConfigError, ModelError
from zp_evolve.tasks import Example, Task

TASK = Task(
    name="reviews", type="SENTI", language="en", input_fields=("X",), labels=("neg", "pos"),
    verbalizers=("bad", "good"), metric="accuracy", prompts=("Review: [X]\nThe sentiment is _.", "Is [X] _ ? yes"),
)  # fmt: skip
EXAMPLE = Example(inputs={"X": "Great film."}, target="pos")
#: The causal context (what the model reads before the answer) of each prompt under each placement.
CONTEXTS = {
    "none": ("Review: Great film.\nThe sentiment is", "Is Great film. ___ ? yes\nAnswer:"),
    "before": (
        "Options: bad, good. Review: Great film.\nThe sentiment is",
        "Options: bad, good. Is Great film. ___ ? yes\nAnswer:",
    ),
    "after_input": (
        "Review: Great film.\nOptions: bad, good.\nThe sentiment is",
        "Is Great film.\nOptions: bad, good.\n___ ? yes\nAnswer:",
    ),
    "answer_format": (
        "Review: Great film.\nAnswer with one of: bad, good.\nThe sentiment is",
        "Is Great film. ___ ? yes\nAnswer with one of: bad, good.\nAnswer:",
    ),
}


def _backend(name: str, **options):
    from zp_evolve.plugins import load_plugins

    return load_plugins().build("backends", {"backend": "hf_causal", "name": name, **options})


@pytest.mark.parametrize("where", list(CONTEXTS))
def test_each_placement_renders_the_same_query_in_training_and_in_the_backend(where, tiny_causal):
    from zp_hf.formatting import PredictItem, causal_context
    from zp_trainer.items import build_item

    backend = _backend(tiny_causal, use_verbalizers=where)
    for template, expected in zip(TASK.prompts, CONTEXTS[where]):
        item = build_item(TASK, EXAMPLE, random.Random(0), verbalizers=where, template=template)
        (query,) = backend.queries([PredictItem(TASK, template, EXAMPLE)])
        assert item.prompt == query.prompt
        assert causal_context(item.prompt, "en") == expected


def test_old_switches_mean_before_and_none(tiny_causal):
    from zp_trainer.items import build_item
    from zp_trainer.jobs import TrainJob

    for old, new in ((True, "before"), (False, "none")):
        config = TrainJob(progress=False).validate(train_data(tiny_causal, **{"prompt.verbalizers": old}))
        assert config.prompt.verbalizers is old and config.recipe == "paper"
        rng = random.Random(0)
        assert build_item(TASK, EXAMPLE, rng, verbalizers=old, template=TASK.prompts[0]) == build_item(
            TASK, EXAMPLE, rng, verbalizers=new, template=TASK.prompts[0]
        )


def test_presets_fill_defaults_and_the_users_keys_win(tiny_causal, tiny_t5):
    from zp_trainer.jobs import TrainJob

    data = train_data(tiny_causal)
    del data["recipe"], data["optim"]["lr"]
    config = TrainJob(progress=False).validate(data)  # auto, causal model
    assert config.recipe == "causal_transfer" and config.prompt.verbalizers == "none"
    assert config.prompt.unseen_init == "top1" and config.loss.answer_only and config.optim.lr == 1e-3
    assert config.lora is not None and config.lora.r == 16 and config.lora.dropout == 0.0
    mine = TrainJob(progress=False).validate(
        {**data, "prompt": {"verbalizers": "answer_format"}, "lora": {"r": 4}, "optim": {**data["optim"], "lr": 1e-3}}
    )
    assert (mine.prompt.verbalizers, mine.lora.r, mine.lora.alpha, mine.optim.lr) == ("answer_format", 4, 32.0, 1e-3)
    paper = TrainJob(progress=False).validate({**data, "model": {"name": tiny_t5}})  # auto, seq2seq model
    assert paper.recipe == "paper" and paper.prompt.verbalizers == "before" and paper.lora is None
    assert paper.optim.lr == 3.5e-5 and paper.prompt.unseen_init == "random"


def test_an_unknown_recipe_or_placement_is_located_and_names_the_valid_ones(tiny_causal, tmp_path, cli):
    import yaml

    from zp_trainer.jobs import TrainJob

    data = train_data(tiny_causal, recipe="fastest")
    with pytest.raises(ConfigError) as caught:
        TrainJob(progress=False).validate(data, file="mine.yaml", lines={("recipe",): 4})
    text = str(caught.value)
    assert "mine.yaml:4" in text and "unknown recipe 'fastest'" in text and "auto, paper, causal_transfer" in text
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(train_data(tiny_causal, **{"prompt.verbalizers": "sideways"}), sort_keys=False))
    result = cli("validate", str(path))
    assert result.returncode == 2 and "bad.yaml:" in result.stderr and "after_input, answer_format" in result.stderr


def test_answer_only_off_puts_the_prompt_tokens_in_the_loss(tiny_causal):
    from transformers import AutoTokenizer

    from zp_trainer.batches import IGNORE, BatchBuilder
    from zp_trainer.items import build_item

    tokenizer = AutoTokenizer.from_pretrained(tiny_causal)
    item = build_item(TASK, EXAMPLE, random.Random(0), template=TASK.prompts[0])
    options = {"max_source_tokens": 512, "max_target_tokens": 24}
    ids, only = BatchBuilder(tokenizer, "causal", **options).supervised_rows([item])[0]
    same, full = BatchBuilder(tokenizer, "causal", answer_only=False, **options).supervised_rows([item])[0]
    assert ids == same and full[0] == IGNORE and full[1:] == ids[1:]
    answer = [i for i, label in enumerate(only) if label != IGNORE]
    assert answer and answer[0] > 1 and [full[i] for i in answer] == [only[i] for i in answer]


LORA_LR = {"optim.lr": 1e-2, "optim.soft_prompt_lr": 5e-2}  # LoRA's zero-initialised B needs more on a tiny model
KNOBS = {
    "causal_transfer": {"recipe": "causal_transfer", **LORA_LR},
    "after_input": {"prompt.verbalizers": "after_input"},
    "answer_format": {"prompt.verbalizers": "answer_format"},
    "full_sequence_loss": {"recipe": "causal_transfer", "loss.answer_only": False, **LORA_LR},
}


@pytest.mark.parametrize("knob", list(KNOBS))
def test_each_knob_trains_reloads_and_is_scored_as_it_was_trained(knob, tiny_causal, catalog, data_sources, tmp_path):
    import torch

    from zp_hf.formatting import PredictItem
    from zp_trainer.batches import BatchBuilder
    from zp_trainer.items import build_item
    from zp_trainer.jobs import EvalJob, TrainJob
    from zp_trainer.model import Generalist

    data = train_data(tiny_causal, **KNOBS[knob])
    summary = TrainJob(progress=False).run(data, tmp_path / "train")
    checkpoint = tmp_path / "train" / "checkpoint"
    training = json.loads((checkpoint / "training.json").read_text())
    where = training["prompt"]["verbalizers"]
    assert summary["steps"] == 12 and training["recipe"] == data["recipe"]

    rng = random.Random(5)
    pairs = [(catalog.get(n), e) for n in TRAIN_TASKS for e in catalog.eval_pool(n)[:2]]
    items = [build_item(task, e, rng, verbalizers=where, max_input_chars=300) for task, e in pairs]
    losses = []
    for name in (tiny_causal, str(checkpoint)):  # before training, and the reloaded checkpoint
        model = Generalist.load(name, tasks=TRAIN_TASKS, soft_prompt_length=4, seed=0)
        batch = BatchBuilder(model.tokenizer, "causal", max_source_tokens=512, max_target_tokens=24).supervised(items)
        with torch.no_grad():
            losses.append(float(model.loss(batch)))
    assert losses[1] < 0.97 * losses[0], losses  # examples of the training tasks, not necessarily the ones drawn

    # Scored as GPS scores it (V unset: read from training.json), the query is training's.
    backend = _backend(str(checkpoint), soft_prompts=True, max_input_chars=300)
    task, example = pairs[0]
    for template in task.prompts:
        (query,) = backend.queries([PredictItem(task, template, example)])
        assert query.prompt == build_item(task, example, rng, verbalizers=where, template=template, max_input_chars=300).prompt

    evaluation = {
        "job": "eval", "name": "eval", "model": {"backend": "hf_causal", "name": str(checkpoint)},
        "tasks": {"names": [UNSEEN_TASK], "max_examples": 8}, "prompts": "first",
        "soft_prompts": {"classifier": {"per_task": 8}},
    }  # fmt: skip
    result = EvalJob(progress=False).run(evaluation, tmp_path / "eval")
    assert result["backend"]["use_verbalizers"] == where and 0.0 <= result["mean"] <= 1.0
    expected = training["prompt"]["unseen_init"] if "soft_prompt_fallback" not in result else "random"
    assert result["soft_prompt_mode"] == expected


def test_gps_accepts_a_causal_transfer_checkpoint(tiny_causal, data_sources, tmp_path, cli):
    from zp_trainer.jobs import TrainJob

    TrainJob(progress=False).run(train_data(tiny_causal, recipe="causal_transfer", **{"optim.steps": 4}), tmp_path / "train")
    best = gps_on_checkpoint(cli, tmp_path, "hf_causal", tmp_path / "train" / "checkpoint")["best"]
    assert 0.0 <= best["dev"] <= 1.0 and best["prompt"]


def test_a_defaulted_top1_falls_back_to_random_without_minilm(monkeypatch):
    import zp_hf.loading
    from zp_trainer.evaluate import unseen_mode

    training = {"tasks": list(TRAIN_TASKS), "prompt": {"soft_prompt": True, "unseen_init": "top1"}}

    def missing(name, **_):
        raise ModelError(f"packaged model {name!r} is not in the cache")

    monkeypatch.setattr(zp_hf.loading, "resolve_model_source", missing)
    with pytest.warns(UserWarning, match="zp-evolve models pull minilm"):
        mode, why = unseen_mode(None, training, "minilm")
    assert mode == "random" and "minilm" in why
    assert unseen_mode("top1", training, "minilm") == ("top1", None)  # asked for outright: no substitute
    assert unseen_mode(None, {"prompt": {"unseen_init": "random"}}, "minilm") == ("random", None)
    assert unseen_mode(None, None, "minilm") == ("random", None)  # not a checkpoint: as before


def test_the_recipe_benchmark_plans_and_runs_one_cell_resumably(tiny_causal, data_sources, tmp_path, capsys, monkeypatch):
    import importlib.util
    import sys

    import yaml

    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location("generalist_recipes", REPO / "benchmarks" / "generalist_recipes.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "generalist_recipes", bench)  # its dataclasses look themselves up there
    spec.loader.exec_module(bench)
    assert bench.PLAN[:4] == (("untrained", 0), ("causal_transfer", 0), ("untrained", 1), ("causal_transfer", 1))
    assert len(set(bench.PLAN)) == len(bench.PLAN) and {n for n, _ in bench.PLAN} == {c.name for c in bench.CELLS}
    train, evaluation = tmp_path / "train.yaml", tmp_path / "eval.yaml"
    train.write_text(yaml.safe_dump(train_data(tiny_causal)))
    evaluation.write_text(yaml.safe_dump({
        "job": "eval", "name": "e", "model": {"backend": "hf_causal", "name": tiny_causal, "max_input_chars": 300},
        "tasks": {"names": [UNSEEN_TASK], "max_examples": 8}, "prompts": "first", "soft_prompts": {"mode": "random"},
    }))  # fmt: skip
    common = ["--runs", str(tmp_path / "runs"), "--records", str(tmp_path / "cells")]
    common += ["--train-base", str(train), "--eval-base", str(evaluation)]
    config = bench.cell_config(bench.cell("causal_transfer"), 0, steps=2, runs=tmp_path, train_base=train, eval_base=evaluation)
    assert config["recipe"] == "causal_transfer" and "verbalizers" not in config["prompt"] and "lora" not in config
    assert "mode" not in config["eval"]["soft_prompts"]  # the checkpoint's recipe picks E for unseen tasks
    bench.main(["--cell", "no_v", "--steps", "2", *common])
    record = json.loads((tmp_path / "cells" / "no_v__seed-0.json").read_text())
    assert record["steps"] == 2 and 0.0 <= record["heldout_mean"] <= 100.0 and record["train_cpu_seconds"] > 0
    assert UNSEEN_TASK in record["tasks"] and record["recipe"] == "paper"
    capsys.readouterr()
    bench.main(["--plan", *common])
    plan = capsys.readouterr().out
    assert "no_v__seed-0" in plan and "done:" in plan and plan.count("not run") == len(bench.PLAN) - 1
    # Figure 5's equal-examples cells train the full split's steps in proportion to their tasks.
    (tmp_path / "cells" / "causal_transfer__seed-1.json").write_text(json.dumps({"train_tasks": 160}))
    args = bench._arguments(["--plan", "--steps", "40", *common])
    assert bench.cell_steps(bench.cell("transfer_tasks_8_equal_examples"), 1, args) == 2
    assert bench.cell_steps(bench.cell("transfer_tasks_64_equal_examples"), 1, args) == 16
    assert bench.cell_steps(bench.cell("transfer_tasks_64"), 1, args) == 40
    # GPS cells search with experiments/generalist_gps.yaml's base, scored by that seed's checkpoint.
    gps = bench.cell_config(bench.cell("gps_causal_transfer"), 1, steps=2, runs=tmp_path, train_base=train, eval_base=evaluation)
    assert gps["model"]["name"] == str(tmp_path / "causal_transfer__seed-1" / "train" / "checkpoint") and gps["seed"] == 1
    assert gps["model"]["soft_prompts"] is True and len(gps["tasks"]["names"]) >= 8 and "grid" not in gps
    assert bench.cell_config(bench.cell("gps_untrained"), 0, steps=2, runs=tmp_path, train_base=train, eval_base=evaluation)["model"]["name"] == "smollm2-135m-instruct"


def test_full_sequence_loss_is_the_same_packed_or_padded(tiny_causal, catalog):
    import torch

    from zp_trainer.batches import BatchBuilder
    from zp_trainer.items import build_item
    from zp_trainer.model import Generalist
    from zp_trainer.packing import PackItem, pack

    generalist = Generalist.load(tiny_causal, tasks=TRAIN_TASKS, soft_prompt_length=4, init_std=5.0)
    rng = random.Random(5)
    items = [build_item(catalog.get(n), e, rng, max_input_chars=300) for n in TRAIN_TASKS for e in catalog.eval_pool(n)[:3]]
    builder = BatchBuilder(generalist.tokenizer, "causal", max_source_tokens=512, max_target_tokens=24, answer_only=False)
    rows = [PackItem(ids, labels, item.task) for item, (ids, labels) in zip(items, builder.supervised_rows(items))]
    batch = pack(rows, capacity=400, prompt_length=generalist.prompt_length, pad_id=builder.pad_id)
    assert batch.input_ids.shape[0] < len(items)  # rows are shared: a context's first token must not be a target
    with torch.no_grad():
        packed, _ = generalist.packed_losses(batch)
        padded = generalist.loss(builder.supervised(items))
    assert float(packed) == pytest.approx(float(padded), rel=1e-5)


def test_backends_take_v_and_d_from_a_checkpoints_training_json_old_or_new(tmp_path):
    from zp_hf.placement import trained_prompt

    old, new, plain = tmp_path / "old", tmp_path / "new", tmp_path / "plain"
    for folder in (old, new, plain):
        folder.mkdir()
    (old / "training.json").write_text(json.dumps({"prompt": {"verbalizers": False, "description": False}}))
    (new / "training.json").write_text(json.dumps({"recipe": "causal_transfer", "prompt": {"verbalizers": "answer_format"}}))
    assert trained_prompt(str(old), None, None) == (False, False)
    assert trained_prompt(str(new), None, None) == ("answer_format", True)
    assert trained_prompt(str(new), "before", False) == ("before", False)  # the entry's own settings win
    assert trained_prompt(str(plain), None, None) == (True, True)  # not a checkpoint: V before D, as always
    with pytest.raises(ConfigError, match="after_input"):
        trained_prompt(str(plain), "sideways", None)


def test_answer_only_off_is_refused_for_seq2seq(tiny_t5, data_sources, tmp_path):
    from zp_trainer.jobs import TrainJob

    with pytest.raises(ConfigError, match="answer_only"):
        TrainJob(progress=False).run(train_data(tiny_t5, **{"loss.answer_only": False}), tmp_path / "run")


def test_a_blank_on_the_inputs_line_is_split_after_the_input_and_its_closing_quote():
    from zp_hf.formatting import PredictItem, causal_context, make_query

    task = Task(
        name="pairs", type="PARA", language="en", input_fields=("X1", "X2"), labels=("no", "yes"),
        verbalizers=("different", "same"), metric="accuracy",
        prompts=('Product 1: "[X1]" Product 2: "[X2]" These are _ products.',),
    )  # fmt: skip
    item = PredictItem(task, task.prompts[0], Example(inputs={"X1": "a", "X2": "b"}, target="no"))
    context = {w: causal_context(make_query(item, use_verbalizers=w).prompt, "en") for w in ("after_input", "answer_format")}
    assert context["after_input"] == 'Product 1: "a" Product 2: "b"\nOptions: different, same.\nThese are ___ products.\nAnswer:'
    assert context["answer_format"] == (
        'Product 1: "a" Product 2: "b" These are ___ products.\nAnswer with one of: different, same.\nAnswer:'
    )
    prefix = Task(
        name="reviews2", type="SENTI", language="en", input_fields=("X",), labels=("neg", "pos"),
        verbalizers=("bad", "good"), metric="accuracy", prompts=("Movie review: [X] Sentiment: _",),
    )  # fmt: skip
    query = make_query(PredictItem(prefix, prefix.prompts[0], EXAMPLE), use_verbalizers="answer_format")
    assert causal_context(query.prompt, "en") == "Movie review: Great film.\nAnswer with one of: bad, good.\nSentiment:"


@pytest.mark.parametrize("where", ["after_input", "answer_format", "none"])
def test_the_backend_scores_what_the_trainer_learns_under_each_placement(where, tiny_causal, catalog, tmp_path):
    """The fast scorer (shared prefixes, one forward per example) on the moved V: still the trainer's log-likelihood."""
    from tests.trainer.test_training import _answer_logprob
    from zp_hf.formatting import PredictItem
    from zp_trainer.items import build_item
    from zp_trainer.model import Generalist

    folder = str(Generalist.load(tiny_causal, tasks=TRAIN_TASKS, soft_prompt_length=4, init_std=5.0).save(tmp_path / "c"))
    generalist = Generalist.load(folder, tasks=TRAIN_TASKS)
    backend = _backend(folder, max_input_chars=300, use_verbalizers=where)
    for name in ("chatterbot_topics_en", "thucnews"):
        task = catalog.get(name)
        for template in task.prompts:
            examples = catalog.eval_pool(name)[6:8]
            scores = backend.predict([PredictItem(task, template, e) for e in examples])
            for example, score in zip(examples, scores):
                item = build_item(task, example, random.Random(0), verbalizers=where, template=template, max_input_chars=300)
                assert _answer_logprob(generalist, item) == pytest.approx(score[example.target], abs=1e-3)


def test_generalist_record_from_recipe_cells_keeps_the_old_keys_and_says_which_goals_are_missed(tmp_path, monkeypatch):
    """benchmarks/generalist.py --from-recipes: generalist.json's keys from the cell records, the
    paired difference against the untrained model, Figure 5's two curves and each goal's shortfall."""
    import importlib.util
    import sys

    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location("generalist_bench", REPO / "benchmarks" / "generalist.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "generalist_bench", bench)
    spec.loader.exec_module(bench)
    cells = tmp_path / "cells"
    cells.mkdir()

    def write(cell, seed, scores, **extra):
        record = {"cell": cell, "seed": seed, "tasks": scores, "heldout_mean": sum(scores.values()) / len(scores),
                  "seen_mean": scores["a"], "unseen_mean": scores["b"], **extra}  # fmt: skip
        (cells / f"{cell}__seed-{seed}.json").write_text(json.dumps(record))

    trained = {"steps": 40, "train_tasks": 154, "examples_per_task": 8.3, "train_cpu_minutes": 4.5, "peak_rss_gb": 3.5}
    for seed in (0, 1):
        write("untrained", seed, {"a": 40.0, "b": 30.0})
        write("causal_transfer", seed, {"a": 42.0, "b": 31.0 + seed}, **trained)
    write("transfer_tasks_8_equal_examples", 0, {"a": 39.0, "b": 30.0}, **{**trained, "train_tasks": 8, "steps": 2})
    old_keys = json.loads((REPO / "benchmarks" / "results" / "generalist.json").read_text()).keys()
    record, _ = bench.gather_recipes(cells)
    assert set(old_keys) <= set(record)
    assert record["trained_minus_base"] == 1.75 and record["seeds"] == [0, 1] and record["train_tasks"] == 154
    assert record["unseen_types_minus_base"] == 1.5 and record["base_test_mean"] == 35.0
    assert [p["tasks"] for p in record["scaling_equal_examples"]] == [8, 154]
    goals = record["goals"]
    assert goals["trained_minus_base"] == {"goal": 3.0, "measured": 1.75, "met": False, "short_by": 1.25}
    assert goals["scaling_rise"]["measured"] == 2.0 and goals["scaling_rise"]["met"] is True
    assert goals["knob_that_moved_it_most"]["cell"] == "transfer_tasks_8_equal_examples"
    assert goals["train_minutes"]["met"] and record["gps_trained_minus_gps_base"] is None

    # --trained: another cell is the generalist; Figure 5 still ends at causal_transfer's 40 steps
    for seed in (0, 1):
        write("transfer_steps_160", seed, {"a": 45.0, "b": 34.0}, **{**trained, "steps": 160, "train_cpu_minutes": 20.5})
    longer, _ = bench.gather_recipes(cells, "transfer_steps_160")
    assert longer["cell"] == "transfer_steps_160" and longer["steps"] == 160 and longer["trained_minus_base"] == 4.5
    assert longer["goals"]["trained_minus_base"]["met"] and longer["goals"]["train_minutes"]["measured"] == 20.5
    assert longer["scaling_equal_examples"] == record["scaling_equal_examples"]
    assert "causal_transfer" in longer["knobs_minus_base"]

    # GPS: the headline comparison is the one scored by the reported generalist
    def write_gps(cell, seed, scores):
        (cells / f"{cell}__seed-{seed}.json").write_text(json.dumps(
            {"cell": cell, "seed": seed, "tasks": scores, "manual_best_on_dev": {"t1": 50.0, "t2": 50.0}, "heldout_mean": 0}))

    for seed in (0, 1):
        write_gps("gps_untrained", seed, {"t1": 60.0, "t2": 50.0})
        write_gps("gps_causal_transfer", seed, {"t1": 58.0, "t2": 50.0})
        write_gps("gps_transfer_steps_160", seed, {"t1": 64.0, "t2": 52.0})
    longer, _ = bench.gather_recipes(cells, "transfer_steps_160")
    assert longer["gps"]["generalist"] == "gps_transfer_steps_160" and longer["gps"]["minus"] == 3.0
    assert longer["goals"]["gps_trained_beats_gps_base"]["met"] and longer["gps"]["seeds"] == [0, 1]
    assert longer["gps_by_generalist"]["gps_causal_transfer"]["minus"] == -1.0
    default, _ = bench.gather_recipes(cells)
    assert default["gps"]["generalist"] == "gps_causal_transfer" and not default["goals"]["gps_trained_beats_gps_base"]["met"]
