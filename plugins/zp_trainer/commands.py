"""``zp-evolve train CONFIG`` and ``zp-evolve eval CONFIG``: thin wrappers around the jobs.

They run exactly what ``zp-evolve run CONFIG`` runs, but a file without ``job:`` is
taken as a ``train`` (or ``eval``) job, and a file of another job is refused.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from zp_evolve.errors import ConfigError, ConfigIssue

TRAIN_JOBS = ("train", "train_eval", "pretrain")
EVAL_JOBS = ("eval",)


def arguments(parser: argparse.ArgumentParser) -> None:
    from zp_evolve.cli.core import run_arguments

    run_arguments(parser)


def _run(args: argparse.Namespace, default: str, allowed: tuple[str, ...]) -> int:
    from zp_evolve.config import apply_overrides, read_yaml
    from zp_evolve.jobs import default_run_dir, job_for
    from zp_evolve.plugins import load_plugins

    data, lines = read_yaml(args.config)
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue("", "the file must hold a mapping of keys (job:, name:, ...)", file=args.config)])
    if args.overrides:
        data = apply_overrides(data, args.overrides)
    data.setdefault("job", default)
    if data["job"] not in allowed:
        raise ConfigError(
            [ConfigIssue("job", f"this command runs {', '.join(allowed)} jobs, not {data['job']!r}; use 'zp-evolve run'", file=args.config)]
        )
    job = job_for(data, load_plugins(), file=args.config)
    job.progress = not args.no_progress
    job.validate(data, file=args.config, lines=lines)
    path = Path(args.run_dir) if args.run_dir else default_run_dir(data)
    print(f"{data['job']} {data.get('name')}: writing to {path}")
    summary = job.run(data, path, resume=False)
    if summary.get("checkpoint"):
        print(f"  checkpoint: {summary['checkpoint']} ({summary.get('steps')} steps)")
    if summary.get("mean") is not None:
        print(f"  mean score: {100 * summary['mean']:.2f} (table: {path / 'results.md'})")
    print(f"summary: {path / 'summary.json'}")
    return 0


def train_command(args: argparse.Namespace) -> int:
    return _run(args, "train", TRAIN_JOBS)


def eval_command(args: argparse.Namespace) -> int:
    return _run(args, "eval", EVAL_JOBS)
