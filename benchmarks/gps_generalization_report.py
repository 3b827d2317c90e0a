"""Reads the cells of benchmarks/gps_generalization.py; writes the JSON, a markdown table and plots.

Scores are x100 (points). For every (task, seed) pair:
- **manual**: the test score of the best handcrafted prompt on dev, scored by the plain
  scorer (the status quo: no search, no calibration), from the ``algorithm1`` cell;
- **manual mean**: the mean test score of the handcrafted prompts (plain scorer);
- a strategy's **answer**: the test score of the prompt(s) it chose (an ensemble's own
  test score for ``ensemble``);
- **dev-test gap**: the answer's score on all 32 dev examples minus its test score;
- **own manual**: the best-on-dev handcrafted prompt scored by the cell's own scorer (the
  calibrated one in a ``calibrate`` cell), so answer minus own manual is the search's own
  share of the gain, and answer minus manual the gain over the user's status quo.
Differences are paired over (task, seed) pairs; the CI is a percentile bootstrap.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence

from gps_generalization_cells import OPERATORS, STRATEGIES, Cell, operator_cells, planned_cells

from zp_evolve.report.paired import mean_over, paired_bootstrap
from zp_evolve.report.tables import markdown_table

Key = tuple[str, int]  # (task, seed)


def _points(value: Any) -> float | None:
    return 100.0 * float(value) if value is not None and math.isfinite(float(value)) else None


def _read_cells(root: Path) -> dict[Cell, dict[str, Any]]:
    """Finished cells: ``cells/<id>.json`` records (committed) or ``cells/<id>/summary.json`` run folders."""
    cells = {}
    for path in sorted((root / "cells").glob("*__*__*__seed*")):
        file = path / "summary.json" if path.is_dir() else path
        if not file.is_file() or file.suffix != ".json":
            continue
        strategy, operators, mode, seed = path.name.removesuffix(".json").split("__")
        cell = Cell(strategy, operators, mode, int(seed[len("seed"):]))
        if cell not in cells:
            cells[cell] = json.loads(file.read_text(encoding="utf-8"))
    return cells


def _answers(summary: dict[str, Any], tasks: Sequence[str]) -> tuple[dict[Key, float], dict[Key, float]]:
    """Test and dev score of the answer per (task, seed)."""
    test, dev = {}, {}
    for task in tasks:
        result = summary["tasks"].get(task)
        if result is None:
            continue
        answer = result.get("answer") or {}
        key = (task, summary["seed"])
        if _points(answer.get("test")) is not None:
            test[key] = _points(answer["test"])
        if _points(answer.get("dev")) is not None:
            dev[key] = _points(answer["dev"])
    return test, dev


def _manual(summary: dict[str, Any], tasks: Sequence[str]) -> tuple[dict[Key, float], dict[Key, float], dict[Key, float]]:
    """Per (task, seed): test and dev of the best handcrafted prompt on dev, and the mean handcrafted test."""
    best, best_dev, mean = {}, {}, {}
    for task in tasks:
        result = summary["tasks"].get(task)
        if result is None:
            continue
        key = (task, summary["seed"])
        chosen = result.get("manual_best_on_dev") or {}
        if _points(chosen.get("test")) is not None:
            best[key] = _points(chosen["test"])
            best_dev[key] = _points(chosen["dev"])
        tests = [_points(m.get("test")) for m in result["manual"]]
        tests = [t for t in tests if t is not None]
        if tests:
            mean[key] = statistics.fmean(tests)
    return best, best_dev, mean


def _merge(cells: dict[Cell, dict], strategy: str, operators: str, mode: str, tasks: Sequence[str]):
    test: dict[Key, float] = {}
    dev: dict[Key, float] = {}
    for cell, summary in cells.items():
        if (cell.strategy, cell.operators, cell.mode) == (strategy, operators, mode):
            t, d = _answers(summary, tasks)
            test.update(t)
            dev.update(d)
    return test, dev


def _compare(a: dict[Key, float], b: dict[Key, float]) -> dict[str, Any] | None:
    diff = paired_bootstrap(a, b)
    if diff is None:
        return None
    return {"mean": round(diff.mean, 2), "ci_low": round(diff.low, 2), "ci_high": round(diff.high, 2),
            "pairs": diff.pairs, "wins": diff.wins, "losses": diff.losses}


def _gap(dev: dict[Key, float], test: dict[Key, float]) -> float | None:
    keys = sorted(set(dev) & set(test))
    return round(statistics.fmean(dev[k] - test[k] for k in keys), 2) if keys else None


def _screen(root: Path) -> dict[str, Any]:
    """The task-selection rule of screen.json and the tasks it dropped, on both sides."""
    path = root / "screen.json"
    if not path.is_file():
        return {}
    screen = json.loads(path.read_text(encoding="utf-8"))
    dropped = {**screen.get("dropped", {}), **screen.get("train_side", {}).get("dropped", {})}
    return {"selection_rule": screen.get("rule"), "dropped_tasks": dropped}


def collect(root: Path, tasks: Sequence[str], seeds: Sequence[int]) -> dict[str, Any]:
    cells = _read_cells(root)
    baseline = [s for c, s in cells.items() if (c.strategy, c.operators, c.mode) == ("algorithm1", "mix", "gps")]
    manual: dict[Key, float] = {}
    manual_dev: dict[Key, float] = {}
    manual_mean: dict[Key, float] = {}
    for summary in baseline:
        b, d, m = _manual(summary, tasks)
        manual.update(b)
        manual_dev.update(d)
        manual_mean.update(m)
    algorithm1, _ = _merge(cells, "algorithm1", "mix", "gps", tasks)
    strategies: dict[str, Any] = {}
    per_task: dict[str, dict[str, float]] = defaultdict(dict)
    for name in STRATEGIES:
        test, dev = _merge(cells, name, "mix", "gps", tasks)
        if not test:
            continue
        own_manual: dict[Key, float] = {}
        for cell, summary in cells.items():
            if (cell.strategy, cell.operators, cell.mode) == (name, "mix", "gps"):
                own_manual.update(_manual(summary, tasks)[0])
        vs_own = _compare(test, own_manual)
        without, _ = _merge(cells, name, "mix", "oneshot", tasks)
        minus_manual = _compare(test, manual)
        entry = {
            "test_mean": round(mean_over(test), 2),
            "dev_mean": round(mean_over(dev), 2) if dev else None,
            "minus_manual": minus_manual["mean"] if minus_manual else None,
            "ci_low": minus_manual["ci_low"] if minus_manual else None,
            "ci_high": minus_manual["ci_high"] if minus_manual else None,
            "dev_test_gap": _gap(dev, test),
            "pairs": len(test),
            "vs_manual": minus_manual,
            "vs_manual_mean": _compare(test, manual_mean),
            "vs_own_manual": vs_own,
            "vs_algorithm1": _compare(test, algorithm1) if name != "algorithm1" else None,
            "vs_without_gps": _compare(test, without),
            "without_gps_test_mean": round(mean_over(without), 2) if without else None,
        }
        strategies[name] = entry
        for task in tasks:
            values = [test[(task, s)] for s in seeds if (task, s) in test]
            if values:
                per_task[task][name] = round(statistics.fmean(values), 2)
    for task in tasks:
        for label, source in (("manual", manual), ("manual_mean", manual_mean)):
            values = [source[(task, s)] for s in seeds if (task, s) in source]
            if values:
                per_task[task][label] = round(statistics.fmean(values), 2)
    operators: dict[str, Any] = {}
    for strategy in STRATEGIES:
        for op in OPERATORS:
            gps, _ = _merge(cells, strategy, op, "gps", tasks)
            without, _ = _merge(cells, strategy, op, "oneshot", tasks)
            if not gps:
                continue
            operators.setdefault(strategy, {})[op] = {
                "gps_test_mean": round(mean_over(gps), 2),
                "without_gps_test_mean": round(mean_over(without), 2) if without else None,
                "gps_minus_without": _compare(gps, without),
                "gps_minus_manual": _compare(gps, manual),
            }
    default = choose_default(strategies)
    # the operators phase runs algorithm1 and the default (`--phase operators --default NAME`)
    planned = planned_cells(seeds) + operator_cells(sorted({"algorithm1", default or "algorithm1"}), seeds)
    return {
        "tasks": list(tasks),
        "seeds": list(seeds),
        "cells": len(cells),
        "default": default,
        # what the full plan holds that no finished cell measured
        "not_measured": sorted({c.id for c in planned} - {c.id for c in cells}),
        # the plan in the order it runs (benchmarks/gps_generalization_cells.py, PRIORITIES)
        # done: the cell's record holds every task; tasks_done: how many it holds (records grow with the task set)
        "plan": [
            {"cell": c.id, "done": c in cells and all(t in cells[c]["tasks"] for t in tasks),
             "tasks_done": sum(t in cells[c]["tasks"] for t in tasks) if c in cells else 0}
            for c in planned
        ],  # fmt: skip
        **_screen(root),
        "manual": {
            "test_mean": round(mean_over(manual), 2) if manual else None,
            "mean_prompt_test_mean": round(mean_over(manual_mean), 2) if manual_mean else None,
            "dev_test_gap": _gap(manual_dev, manual),
        },
        "strategies": strategies,
        "operators": operators,
        "per_task": dict(per_task),
        "task_info": _task_info(baseline, tasks),
    }


def _task_info(summaries: Sequence[dict[str, Any]], tasks: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Metric, label count and chance level (points) per task: AUC 50, micro-F1 100 / labels."""
    info: dict[str, dict[str, Any]] = {}
    for summary in summaries:
        for task in tasks:
            result = summary["tasks"].get(task)
            if result is None or task in info:
                continue
            labels = len(result.get("dev_class_counts") or {}) or None
            metric = result.get("metric")
            chance = 50.0 if metric == "auc" else round(100 / labels, 1) if metric == "micro_f1" and labels else None
            info[task] = {"metric": metric, "labels": labels, "chance": chance}
    return info


