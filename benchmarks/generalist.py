"""Gather the SmolLM2 generalist experiments (issue 12) into one record, tables and plots.

Reads the run folders the four sweeps write (run them first, from the repository root)::

    zp-evolve run experiments/generalist.yaml                  # 2 generalists; base vs trained, 2 seeds
    zp-evolve run experiments/generalist_ablations.yaml        # Table 4 (-E, -V) and Figure 5 (8/32/64/all)
    zp-evolve run experiments/generalist_softprompt_init.yaml  # Table 5: E for unseen tasks
    zp-evolve run experiments/generalist_gps.yaml              # GPS scored by the generalist vs by SmolLM2
    python benchmarks/generalist.py                            # -> benchmarks/results/generalist.json

and writes ``benchmarks/results/generalist.json`` (every score in points: x100;
``train_minutes`` is CPU minutes of the one-thread training, see docs/results.md), two plots
(``docs/img/results/generalist_scaling.png``: Figure 5; ``generalist_per_task.png``) and,
on stdout, the markdown tables of docs/results.md. Nothing is computed here that the runs
did not measure: this script only reads their ``summary.json`` files. The recipe comparison of
issue 23 (V placement, E and its init, answer-only loss, lr and rank...) runs cell by cell with
``benchmarks/generalist_recipes.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SEEDS = (0, 1)
SCALING = {"tasks_8": 8, "tasks_32": 32, "tasks_64": 64, "all": None}  # None: every training task
RECIPE_RECORDS = REPO / "benchmarks" / "results" / "generalist_recipes" / "cells"
#: Issue 23's goals (points): trained minus untrained, Figure 5's rise at equal examples per
#: task, and one training's CPU minutes and peak RSS.
GOALS = {"trained_minus_base": 3.0, "scaling_rise": 2.0, "train_minutes": 45.0, "peak_rss_gb": 8.0}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, default=REPO / "runs", help="output_dir of the sweeps")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "generalist.json")
    parser.add_argument("--plots", type=Path, default=REPO / "docs" / "img" / "results")
    parser.add_argument(
        "--from-recipes", type=Path, nargs="?", const=RECIPE_RECORDS, metavar="CELLS",
        help="build the record from benchmarks/generalist_recipes.py's cell records (issue 23's split and "
        "recipe comparison) instead of the sweeps' run folders",
    )
    parser.add_argument(
        "--trained", default=SCALING_BASE, metavar="CELL",
        help="with --from-recipes: the recipe cell reported as the generalist (default: causal_transfer at the "
        "comparison's 40 steps; Figure 5's curves always end at causal_transfer, the steps of their cells)",
    )
    parser.add_argument(
        "--partial", action="store_true",
        help="record what the finished runs measured, null where a run is missing, and list the missing runs",
    )
    return parser.parse_args()


def _summary(path: Path) -> dict[str, Any]:
    file = path / "summary.json"
    if not file.is_file():
        sys.exit(f"missing {file}: run the sweep that writes it first (see this script's docstring)")
    return json.loads(file.read_text(encoding="utf-8"))


class _Runs:
    """Reads run summaries; with ``partial``, a missing one is noted instead of ending the script."""

    def __init__(self, root: Path, partial: bool) -> None:
        self.root, self.partial, self.missing = root, partial, []

    def get(self, relative: str) -> dict[str, Any] | None:
        if not self.partial:
            return _summary(self.root / relative)
        file = self.root / relative / "summary.json"
        if file.is_file():
            return json.loads(file.read_text(encoding="utf-8"))
        self.missing.append(relative)
        return None


def points(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)


def _mean(values: list[float]) -> float:
    return statistics.fmean(values)


def gather(runs: Path, *, partial: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the record of the issue, everything the tables and plots need).

    With ``partial``, a missing run leaves its figures null and is named in ``missing``; a
    comparison uses only the seeds where both of its sides finished."""
    read = _Runs(runs, partial)
    trains = {seed: read.get(f"generalist/setup/gen_s{seed}") for seed in SEEDS}
    base = {seed: read.get(f"generalist/cells/model-smollm2__seed-{seed}") for seed in SEEDS}
    trained = {seed: read.get(f"generalist/cells/model-zeroprompt__seed-{seed}") for seed in SEEDS}
    ablation = {name: read.get(f"generalist_ablations/cells/variant-{name}__seed-0") for name in (*SCALING, "no_e", "no_v")}
    init = {
        path.name.split("__")[0].removeprefix("mode-"): _summary(path)
        for path in sorted((runs / "generalist_softprompt_init" / "cells").glob("mode-*__seed-0"))
        if (path / "summary.json").is_file()
    }
    gps = {model: read.get(f"generalist_gps/cells/model-{model}__seed-0") for model in ("smollm2", "generalist")}
    if not partial:
        missing = [name for name, summary in ablation.items() if summary is None]
        if missing:
            sys.exit(f"generalist_ablations lacks cells {missing}: run experiments/generalist_ablations.yaml to the end")

    paired = [seed for seed in SEEDS if base[seed] and trained[seed]]
    finished_trains = [t for t in trains.values() if t]
    any_train = finished_trains[0] if finished_trains else next((a["train"] for a in ablation.values() if a and a.get("train", {}).get("tasks") and len(a["train"]["tasks"]) > 64), None)
    all_tasks = len(any_train["tasks"]) if any_train else None
    scaling = [
        {"tasks": count or all_tasks, "heldout_mean": points(ablation[name]["mean"])}
        for name, count in SCALING.items() if ablation[name]
    ]
    gps_tests = {model: _gps_tests(summary) for model, summary in gps.items() if summary}
    first_eval = next((s for s in (*base.values(), *trained.values()) if s), None)
    record = {
        "train_tasks": all_tasks,
        "heldout_tasks": len(first_eval["tasks"]) if first_eval else None,
        "seeds": paired if partial else list(SEEDS),
        "base_test_mean": _paired_mean(base, paired, "mean"),
        "trained_test_mean": _paired_mean(trained, paired, "mean"),
        "trained_minus_base": points(_mean([trained[s]["mean"] - base[s]["mean"] for s in paired])) if paired else None,
        "unseen_types_minus_base": points(_mean([trained[s]["unseen_mean"] - base[s]["unseen_mean"] for s in paired])) if paired else None,
        "scaling": scaling,
        "gps_trained_minus_gps_base": (
            points(_mean(list(gps_tests["generalist"].values())) - _mean(list(gps_tests["smollm2"].values())))
            if len(gps_tests) == 2 else None
        ),
        # CPU time of the (one-thread) training process: its wall time on an idle core. The
        # wall clock on the shared machine, several times longer, is in docs/results.md.
        "train_minutes": (
            round(max(_train_cpu_seconds(runs / "generalist" / "setup" / f"gen_s{seed}", t) for seed, t in trains.items() if t) / 60, 1)
            if finished_trains else None
        ),
        "peak_rss_gb": round(max(t["peak_rss_gb"] for t in finished_trains), 2) if finished_trains else None,
    }
    if partial:
        record["missing"] = read.missing
    detail = {
        "trains": finished_trains, "base": [base[s] for s in paired], "trained": [trained[s] for s in paired],
        "ablation": {name: summary for name, summary in ablation.items() if summary}, "init": init, "gps": gps, "gps_tests": gps_tests,
    }  # fmt: skip
    return record, detail


