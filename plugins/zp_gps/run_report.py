"""``report.md`` and ``plots/*.png`` for one run directory."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from zp_evolve.report.plotting import finish, new_axes
from zp_evolve.report.tables import markdown_table
from zp_evolve.rundir import RunDirectory
from zp_gps.state import load_state


def _history(run_dir: RunDirectory) -> list[list[dict[str, Any]]]:
    try:
        return load_state(run_dir).history
    except Exception:  # a report must not fail on an unreadable checkpoint
        return []


def plot_fitness(history: list[list[dict[str, Any]]], path: Path) -> Path | None:
    """Best and mean dev fitness per generation, one line pair per task."""
    if not history:
        return None
    series: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for records in history:
        for r in records:
            series[r["task"]].append((r["gen"], r["best"], r["mean"]))
    fig, ax = new_axes()
    for index, (task, points) in enumerate(sorted(series.items())):
        color = f"C{index % 10}"
        gens = [p[0] for p in points]
        ax.plot(gens, [p[1] for p in points], "-o", color=color, label=f"{task} best")
        ax.plot(gens, [p[2] for p in points], "--", color=color, alpha=0.6, label=f"{task} mean")
    return finish(fig, ax, path, xlabel="generation", ylabel="dev fitness", title="GPS: fitness per generation", legend={"fontsize": 7, "ncol": 2})


def plot_operators(events: list[dict[str, Any]], path: Path) -> Path | None:
    """Best and mean dev fitness of each operator's offspring per generation (averaged over tasks)."""
    dev = [e for e in events if e["split"] == "dev" and isinstance(e["generation"], int) and e["error"] is None]
    if not dev:
        return None
    cells: dict[tuple[str, int, str], list[float]] = defaultdict(list)
    for e in dev:
        cells[(e["operator"], e["generation"], e["task"])].append(e["fitness"])
    per_op: dict[str, dict[int, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    for (op, gen, _task), values in cells.items():
        per_op[op][gen].append((max(values), sum(values) / len(values)))
    fig, ax = new_axes()
    for index, (op, gens) in enumerate(sorted(per_op.items())):
        xs = sorted(gens)
        best = [sum(b for b, _ in gens[g]) / len(gens[g]) for g in xs]
        mean = [sum(m for _, m in gens[g]) / len(gens[g]) for g in xs]
        ax.plot(xs, best, "-o", color=f"C{index % 10}", label=f"{op} best")
        ax.plot(xs, mean, "--", color=f"C{index % 10}", alpha=0.6, label=f"{op} mean")
    return finish(fig, ax, path, xlabel="generation", ylabel="dev fitness (mean over tasks)", title="Offspring fitness per operator", legend={"fontsize": 7, "ncol": 2})


def plot_pareto(summary: dict[str, Any], path: Path) -> Path | None:
    """Each task's Pareto front: the metric against the second objective (e.g. length in tokens)."""
    fronts = {name: task["pareto_front"] for name, task in summary["tasks"].items() if task.get("pareto_front")}
    if not fronts:
        return None
    second = next(k for k in next(iter(fronts.values()))[0]["objectives"] if k != "metric")
    fig, ax = new_axes()
    for index, (task, front) in enumerate(sorted(fronts.items())):
        points = sorted((entry["objectives"][second], entry["objectives"]["metric"]) for entry in front)
        ax.plot([p[0] for p in points], [p[1] for p in points], "-o", drawstyle="steps-post", color=f"C{index % 10}", label=task)
    label = "prompt length (tokens)" if second == "length" else second
    return finish(fig, ax, path, xlabel=label, ylabel="dev fitness (metric)", title="Pareto front per task", legend={"fontsize": 7})


def render_run_report(run_dir: RunDirectory, plots: dict[str, Path | None]) -> str:
    summary = run_dir.read_summary()
    history = _history(run_dir)
    lines = [f"# GPS run `{summary['name']}`", ""]
    lines.append(f"Seed {summary['seed']}; {summary['generations_scored']} generations scored; stopped: {summary['stop_reason']}.")
    model = summary.get("model") or {}
    lines += [f"Model: `{model}`; fitness: `{summary.get('fitness')}`."]
    strategy = (summary.get("selection") or {}).get("strategy", "algorithm1")
    lines += [f"Selection: `{strategy}` (docs/gps.md, \"Selection\").", ""]
    lines += ["## Answer per task", ""]
    rows = []
    for name, task in summary["tasks"].items():
        answer, manual = task.get("answer") or task["best"] or {}, task["manual_best_on_dev"] or {}
        kind = answer.get("kind", "best")
        source = f"ensemble of {len(answer.get('prompts', []))}" if kind == "ensemble" else (task["best"] or {}).get("operator")
        gap = answer.get("dev_test_gap")
        rows.append([name, task["metric"], manual.get("dev"), manual.get("test"), answer.get("dev"), answer.get("test"), gap, source])
    lines.append(markdown_table(["task", "metric", "manual dev", "manual test", "GPS dev", "GPS test", "dev-test gap", "from"], rows))
    lines.append("Dev is the score on all of the dev set; the dev-test gap is how much it overstates the test score.\n")
    for name, task in summary["tasks"].items():
        lines += [f"## {name} ({task['type']}, {task['language']}, {task['metric']})", ""]
        counts = task.get("dev_class_counts")
        shown = f" ({', '.join(f'{label} {n}' for label, n in counts.items())})" if counts else ""
        lines.append(f"Dev set: {task['dev_size']} examples{shown}; test sample: {task['test_size']} examples.")
        if task.get("dev_parts"):
            lines.append(f"Breeding on {task['dev_parts']['breed']} dev examples; {task['dev_parts']['holdout']} held out to rank the final pool.")
        answer = task.get("answer") or {}
        if answer.get("kind") == "ensemble":
            lines.append(f"Answer: the ensemble of the top {len(answer['prompts'])} prompts: dev {answer['dev']}, test {answer['test']}.")
        lines.append("")
        lines.append("Top K over all generations:\n")
        rows = [[i + 1, e["prompt"], e["dev"], e["test"], e["operator"], e["generation"]] for i, e in enumerate(task["top_k"])]
        lines.append(markdown_table(["#", "prompt", "dev", "test", "operator", "gen"], rows))
        lines.append("Handcrafted prompts (G0):\n")
        rows = [[e["prompt"], e["dev"], e["test"]] for e in task["manual"]]
        lines.append(markdown_table(["prompt", "dev", "test"], rows))
    fronts = {name: task["pareto_front"] for name, task in summary["tasks"].items() if task.get("pareto_front")}
    for name, front in fronts.items():
        lines += [f"## Pareto front: {name}", ""]
        names = list(front[0]["objectives"])
        rows = [[e["prompt"], *(e["objectives"][k] for k in names), e["dev"], e["test"]] for e in front]
        lines.append(markdown_table(["prompt", *names, "dev", "test"], rows))
    if history:
        lines += ["## Generations", ""]
        rows = [[r["gen"], r["task"], r["size"], r["new"], r["cache_hits"], r["best"], r["mean"], r["top_k_mean"]] for rec in history for r in rec]
        lines.append(markdown_table(["gen", "task", "size", "new", "cache hits", "best", "mean", "top-K mean"], rows))
    lines += ["## Operators", ""]
    rows = []
    for label, stats in summary["operators"].items():
        reasons = ", ".join(f"{k} {v}" for k, v in stats["rejected"].items()) or "–"
        rows.append([label, stats["proposed"], stats["accepted"], stats["rejected_total"], reasons, stats["in_reproductive_group"], stats["in_final_top_k"]])
    lines.append(markdown_table(["operator", "proposed", "scored", "rejected", "rejected by reason", "in reproductive groups", "in final top K"], rows))
    images = [(title, p) for title, p in plots.items() if p is not None]
    if images:
        lines += ["## Plots", ""]
        lines += [f"![{title}](plots/{p.name})" for title, p in images]
        lines.append("")
    return "\n".join(lines)


def write_run_report(run_dir: RunDirectory | str | Path) -> Path:
    if not isinstance(run_dir, RunDirectory):
        run_dir = RunDirectory(run_dir)
    events = list(run_dir.events())
    plots = {
        "fitness per generation": plot_fitness(_history(run_dir), run_dir.plots_path / "fitness.png"),
        "fitness per operator": plot_operators(events, run_dir.plots_path / "operators.png"),
        "Pareto front": plot_pareto(run_dir.read_summary(), run_dir.plots_path / "pareto.png"),
    }
    text = render_run_report(run_dir, plots)
    run_dir.report_path.write_text(text, encoding="utf-8")
    return run_dir.report_path


__all__ = ["write_run_report", "render_run_report", "plot_fitness", "plot_operators", "plot_pareto"]
