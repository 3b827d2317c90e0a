"""``zp-evolve train CONFIG`` and ``zp-evolve eval CONFIG``: thin wrappers around ``zp-evolve run``.

They run exactly what ``zp-evolve run CONFIG`` runs (same options), after checking that
the file's ``job:`` is one of theirs, so a GPS file is not started by mistake.
"""

from __future__ import annotations

import argparse

from zp_evolve.errors import ConfigError, ConfigIssue

TRAIN_JOBS = ("train", "train_eval", "pretrain")
EVAL_JOBS = ("eval",)


def arguments(parser: argparse.ArgumentParser) -> None:
    from zp_evolve.cli.core import run_arguments

    run_arguments(parser)


def _run(args: argparse.Namespace, allowed: tuple[str, ...]) -> int:
    from zp_evolve.cli.core import run_command
    from zp_evolve.config import apply_overrides, read_yaml
    from zp_evolve.plugins import load_plugins

    data, _ = read_yaml(args.config)
    if isinstance(data, dict) and args.overrides:
        data = apply_overrides(data, args.overrides)
    job = data.get("job", load_plugins()["jobs"].default_name()) if isinstance(data, dict) else None
    if job not in allowed:
        raise ConfigError(
            [ConfigIssue("job", f"this command runs {' or '.join(allowed)} jobs, not {job!r}: set job: {allowed[0]}, or use 'zp-evolve run'", file=args.config)]
        )
    return run_command(args)


def train_command(args: argparse.Namespace) -> int:
    return _run(args, TRAIN_JOBS)


def eval_command(args: argparse.Namespace) -> int:
    return _run(args, EVAL_JOBS)