def _train_cpu_seconds(folder: Path, summary: dict[str, Any]) -> float:
    """CPU seconds of a whole training: the summary's own figure, or, for a run resumed from a
    checkpoint (whose summary times only the last leg), the sum over its logged steps."""
    metrics = folder / "metrics.jsonl"
    if not summary.get("resumed_from_step") or not metrics.is_file():
        return summary["cpu_seconds"]
    total, last = 0.0, 0
    for line in metrics.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if "cpu_s_per_step" in row and row["step"] > last:  # a step logged again after a resume counts once
            total += row["cpu_s_per_step"] * (row["step"] - last)
            last = row["step"]
    return total


def _paired_mean(summaries: dict[int, Any], seeds: list[int], key: str) -> float | None:
    return points(_mean([summaries[seed][key] for seed in seeds])) if seeds else None


def first_prompt_means(summary: dict[str, Any]) -> dict[str, float]:
    """All / Seen / Unseen means of an eval summary under each task's first handcrafted prompt
    (the ablation and Table 5 sweeps score that prompt only; an all-prompts run holds it too)."""
    rows = [(task["prompt_scores"][0], task["seen_type"]) for task in summary["tasks"].values()]
    seen = [score for score, is_seen in rows if is_seen]
    unseen = [score for score, is_seen in rows if not is_seen]
    return {"mean": _mean([score for score, _ in rows]), "seen_mean": _mean(seen), "unseen_mean": _mean(unseen)}


