"""The core commands: run, resume, validate, plugins, report, export."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from zp_evolve.errors import ConfigError, RunError


def run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="experiment YAML file (job: gps by default; a file with grid: is a sweep)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                        help="override a config value, e.g. --set search.generations=2 (repeatable)")
    parser.add_argument("--run-dir", help="where to write the run (default: OUTPUT_DIR/NAME-TIMESTAMP; sweeps: OUTPUT_DIR/NAME)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def run_command(args: argparse.Namespace) -> int:
    from zp_evolve.config import apply_overrides, read_yaml
    from zp_evolve.jobs import default_run_dir
    from zp_evolve.plugins import load_plugins

    plugins = load_plugins()
    data, lines = read_yaml(args.config)
    if args.overrides:
        data = apply_overrides(data if isinstance(data, dict) else {}, args.overrides)
    if isinstance(data, dict) and "grid" in data:
        from zp_evolve.sweep import run_sweep

        run_sweep(args.config, data, lines, plugins, out_dir=args.run_dir, progress=not args.no_progress)
        return 0
    job = plugins.job(data, file=args.config)
    _set_progress(job, args)
    job.validate(data, file=args.config, lines=lines)  # every config error, before any model loads
    path = Path(args.run_dir) if args.run_dir else default_run_dir(data)
    print(f"run {data.get('name')}: writing to {path}")
    _finish(job.run(data, path, resume=False), path)
    return 0


def _set_progress(job, args: argparse.Namespace) -> None:
    if hasattr(job, "progress"):
        job.progress = not args.no_progress


#: What ``resume --set`` may change: settings that do not change what was already computed.
RESUME_SETTABLE = ("search.budget.", "executor.")


def resume_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a run directory written by 'zp-evolve run'")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                        help="raise the budget (search.budget.evaluations=M) or change the executor; "
                             "a run stopped by its budget goes on")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def resume_command(args: argparse.Namespace) -> int:
    from zp_evolve.config import apply_overrides
    from zp_evolve.plugins import load_plugins
    from zp_evolve.rundir import RunDirectory, atomic_write

    plugins = load_plugins()
    path = Path(args.run_dir)
    run_dir = RunDirectory(path)
    data = run_dir.read_config()
    job = plugins.job(data, file=str(path / "config.yaml"))
    if args.overrides:
        refused = [o for o in args.overrides if not o.split("=", 1)[0].strip().startswith(RESUME_SETTABLE)]
        if refused:
            raise ConfigError(
                f"resume --set can change only {', '.join(k + '*' for k in RESUME_SETTABLE)} (what does not change the "
                f"scores already computed), not: {', '.join(refused)}. Start a new run for other changes."
            )
        data = apply_overrides(data, args.overrides)
        job.validate(data, file=str(path / "config.yaml"))
        import yaml

        atomic_write(run_dir.config_path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8"))
    _set_progress(job, args)
    _finish(job.run(data, path, resume=True), path)
    return 0


def _finish(summary: dict, path: Path) -> None:
    if summary.get("stop_reason") == "budget":
        used = (summary.get("budget") or {}).get("evaluations_used")
        print(f"stopped by the budget ({used} scored pairs): the best prompts so far. "
              f"Go on with: zp-evolve resume {path} --set search.budget.evaluations=MORE")
    tasks = summary.get("tasks")
    # GPS and eval summaries map task names to results; a train summary lists its tasks.
    for name, task in (tasks.items() if isinstance(tasks, dict) else ()):
        if not isinstance(task, dict):
            continue
        best = task.get("answer") or task.get("best") or {}
        if best.get("dev") is None:
            continue
        manual = task.get("manual_best_on_dev") or {}
        test = ""
        if best.get("test") is not None:
            test = f", test {best['test']:.4f} (best manual prompt: {manual.get('test') or float('nan'):.4f})"
        label = f"ensemble of {len(best['prompts'])}" if best.get("kind") == "ensemble" else "best"
        prompts = "\n    ".join(best.get("prompts") or [best.get("prompt", "")])
        print(f"  {name}: {label} dev {best['dev']:.4f}{test}\n    {prompts}")
    print(f"summary: {path / 'summary.json'}")
    if (path / "report.md").exists():
        print(f"report:  {path / 'report.md'}")


def validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("configs", nargs="+", help="YAML files to check")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE")


def validate_command(args: argparse.Namespace) -> int:
    from zp_evolve.config import apply_overrides, read_yaml
    from zp_evolve.plugins import load_plugins

    plugins = load_plugins()
    failed = 0
    for path in args.configs:
        try:
            data, lines = read_yaml(path)
            if args.overrides:
                data = apply_overrides(data if isinstance(data, dict) else {}, args.overrides)
            if isinstance(data, dict) and "grid" in data:
                from zp_evolve.sweep import validate_sweep

                _, cells = validate_sweep(path, data, lines, plugins)
                print(f"ok: {path} ({len(cells)} cells)")
                continue
            job = plugins.job(data, file=path)
            config = job.validate(data, file=path, lines=lines)
            print(f"ok: {path}")
            for note in getattr(job, "notes", lambda _config: [])(config):
                print(f"  {note}")
        except ConfigError as error:
            failed += 1
            print(f"error: {error}", file=sys.stderr)
    return 2 if failed else 0


def plugins_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--kind", help="only this kind (mutators, metrics, fitness, backends, tasks, executors, commands)")


def plugins_command(args: argparse.Namespace) -> int:
    from zp_evolve.plugins import KINDS, load_plugins

    plugins = load_plugins()
    kinds = [args.kind] if args.kind else list(KINDS)
    for kind in kinds:
        if kind not in KINDS:
            raise ConfigError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    listing = {
        kind: [
            {
                "name": c.name,
                "plugin": c.plugin,
                "description": c.description,
                "parameters": [
                    {"name": p.name, "type": p.annotation, "required": p.required, "default": None if p.required else repr(p.default)}
                    for p in c.parameters
                ]
                if kind != "commands"
                else [],
            }
            for c in plugins[kind]
        ]
        for kind in kinds
    }
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    for kind, components in listing.items():
        print(f"{kind} ({len(components)})")
        for c in components:
            params = ", ".join(
                f"{p['name']}" + ("" if p["required"] else f"={p['default']}") for p in c["parameters"]
            )
            print(f"  {c['name']:<22} [{c['plugin']}] {c['description']}")
            if params:
                print(f"  {'':<22} ({params})")
    return 0


def report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dirs", nargs="+", help="run directories or sweep folders")
    parser.add_argument("--out", help="also write one combined, paper-style report of the given runs into this folder")


def report_command(args: argparse.Namespace) -> int:
    from zp_evolve.plugins import load_plugins
    from zp_evolve.report.sweep_report import write_combined_report, write_sweep_report
    from zp_evolve.rundir import RunDirectory

    plugins = load_plugins()
    runs = []
    for path in map(Path, args.run_dirs):
        if (path / "sweep.yaml").is_file():
            print(f"report: {write_sweep_report(path, plugins)}")
        elif (path / "checkpoint.pkl").is_file():  # a search, finished or not: its job writes the report
            job = plugins.job(RunDirectory(path).read_config(), file=str(path / "config.yaml"))
            if hasattr(job, "write_report"):
                print(f"report: {job.write_report(path)}")
            runs.append(path)
        elif (path / "summary.json").is_file():
            runs.append(path)  # a trainer run: it writes its own tables
        else:
            raise RunError(f"{path} is neither a run directory (summary.json) nor a sweep folder (sweep.yaml)")
    if args.out:
        unfinished = [str(p) for p in runs if not (p / "summary.json").is_file()]
        if unfinished:
            raise RunError(f"these runs have not finished, resume them first: {', '.join(unfinished)}")
        print(f"combined report: {write_combined_report(runs, Path(args.out), plugins)}")
    return 0


def export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a finished search (a run directory with summary.json)")
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml",
                        help="yaml: a prompts: block with the scores as comments (default); json: everything, for other tools")
    parser.add_argument("--task", dest="tasks", action="append", default=[], metavar="NAME",
                        help="only this task (repeatable); with one task, YAML is a task card's prompts: list")
    parser.add_argument("--strip-marks", action="store_true", help="drop the {{...}} span marks from the prompts")
    parser.add_argument("--output", "-o", help="write to this file instead of standard output")


def export_command(args: argparse.Namespace) -> int:
    from zp_evolve.export import export_text
    from zp_evolve.rundir import RunDirectory, atomic_write

    path = Path(args.run_dir)
    if not (path / "config.yaml").is_file():
        raise RunError(f"{path} is not a run directory (no config.yaml); give a folder written by 'zp-evolve run'")
    text = export_text(RunDirectory(path).read_summary(), path, fmt=args.format, tasks=args.tasks, strip=args.strip_marks)
    if args.output:
        atomic_write(Path(args.output), text.encode("utf-8"))
        print(f"export: {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
