"""The core commands: run, resume, validate, plugins, report."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from zp_evolve.errors import ConfigError, RunError


def run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="experiment YAML file")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                        help="override a config value, e.g. --set search.generations=2 (repeatable)")
    parser.add_argument("--run-dir", help="where to write the run (default: OUTPUT_DIR/NAME-TIMESTAMP)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def run_command(args: argparse.Namespace) -> int:
    from zp_evolve.config import load_config
    from zp_evolve.engine.gps import GeneticPromptSearch
    from zp_evolve.engine.rundir import RunDirectory
    from zp_evolve.plugins import load_plugins

    plugins = load_plugins()
    config, raw = load_config(args.config, plugins, args.overrides)
    path = Path(args.run_dir) if args.run_dir else Path(config.output_dir) / f"{config.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir = RunDirectory(path)
    print(f"run {config.name}: writing to {path}")
    search = GeneticPromptSearch(config, raw, run_dir, plugins, progress=not args.no_progress)
    _finish(search.run(), run_dir)
    return 0


def resume_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a run directory written by 'zp-evolve run'")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def resume_command(args: argparse.Namespace) -> int:
    from zp_evolve.config import validate
    from zp_evolve.engine.gps import GeneticPromptSearch
    from zp_evolve.engine.rundir import RunDirectory
    from zp_evolve.plugins import load_plugins

    plugins = load_plugins()
    run_dir = RunDirectory(args.run_dir)
    raw = run_dir.read_config()
    config = validate(raw, plugins, file=str(run_dir.config_path))
    search = GeneticPromptSearch(config, raw, run_dir, plugins, progress=not args.no_progress)
    _finish(search.run(resume=True), run_dir)
    return 0


def _finish(summary: dict, run_dir) -> None:
    for name, task in summary["tasks"].items():
        best = task["best"] or {}
        manual = task["manual_best_on_dev"] or {}
        test = f", test {best['test']:.4f} (manual {manual.get('test') or float('nan'):.4f})" if best.get("test") is not None else ""
        print(f"  {name}: best dev {best.get('dev', float('nan')):.4f}{test}\n    {best.get('prompt', '')}")
    print(f"summary: {run_dir.summary_path}")
    print(f"report:  {run_dir.report_path}")


def validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("configs", nargs="+", help="YAML files to check")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE")


def validate_command(args: argparse.Namespace) -> int:
    from zp_evolve.config import load_config
    from zp_evolve.plugins import load_plugins

    plugins = load_plugins()
    failed = 0
    for path in args.configs:
        try:
            load_config(path, plugins, args.overrides)
            print(f"ok: {path}")
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
    parser.add_argument("run_dirs", nargs="+", help="run directories (or sweep directories)")
    parser.add_argument("--out", help="folder for a combined report of several runs")


def report_command(args: argparse.Namespace) -> int:
    from zp_evolve.report.run_report import write_run_report

    for path in args.run_dirs:
        if not Path(path).is_dir():
            raise RunError(f"{path} is not a directory")
        print(f"report: {write_run_report(path)}")
    return 0