def _gps_tests(summary: dict[str, Any]) -> dict[str, float]:
    """Test score of the best prompt on dev, per task."""
    return {name: task["best"]["test"] for name, task in summary["tasks"].items()}


def _row(label: str, summaries: list[dict[str, Any]]) -> str:
    cells = []
    for key in ("mean", "seen_mean", "unseen_mean"):
        values = [100 * s[key] for s in summaries]
        spread = f" ({statistics.pstdev(values):.2f})" if len(values) > 1 else ""
        cells.append(f"{_mean(values):.2f}{spread}")
    return f"| {label} | " + " | ".join(cells) + " |"


def tables(record: dict[str, Any], detail: dict[str, Any]) -> str:
    """The markdown tables of docs/results.md (the sections whose runs finished)."""
    base, trained = detail["base"], detail["trained"]
    seeds = " and ".join(str(seed) for seed in record["seeds"])
    out: list[str] = []
    if base:
        out += [f"### Held-out tasks, per task (points; mean of seeds {seeds})", ""]
        out += ["| Type | Task | Lang | Metric | Seen type | SmolLM2 | generalist | diff |", "|---|---|---|---|:---:|---:|---:|---:|"]
        rows = []
        for name, info in base[0]["tasks"].items():
            b = _mean([100 * s["tasks"][name]["score"] for s in base])
            t = _mean([100 * s["tasks"][name]["score"] for s in trained])
            rows.append((info["type"], name, info["language"], info["metric"], "yes" if info["seen_type"] else "no", b, t))
        for kind, name, lang, metric, seen, b, t in sorted(rows, key=lambda r: (r[4] == "no", r[0], r[1])):
            out.append(f"| {kind} | {name} | {lang} | {metric} | {seen} | {b:.2f} | {t:.2f} | {t - b:+.2f} |")
        out += ["", f"### All / Seen / Unseen (mean (std) over seeds {seeds})", "", "| model | All | Seen | Unseen |", "|---|---:|---:|---:|"]
        out += [_row("SmolLM2-135M-Instruct (no multitask training)", base), _row("SmolLM2 generalist (160 steps)", trained), ""]
    ablation = detail["ablation"]
    base_first = [first_prompt_means(summary) for summary in base]
    trained_first = [first_prompt_means(summary) for summary in trained]
    if ablation:
        out += ["### Table 4 and Figure 5 (40 steps, seed 0; first handcrafted prompt, 50 test examples per task)", ""]
        out += ["| cell | train tasks | All | Seen | Unseen |", "|---|---:|---:|---:|---:|"]
        if base_first:
            out.append(_row("SmolLM2, no multitask training | 0", base_first[:1]))
        for name in ("all", "no_e", "no_v", "tasks_8", "tasks_32", "tasks_64"):
            summary = ablation.get(name)
            out.append(_row(f"{name} | {len(summary['train']['tasks'])}", [summary]) if summary else f"| {name} | | not run | | |")
        if trained_first:
            out.append(_row("main generalist, 160 steps (same prompt) | " + str(record["train_tasks"]), trained_first[:1]))
        out.append("")
    if detail["init"]:
        out += ["### Table 5: E for unseen tasks (seed-0 generalist; first handcrafted prompt)", ""]
        out += ["| E of a held-out task | All | Seen | Unseen |", "|---|---:|---:|---:|"]
        for mode in ("none", "weighted_all", "weighted_sample", "top1", "random"):
            if mode in detail["init"]:
                out.append(_row(mode, [detail["init"][mode]]))
        if base_first:
            out.append(_row("(SmolLM2, no multitask training)", base_first[:1]))
        out.append("")
    tests = detail["gps_tests"]
    if len(tests) == 2:
        out += ["### GPS: test score of the best prompt on dev (points)", "", "| task | GPS on SmolLM2 | GPS on the generalist | diff |", "|---|---:|---:|---:|"]
        for name in tests["smollm2"]:
            b, t = 100 * tests["smollm2"][name], 100 * tests["generalist"][name]
            out.append(f"| {name} | {b:.2f} | {t:.2f} | {t - b:+.2f} |")
        b, t = _mean(list(tests["smollm2"].values())), _mean(list(tests["generalist"].values()))
        out.append(f"| **mean** | {100 * b:.2f} | {100 * t:.2f} | {100 * (t - b):+.2f} |")
    if record.get("missing"):
        out += ["", "Not run: " + ", ".join(f"`{name}`" for name in record["missing"]) + "."]
    return "\n".join(out).rstrip("\n") + "\n"