def per_task_markdown(results: dict[str, Any]) -> str:
    """Per task, mean over seeds: chance, the handcrafted prompts and each strategy's answer (points)."""
    names = list(results["strategies"])
    rows = []
    for task in results["tasks"]:
        info = results.get("task_info", {}).get(task, {})
        scores = results["per_task"].get(task, {})
        rows.append([task, info.get("metric") or "–", _text(info.get("chance")), _text(scores.get("manual")),
                     _text(scores.get("manual_mean")), *(_text(scores.get(name)) for name in names)])
    return markdown_table(["task", "metric", "chance", "manual (best on dev)", "manual (mean)", *names], rows)


def choose_default(strategies: dict[str, Any]) -> str | None:
    """The winner on test, judged on paired (task, seed) differences: plain ``algorithm1``
    unless a strategy beats it on the pairs both measured (then the largest mean gain).
    Means over different sets of pairs are not compared."""
    if not strategies:
        return None
    gains = {name: s["vs_algorithm1"]["mean"] for name, s in strategies.items() if (s.get("vs_algorithm1") or {}).get("mean") is not None}
    best = max(gains, key=gains.get, default=None)
    if best is not None and gains[best] > 0:
        return best
    return "algorithm1" if "algorithm1" in strategies else max(strategies, key=lambda name: strategies[name]["test_mean"])


