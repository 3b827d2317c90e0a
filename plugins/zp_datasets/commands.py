"""``zp-evolve data pull|list`` and ``zp-evolve tasks``."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from zp_evolve.errors import ConfigError, DataError

from zp_datasets.sources import SOURCES, source


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


# -- data pull --------------------------------------------------------------------
def pull_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"data sources: {', '.join(SOURCES)}")
    parser.add_argument("--all", action="store_true", help="every data source")
    parser.add_argument("--force", action="store_true", help="extract again even if already done")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def pull_command(args: argparse.Namespace) -> int:
    if not args.names and not args.all:
        raise DataError(f"name the data sources to pull, or --all. Known: {', '.join(SOURCES)}")
    names = list(SOURCES) if args.all else args.names
    chosen = [source(name) for name in names]  # unknown names fail before any download
    for item in chosen:
        was_ready = item.ready
        folder = item.pull(progress=not args.no_progress, force=args.force)
        state = "already there" if was_ready and not args.force else "pulled"
        print(f"{item.name}: {state} ({item.file.filename}, {_mb(item.file.size)}) -> {folder}")
    return 0


# -- data list --------------------------------------------------------------------
def list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def list_command(args: argparse.Namespace) -> int:
    rows = [item.status() for item in SOURCES.values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'source':<18} {'download':>10} {'on disk':>10}  status      contents")
    for row in rows:
        status = "ready" if row["extracted"] else ("downloaded" if row["downloaded"] else "not pulled")
        disk = _mb(int(row["extracted_bytes"])) if row["extracted"] else "-"
        print(f"{row['name']:<18} {_mb(int(row['download_bytes'])):>10} {disk:>10}  {status:<11} {row['description']}")
    missing = [row["name"] for row in rows if not row["extracted"]]
    if missing:
        print(f"\nfetch with: zp-evolve data pull {' '.join(missing)}   (or --all)")
    return 0


# -- tasks ------------------------------------------------------------------------
def tasks_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--type", dest="task_type", help="only this task type (SENTI, NEWS, NLI, ...)")
    parser.add_argument("--lang", help="only this language (en, zh, ...)")
    parser.add_argument("--provider", action="append", default=None,
                        help="provider to list (repeatable; default: packaged and bigbench when pulled)")
    parser.add_argument("--card", action="append", default=[], metavar="CARD.yaml",
                        help="a task card of your own files (repeatable; implies --provider files)")
    parser.add_argument("--json", action="store_true", help="one JSON object per task")


def tasks_command(args: argparse.Namespace) -> int:
    from zp_evolve.plugins import load_plugins

    plugins = load_plugins()
    names = args.provider or ["packaged"] + (["bigbench"] if source("bigbench").ready else [])
    if args.card and "files" not in names:
        names = [*(args.provider or []), "files"]
    if "files" in names and not args.card:
        raise ConfigError("the files provider lists the tasks of your task cards: add --card CARD.yaml (docs/tasks.md)")
    tasks = []
    for name in names:
        spec = {"name": name, "cards": args.card} if name == "files" else {"name": name}
        provider = plugins.build("tasks", spec, path=f"--provider {name}")
        for task in provider.tasks():
            if args.task_type and task.type != args.task_type.upper():
                continue
            if args.lang and task.language != args.lang:
                continue
            tasks.append((name, task, _available(provider, task.name)))
    if args.json:
        for name, task, ready in tasks:
            print(json.dumps({**task.to_json(), "provider": name, "data_ready": ready}, ensure_ascii=False))
        return 0
    width = min(max([len(t.name) for _, t, _ in tasks] + [4]), 44)
    for name, task, ready in tasks:
        labels = f"{len(task.labels)} labels" if task.labels else ("options" if task.multiple_choice else "generation")
        flag = "" if ready else "  (not pulled)"
        print(f"{task.name:<{width}}  {task.type:<7} {task.language:<3} {task.metric:<9} {labels:<11} {task.size:>7}  {name}{flag}")
    _summary(tasks, sys.stdout)
    return 0


def _available(provider, name: str) -> bool:
    check = getattr(provider, "available", None)
    return bool(check(name)) if callable(check) else True


def _summary(tasks, out) -> None:
    usable = [(n, t) for n, t, ready in tasks if ready]
    by_type = Counter(t.type for _, t in usable)
    by_lang = Counter(t.language for _, t in usable)
    print(f"\n{len(usable)} usable tasks ({len(tasks) - len(usable)} more once pulled), "
          f"{len(by_type)} types, {len(by_lang)} languages", file=out)
    print("by type:     " + ", ".join(f"{k} {v}" for k, v in sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))), file=out)
    print("by language: " + ", ".join(f"{k} {v}" for k, v in sorted(by_lang.items(), key=lambda kv: (-kv[1], kv[0]))), file=out)