def plot(record: dict[str, Any], detail: dict[str, Any], folder: Path) -> list[Path]:
    """Figure 5 (held-out mean against training tasks) and the per-task bars, where their runs finished."""
    from zp_evolve.report.plotting import finish, new_axes

    written: list[Path] = []
    scaling = record["scaling"]
    if not scaling or not detail["base"]:
        return written
    figure, axis = new_axes(5.6, 3.8)
    axis.plot([p["tasks"] for p in scaling], [p["heldout_mean"] for p in scaling], marker="o", color="tab:blue", label="generalist, 40 steps")
    base_first = 100 * first_prompt_means(detail["base"][0])["mean"]
    axis.axhline(base_first, color="gray", linestyle="--", label="SmolLM2, no multitask training")
    axis.set_xscale("log")
    axis.set_xticks([p["tasks"] for p in scaling], [str(p["tasks"]) for p in scaling])
    written.append(finish(
        figure, axis, folder / "generalist_scaling.png", xlabel="training tasks (log scale)",
        ylabel="held-out mean (first prompt, x100)", title="Figure 5 on SmolLM2-135M: zero-shot vs training tasks",
    ))

    base, trained = detail["base"], detail["trained"]
    names = sorted(base[0]["tasks"], key=lambda n: (not base[0]["tasks"][n]["seen_type"], base[0]["tasks"][n]["type"], n))
    b = [_mean([100 * s["tasks"][n]["score"] for s in base]) for n in names]
    t = [_mean([100 * s["tasks"][n]["score"] for s in trained]) for n in names]
    figure, axis = new_axes(9.0, 4.2)
    xs = range(len(names))
    axis.bar([x - 0.2 for x in xs], b, width=0.4, color="gray", label="SmolLM2")
    axis.bar([x + 0.2 for x in xs], t, width=0.4, color="tab:blue", label="generalist")
    labels = [f"{n.removeprefix('bb_')[:22]}{'' if base[0]['tasks'][n]['seen_type'] else ' *'}" for n in names]
    axis.set_xticks(list(xs), labels, rotation=70, ha="right", fontsize=7)
    written.append(finish(
        figure, axis, folder / "generalist_per_task.png", xlabel="",
        ylabel=f"score x100 (mean of {len(base)} seed{'s' if len(base) > 1 else ''})",
        title="Held-out tasks (* = type never trained on)", grid=False,
    ))
    return written


