"""The recipe comparison of issue 23: which training recipe makes SmolLM2 transfer to held-out tasks.

Each cell is one knob setting (where V goes, E on or off and its init for unseen tasks,
answer-only loss, learning rate and LoRA rank, steps against examples per task, packing)
on top of ``experiments/train/smollm2_generalist.yaml`` (pinned to ``recipe: paper``: the
measured "full recipe"), every cell at the same budget: ``--steps`` optimiser steps of the
file's batch, so the same number of training examples (the packing cell does the same work
faster; its CPU minutes say by how much). Each is a ``train_eval`` run (``eval`` for the
untrained model and for init cells, which score another cell's checkpoint) in its own
resumable run folder, and writes one small JSON record when it finishes::

    python benchmarks/generalist_recipes.py --plan          # the cells in priority order, done or not
    python benchmarks/generalist_recipes.py --next 1        # run (or resume) the next unfinished cell
    python benchmarks/generalist_recipes.py --cell no_v     # one cell by name (seed 0; --seed 1)

Run folders: ``runs/generalist_recipes/CELL__seed-S`` (``--runs``); records:
``benchmarks/results/generalist_recipes/cells/CELL__seed-S.json`` (``--records``), with the
held-out All / Seen / Unseen means (x100), per-task scores, training CPU minutes and peak
RSS. A killed cell resumes from its newest step checkpoint on the next call.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TRAIN_BASE = REPO / "experiments" / "train" / "smollm2_generalist.yaml"
EVAL_BASE = REPO / "experiments" / "train" / "eval_smollm2_generalist.yaml"
#: What the issue's 40-step ablations ran (about 10 CPU minutes a cell on one core).
DEFAULT_STEPS = 40
#: The file's keys a preset must be free to fill when a cell asks for a recipe.
RECIPE_KEYS = ("prompt.verbalizers", "prompt.soft_prompt", "prompt.unseen_init", "optim.lr", "lora")


@dataclass(frozen=True)
class Cell:
    """One comparison cell: overrides (dotted keys) of the base config, or an eval-only cell.

    ``untrained`` scores the base model; ``eval_of`` scores that cell's checkpoint (same seed).
    """

    name: str
    what: str
    overrides: dict[str, Any] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    untrained: bool = False
    eval_of: str | None = None
    #: Figure 5's equal-examples curve: train ``steps * tasks.limit / N`` steps, where N is the
    #: number of training tasks of this cell's full-split run, so each task sees as many examples.
    equal_examples_of: str | None = None


def _transfer(name: str, what: str, overrides: dict[str, Any] | None = None) -> Cell:
    """A cell on ``recipe: causal_transfer`` (the file's recipe keys dropped so the preset fills them)."""
    return Cell(name, what, {"recipe": "causal_transfer", **(overrides or {})}, RECIPE_KEYS)


def _scaling(tasks: int, equal_examples: bool) -> Cell:
    """A Figure 5 cell: causal_transfer on a seeded choice of ``tasks`` training tasks."""
    if equal_examples:
        what = f"causal_transfer on {tasks} training tasks, as many examples per task as the full split (fewer steps)"
        return _transfer(f"transfer_tasks_{tasks}_equal_examples", what, {"tasks.limit": tasks})
    return _transfer(f"transfer_tasks_{tasks}", f"causal_transfer on {tasks} training tasks, same steps", {"tasks.limit": tasks})


_V = "prompt.verbalizers"
SCALING_TASKS = (8, 32, 64)
CELLS: tuple[Cell, ...] = (
    Cell("untrained", "SmolLM2-135M-Instruct zero-shot, no training", untrained=True),
    Cell("paper", "the full recipe: E + V before D + MLM, random E for unseen tasks, lr 1e-3, LoRA r16"),
    Cell("no_v", "paper without V", {_V: "none"}),
    Cell("answer_format_v", "paper with V as the last line: 'Answer with one of: ...'", {_V: "answer_format"}),
    _transfer("causal_transfer", "recipe causal_transfer: no V, top-1 E init, answer-only loss, LoRA r16, lr 1e-3"),
    Cell("after_input_v", "paper with V on its own line after the input", {_V: "after_input"}),
    Cell("transfer_random_init", "causal_transfer's checkpoint, random E for unseen tasks",
         {"soft_prompts.mode": "random"}, eval_of="causal_transfer"),
    _transfer("transfer_no_e", "causal_transfer without E", {"prompt.soft_prompt": False}),
    _transfer("transfer_full_loss", "causal_transfer with the loss on every prompt token too", {"loss.answer_only": False}),
    _transfer("transfer_lr_2e-4", "causal_transfer at lr 2e-4", {"optim.lr": 2e-4}),
    _transfer("transfer_lr_5e-5", "causal_transfer at lr 5e-5", {"optim.lr": 5e-5}),
    _transfer("transfer_r4", "causal_transfer with LoRA r4 (alpha 8)", {"lora": {"r": 4, "alpha": 8.0}}),
    _transfer("transfer_r64", "causal_transfer with LoRA r64 (alpha 128)", {"lora": {"r": 64, "alpha": 128.0}}),
    _transfer("transfer_examples_32", "causal_transfer, 32 examples per class (64 per generation task): more repeats",
              {"tasks.per_class": 32, "tasks.per_generation_task": 64}),
    _transfer("transfer_no_mlm", "causal_transfer without the auxiliary LM loss", {"loss.mlm": False}),
    _transfer("transfer_no_packing", "causal_transfer, examples padded instead of packed", {"pack_tokens": None}),
    *(_scaling(n, equal_examples=False) for n in SCALING_TASKS),
    *(replace(_scaling(n, equal_examples=True), equal_examples_of="causal_transfer") for n in SCALING_TASKS),
)
#: Priority order: (cell, seed). The causal default (causal_transfer) against the untrained
#: model on both seeds first (issue 23's goal), then the knobs that explain it on seed 0, then
#: the second seed of those knobs.
FIRST = ("untrained", "causal_transfer")
KNOBS = ("no_v", "paper", "transfer_random_init", "transfer_no_e", "answer_format_v")
FIGURE_5 = tuple(f"transfer_tasks_{n}_equal_examples" for n in SCALING_TASKS) + tuple(f"transfer_tasks_{n}" for n in SCALING_TASKS)
PLAN: tuple[tuple[str, int], ...] = (
    *((name, seed) for seed in (0, 1) for name in FIRST),
    *((name, 0) for name in KNOBS[:4] + FIGURE_5 + KNOBS[4:]),
    *((cell.name, 0) for cell in CELLS if cell.name not in FIRST + KNOBS + FIGURE_5),
    *((name, 1) for name in KNOBS),
)


def cell(name: str) -> Cell:
    for entry in CELLS:
        if entry.name == name:
            return entry
    sys.exit(f"unknown cell {name!r}; the cells are: {', '.join(c.name for c in CELLS)}")


def cell_id(name: str, seed: int) -> str:
    return f"{name}__seed-{seed}"


def _read(path: Path) -> dict[str, Any]:
    from zp_evolve.config import read_yaml

    data, _ = read_yaml(path)
    return dict(data)


def _drop(data: dict[str, Any], key: str) -> None:
    *parents, last = key.split(".")
    for part in parents:
        data = data.get(part) or {}
    if isinstance(data, dict):
        data.pop(last, None)


def _eval_section(eval_base: dict[str, Any]) -> dict[str, Any]:
    """The eval file's body for a train_eval cell: V, D and E follow the checkpoint, the unseen-task
    E its recipe (``prompt.unseen_init``)."""
    section = {k: v for k, v in eval_base.items() if k not in ("job", "name", "seed", "output_dir", "model", "description")}
    model = eval_base.get("model") or {}
    section["backend_options"] = {k: v for k, v in model.items() if k not in ("backend", "name", "max_input_chars")}
    section.setdefault("soft_prompts", {})
    section["soft_prompts"] = {k: v for k, v in section["soft_prompts"].items() if k != "mode"}
    return section


def cell_config(entry: Cell, seed: int, *, steps: int, runs: Path, train_base: Path, eval_base: Path) -> dict[str, Any]:
    """The full run config of one cell."""
    from zp_evolve.keypaths import merged

    evaluation = _read(eval_base)
    name = f"recipes_{entry.name}"
    if entry.untrained or entry.eval_of:
        data = {**evaluation, "name": name, "seed": seed}
        data.setdefault("soft_prompts", {})
        if entry.eval_of:
            data["model"] = {**data["model"], "name": str(runs / cell_id(entry.eval_of, seed) / "train" / "checkpoint")}
            data["model"].pop("max_input_chars", None)  # the checkpoint's own cut
        return merged(data, entry.overrides)
    data = _read(train_base)
    for key in entry.drop:
        _drop(data, key)
    data.update({"job": "train_eval", "name": name, "seed": seed, "eval": _eval_section(evaluation)})
    data = merged(data, {"recipe": data.get("recipe", "paper"), "optim.steps": steps, **entry.overrides})
    warmup = (data.get("optim") or {}).get("warmup_steps", 0)
    data["optim"]["warmup_steps"] = min(warmup, max(steps // 10, 1))
    every = max(steps // 4, 1)
    data["log_every"] = min(data.get("log_every", 5), steps)
    data["checkpoint"] = {"every": every, "keep": 1}
    return data


def record_path(records: Path, name: str, seed: int) -> Path:
    return records / f"{cell_id(name, seed)}.json"


def _train_cpu_seconds(train_dir: Path) -> float | None:
    """CPU seconds of the whole training, summed over the logged steps (resumes count once)."""
    metrics = train_dir / "metrics.jsonl"
    if not metrics.is_file():
        return None
    total, last = 0.0, 0
    for line in metrics.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if "cpu_s_per_step" in row and row["step"] > last:
            total += row["cpu_s_per_step"] * (row["step"] - last)
            last = row["step"]
    return total


def make_record(entry: Cell, seed: int, run_dir: Path, steps: int, config: dict[str, Any]) -> dict[str, Any]:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    points = lambda value: None if value is None else round(100 * value, 2)  # noqa: E731
    train = run_dir / "train"
    train_summary = json.loads((train / "summary.json").read_text(encoding="utf-8")) if (train / "summary.json").is_file() else {}
    cpu = _train_cpu_seconds(train)
    data = json.loads((train / "data.json").read_text(encoding="utf-8")) if (train / "data.json").is_file() else {}
    optim = config.get("optim") or {}
    trained = not (entry.untrained or entry.eval_of)
    tasks = len(data.get("tasks", [])) or None
    examples = steps * optim.get("batch_size", 1) * optim.get("grad_accum", 1) if trained else None
    return {
        "cell": entry.name,
        "seed": seed,
        "what": entry.what,
        "overrides": entry.overrides,
        "steps": steps if trained else None,
        "train_tasks": tasks,
        "examples_per_task": round(examples / tasks, 1) if examples and tasks else None,
        "recipe": config.get("recipe"),
        "heldout_mean": points(summary.get("mean")),
        "seen_mean": points(summary.get("seen_mean")),
        "unseen_mean": points(summary.get("unseen_mean")),
        "tasks": {name: points(task["score"]) for name, task in summary.get("tasks", {}).items()},
        "soft_prompt_mode": summary.get("soft_prompt_mode"),
        "train_cpu_seconds": cpu,
        "train_cpu_minutes": None if cpu is None else round(cpu / 60, 2),
        "peak_rss_gb": train_summary.get("peak_rss_gb"),
        "run_dir": str(run_dir),
    }


def cell_steps(entry: Cell, seed: int, args: argparse.Namespace) -> int:
    """``--steps``, or for an equal-examples cell the share of it its task count gets (its full-split
    cell is run first when it has no record: that run says how many training tasks there are)."""
    if not entry.equal_examples_of:
        return args.steps
    full = record_path(args.records, entry.equal_examples_of, seed)
    if not full.is_file():
        run_cell(entry.equal_examples_of, seed, args)
    full_tasks = json.loads(full.read_text(encoding="utf-8"))["train_tasks"]
    return max(1, round(args.steps * entry.overrides["tasks.limit"] / full_tasks))


def run_cell(name: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """Run (or resume) one cell and write its record; a finished cell is only re-recorded."""
    import yaml

    entry = cell(name)
    if entry.eval_of and not record_path(args.records, entry.eval_of, seed).is_file():
        run_cell(entry.eval_of, seed, args)
    steps = cell_steps(entry, seed, args)
    run_dir = args.runs / cell_id(name, seed)
    config = cell_config(entry, seed, steps=steps, runs=args.runs, train_base=args.train_base, eval_base=args.eval_base)
    done = (run_dir / "summary.json").is_file() and "mean" in json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    if not done:
        command = [sys.executable, "-m", "zp_evolve.cli.main"]
        if run_dir.is_dir() and (run_dir / "config.yaml").is_file():
            command += ["resume", str(run_dir)]
        else:
            run_dir.parent.mkdir(parents=True, exist_ok=True)
            file = args.runs / f"{cell_id(name, seed)}.yaml"
            file.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
            command += ["run", str(file), "--run-dir", str(run_dir)]
        if not args.progress:
            command.append("--no-progress")
        subprocess.run(command, cwd=REPO, check=True)
    record = make_record(entry, seed, run_dir, steps, config)
    path = record_path(args.records, name, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return record


def plan_lines(records: Path) -> list[str]:
    lines = []
    for rank, (name, seed) in enumerate(PLAN, 1):
        path = record_path(records, name, seed)
        mark = "not run"
        if path.is_file():
            record = json.loads(path.read_text(encoding="utf-8"))
            mark = f"done: {record['heldout_mean']} (cpu {record.get('train_cpu_minutes')} min)"
        lines.append(f"{rank:2d}. {cell_id(name, seed):42s} {mark:28s} {cell(name).what}")
    return lines


def _arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--plan", action="store_true", help="print the cells in priority order, and which are done")
    what.add_argument("--next", type=int, metavar="N", help="run the next N unfinished cells of the plan")
    what.add_argument("--cell", help="run this cell")
    parser.add_argument("--seed", type=int, default=0, help="with --cell: the training seed")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="optimiser steps of every trained cell")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "generalist_recipes")
    parser.add_argument("--records", type=Path, default=REPO / "benchmarks" / "results" / "generalist_recipes" / "cells")
    parser.add_argument("--train-base", type=Path, default=TRAIN_BASE)
    parser.add_argument("--eval-base", type=Path, default=EVAL_BASE)
    parser.add_argument("--progress", action="store_true", help="show the runs' progress bars")
    args = parser.parse_args(argv)
    args.runs, args.records = args.runs.resolve(), args.records.resolve()
    return args


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    if args.plan:
        print("\n".join(plan_lines(args.records)))
        return
    if args.cell:
        print(json.dumps(run_cell(args.cell, args.seed, args)))
        return
    todo = [(n, s) for n, s in PLAN if not record_path(args.records, n, s).is_file()][: args.next]
    for name, seed in todo:
        print(json.dumps(run_cell(name, seed, args)))


if __name__ == "__main__":
    main()