def goals(results: dict[str, Any]) -> dict[str, Any]:
    """The issue's goals for the default strategy, each with the measured figure and whether it is met."""
    default = results["strategies"].get(results.get("default") or "")
    if not default:
        return {}

    def goal(value: float | None, target: float, *, at_most: bool = False) -> dict[str, Any]:
        met = None if value is None else (value <= target if at_most else value >= target)
        entry: dict[str, Any] = {"measured": value, "target": target, "met": met}
        if met is False:  # how far the measurement is from the target, in points
            entry["missed_by"] = round(abs(value - target), 2)  # type: ignore[operator]
        return entry

    own = default.get("vs_own_manual") or {}
    return {
        "minus_manual": goal(default["minus_manual"], 3.0),
        "ci_low": goal(default["ci_low"], 0.0),
        "dev_test_gap": goal(default["dev_test_gap"], 6.0, at_most=True),
        "search_share": goal(own.get("mean"), 0.0),
        "search_share_ci_low": goal(own.get("ci_low"), -0.5),
    }


def _text(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def markdown(results: dict[str, Any]) -> str:
    rows = []
    for name, s in results["strategies"].items():
        vs_a1 = s["vs_algorithm1"] or {}
        vs_without = s["vs_without_gps"] or {}
        rows.append([
            f"**{name}**" if name == results.get("default") else name, _text(s["test_mean"]), _text(s["minus_manual"]),
            f"[{_text(s['ci_low'])}, {_text(s['ci_high'])}]" if s["ci_low"] is not None else "–",
            _text((s["vs_manual_mean"] or {}).get("mean")), _text((s.get("vs_own_manual") or {}).get("mean")),
            _text(vs_a1.get("mean")), _text(vs_without.get("mean")), _text(s["dev_test_gap"]),
        ])
    manual = results["manual"]
    lines = [markdown_table(
        ["strategy", "test", "- manual", "95% CI", "- manual mean", "- own manual", "- algorithm1", "- without GPS",
         "dev-test gap"], rows,
    )]
    lines.append(
        f"Manual (best handcrafted prompt on dev): test {manual['test_mean']}, dev-test gap {manual['dev_test_gap']}; "
        f"mean handcrafted prompt: test {manual['mean_prompt_test_mean']}."
    )
    return "\n".join(lines)


def plot(results: dict[str, Any], root: Path) -> list[Path]:
    """Dev against test of each strategy's answer, and the gain over manual with its CI."""
    from zp_evolve.report.plotting import finish, new_axes

    strategies = results["strategies"]
    if not strategies:
        return []
    paths = []
    fig, ax = new_axes()
    for index, (name, s) in enumerate(strategies.items()):
        if s["dev_mean"] is None:
            continue
        ax.plot([s["dev_mean"]], [s["test_mean"]], "o", color=f"C{index % 10}", label=name)
    manual = results["manual"]
    if manual["test_mean"] is not None and manual["dev_test_gap"] is not None:
        ax.plot([manual["test_mean"] + manual["dev_test_gap"]], [manual["test_mean"]], "k*", markersize=10, label="manual")
    low, high = ax.get_xlim()
    ax.plot([low, high], [low, high], ":", color="grey", label="dev = test")
    paths.append(finish(fig, ax, root / "dev_vs_test.png", xlabel="dev score of the answer (x100)",
                        ylabel="test score of the answer (x100)", title="Dev against test, mean over tasks and seeds",
                        legend={"fontsize": 7}))
    fig, ax = new_axes()
    names = list(strategies)
    means = [strategies[n]["minus_manual"] for n in names]
    errors = [[m - strategies[n]["ci_low"] for n, m in zip(names, means)], [strategies[n]["ci_high"] - m for n, m in zip(names, means)]]
    ax.bar(range(len(names)), means, yerr=errors, capsize=4, color=[f"C{i % 10}" for i in range(len(names))])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=7)
    paths.append(finish(fig, ax, root / "gain_over_manual.png", xlabel="", ylabel="test: answer - best manual prompt (points)",
                        title="Gain on test over the best-on-dev handcrafted prompt (95% CI)"))
    return [p for p in paths if p is not None]


def write_results(root: Path, json_path: Path, tasks: Sequence[str], seeds: Sequence[int], *, machine: str, command: str) -> dict[str, Any]:
    results = collect(root, tasks, seeds)
    results["goals"] = goals(results)
    results["machine"] = machine
    results["command"] = command
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    table = markdown(results) + "\n\n" + per_task_markdown(results)
    (root / "results.md").write_text(table + "\n", encoding="utf-8")
    plots = plot(results, root)
    print(table)
    print(f"json: {json_path}\nplots: {', '.join(str(p) for p in plots)}")
    return results