def _recipes_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("generalist_recipes", REPO / "benchmarks" / "generalist_recipes.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["generalist_recipes"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


SCALING_BASE = "causal_transfer"  # Figure 5's cells run its recipe and steps on fewer tasks


def gather_recipes(records_dir: Path, trained: str = SCALING_BASE) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record of issue 23 from the recipe comparison's cell records: the ``trained`` cell (the
    causal default) against the untrained model, Figure 5's two curves, GPS, and the goals."""
    recipes = _recipes_module()
    records = recipes._records(records_dir)
    main = recipes.compare(records, trained)
    seeds = main["seeds"] if main else []
    runs = [records[(trained, s)] for s in seeds]
    knobs = {
        entry.name: recipes.compare(records, entry.name)
        for entry in recipes.CELLS
        if not entry.gps_of and entry.name not in ("untrained", trained) and recipes.compare(records, entry.name)
    }

    def curve(names: list[tuple[str, int]]) -> list[dict[str, Any]]:
        points_ = []
        for name, count in names:
            row = main if name == trained else knobs.get(name)
            if row is None or 0 not in row["seeds"]:
                continue
            mine = records[(name, 0)]
            points_.append({"tasks": mine.get("train_tasks") or count, "heldout_mean": mine["heldout_mean"],
                            "steps": mine["steps"], "examples_per_task": mine["examples_per_task"]})  # fmt: skip
        return points_

    full = runs[0]["train_tasks"] if runs else None
    end = (SCALING_BASE, full)
    equal_steps = curve([*((f"transfer_tasks_{n}", n) for n in recipes.SCALING_TASKS), end])
    equal_examples = curve([*((f"transfer_tasks_{n}_equal_examples", n) for n in recipes.SCALING_TASKS), end])
    # GPS scored by each generalist that has a GPS cell; the headline one is the trained cell's own
    comparisons = {g: c for g in recipes.gps_generalists() if (c := recipes.gps_comparison(records, g))}
    own = [c for g, c in comparisons.items() if recipes.cell(g).gps_of == trained]
    gps = own[0] if own else next(iter(comparisons.values()), None)
    minutes = max((r["train_cpu_minutes"] for r in runs if r.get("train_cpu_minutes")), default=None)
    rss = max((round(r["peak_rss_gb"], 2) for r in runs if r.get("peak_rss_gb")), default=None)
    rise = equal_examples[-1]["heldout_mean"] - equal_examples[0]["heldout_mean"] if len(equal_examples) >= 2 else None
    untrained = [records[("untrained", s)] for s in seeds]
    record = {
        "source": "benchmarks/generalist_recipes.py cell records (" + ", ".join(f"{trained}__seed-{s}" for s in seeds) + ")",
        "recipe": runs[0].get("recipe", trained) if runs else trained,
        "cell": trained,
        "steps": runs[0]["steps"] if runs else None,
        "train_tasks": full,
        "heldout_tasks": len(untrained[0]["tasks"]) if untrained else None,
        "seeds": seeds,
        "base_test_mean": round(_mean([r["heldout_mean"] for r in untrained]), 2) if untrained else None,
        "trained_test_mean": main["heldout_mean"] if main else None,
        "trained_minus_base": main["minus"] if main else None,
        "trained_minus_base_ci": main["ci"] if main else None,
        "unseen_types_minus_base": main["unseen_types_minus"] if main else None,
        "scaling": equal_steps,
        "scaling_equal_examples": equal_examples,
        "gps_trained_minus_gps_base": gps["minus"] if gps else None,
        "gps": gps,
        "gps_by_generalist": comparisons,
        "train_minutes": minutes,
        "peak_rss_gb": rss,
        "knobs_minus_base": {name: {"minus": row["minus"], "ci": row["ci"], "seeds": row["seeds"]} for name, row in knobs.items()},
    }
    goals: dict[str, Any] = {}
    if main:
        goals["trained_minus_base"] = {"goal": GOALS["trained_minus_base"], "measured": main["minus"], "met": main["minus"] >= GOALS["trained_minus_base"] and main["unseen_types_minus"] > 0,
                                       "short_by": round(max(0.0, GOALS["trained_minus_base"] - main["minus"]), 2)}  # fmt: skip
    if rise is not None:
        goals["scaling_rise"] = {"goal": GOALS["scaling_rise"], "measured": round(rise, 2), "met": rise >= GOALS["scaling_rise"],
                                 "short_by": round(max(0.0, GOALS["scaling_rise"] - rise), 2)}  # fmt: skip
    if gps:
        goals["gps_trained_beats_gps_base"] = {"measured": gps["minus"], "met": gps["minus"] > 0}
    if minutes is not None:
        goals["train_minutes"] = {"goal": GOALS["train_minutes"], "measured": minutes, "met": minutes <= GOALS["train_minutes"]}
    if rss is not None:
        goals["peak_rss_gb"] = {"goal": GOALS["peak_rss_gb"], "measured": rss, "met": rss <= GOALS["peak_rss_gb"]}
    if knobs:
        best = max(knobs, key=lambda name: knobs[name]["minus"])
        goals["knob_that_moved_it_most"] = {"cell": best, "minus_base": knobs[best]["minus"], "vs_" + trained: round(knobs[best]["minus"] - main["minus"], 2) if main else None}
    record["goals"] = goals
    return record, {"records": records, "untrained": untrained, "trained": runs, "recipes": recipes}


def plot_recipes(record: dict[str, Any], detail: dict[str, Any], folder: Path) -> list[Path]:
    """Figure 5's two curves (equal steps, equal examples per task) and the per-task bars."""
    from zp_evolve.report.plotting import finish, new_axes

    written: list[Path] = []
    base = record["base_test_mean"]
    curves = [(record["scaling"], "equal steps", "tab:blue"), (record["scaling_equal_examples"], "equal examples per task", "tab:orange")]
    if base is not None and any(len(c) >= 2 for c, _, _ in curves):
        figure, axis = new_axes(5.6, 3.8)
        for points_, label, color in curves:
            if len(points_) >= 2:
                axis.plot([p["tasks"] for p in points_], [p["heldout_mean"] for p in points_], marker="o", color=color, label=f"{SCALING_BASE}, {label}")
        axis.axhline(detail["untrained"][0]["heldout_mean"], color="gray", linestyle="--", label="SmolLM2, no multitask training")
        axis.set_xscale("log")
        ticks = sorted({p["tasks"] for c, _, _ in curves for p in c})
        axis.set_xticks(ticks, [str(t) for t in ticks])
        written.append(finish(
            figure, axis, folder / "generalist_scaling.png", xlabel="training tasks (log scale)",
            ylabel="held-out mean (all prompts, x100; seed 0)", title="Figure 5 on SmolLM2-135M: zero-shot vs training tasks",
        ))
    untrained, trained = detail["untrained"], detail["trained"]
    if untrained and trained:
        names = list(untrained[0]["tasks"])
        b = [_mean([r["tasks"][n] for r in untrained]) for n in names]
        t = [_mean([r["tasks"][n] for r in trained]) for n in names]
        figure, axis = new_axes(9.0, 4.2)
        xs = range(len(names))
        axis.bar([x - 0.2 for x in xs], b, width=0.4, color="gray", label="SmolLM2")
        axis.bar([x + 0.2 for x in xs], t, width=0.4, color="tab:blue", label=f"generalist ({record['cell']}, {record['steps']} steps)")
        axis.set_xticks(list(xs), [n[:22] for n in names], rotation=70, ha="right", fontsize=7)
        written.append(finish(
            figure, axis, folder / "generalist_per_task.png", xlabel="",
            ylabel=f"score x100 (mean of seeds {record['seeds']})", title="Held-out tasks: untrained vs trained", grid=False,
        ))
    return written


def main() -> None:
    args = _arguments()
    if args.from_recipes:
        record, detail = gather_recipes(args.from_recipes, args.trained)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        for path in plot_recipes(record, detail, args.plots):
            print(f"plot: {path}")
        print("\n".join(detail["recipes"].table_lines(args.from_recipes)))
        print(json.dumps(record))
        return
    record, detail = gather(args.runs, partial=args.partial)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    for path in plot(record, detail, args.plots):
        print(f"plot: {path}")
    print(tables(record, detail))
    print(json.dumps(record))


if __name__ == "__main__":
    main()
