"""Save T0's held-out tasks as `datasets` folders, for experiments/t0_heldout.yaml.

Run it on a machine where the Hugging Face hub is reachable, then copy the output folder
(``~/.cache/zp_evolve/hf`` by default) to the machine that runs the experiment::

    python scripts/save_t0_heldout.py                      # every task
    python scripts/save_t0_heldout.py --only super_glue/rte anli
    python scripts/save_t0_heldout.py --story-cloze-dir ~/story_cloze   # its manual download

Each task is ``load_dataset(ID, CONFIG).save_to_disk(OUT/FOLDER)``; a hub dataset that only
ships a loading script (which `datasets` >= 4 no longer runs) is read from its parquet
conversion (``revision="refs/convert/parquet"``). Afterwards the cards of
experiments/t0_heldout/ are listed against the saved folders, which checks their columns
and labels against the data and the converted promptsource templates on real rows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: folder under OUT -> (hub id, config); the folders are the cards' `dataset: {path: "{cache}/hf/..."}`.
TASKS = {
    "super_glue/rte": ("aps/super_glue", "rte"),
    "super_glue/cb": ("aps/super_glue", "cb"),
    "super_glue/wsc.fixed": ("aps/super_glue", "wsc.fixed"),
    "super_glue/copa": ("aps/super_glue", "copa"),
    "super_glue/wic": ("aps/super_glue", "wic"),
    "anli": ("facebook/anli", None),
    "winogrande/winogrande_xl": ("allenai/winogrande", "winogrande_xl"),
    "hellaswag": ("Rowan/hellaswag", None),
    "story_cloze/2016": ("LSDSem/story_cloze", "2016"),
}


def save(folder: str, out: Path, story_cloze_dir: str | None) -> str:
    from datasets import load_dataset

    hub, config = TASKS[folder]
    target = out / folder
    options = {}
    if folder.startswith("story_cloze"):
        if not story_cloze_dir:
            return ("skipped: Story Cloze needs its manual download (https://cs.rochester.edu/nlp/rocstories/); "
                    "pass --story-cloze-dir DIR")
        options["data_dir"] = str(Path(story_cloze_dir).expanduser())
    try:
        data = load_dataset(hub, config, **options)
    except Exception as first:  # a script-only dataset: read the hub's parquet conversion
        try:
            data = load_dataset(hub, config, revision="refs/convert/parquet", **options)
        except Exception:
            return f"FAILED: load_dataset({hub!r}, {config!r}): {type(first).__name__}: {first}"
    data.save_to_disk(str(target))
    sizes = ", ".join(f"{split} {len(rows)}" for split, rows in data.items())
    return f"saved to {target} ({sizes})"


def check_cards() -> int:
    """List the experiment's cards against the saved data; 1 when a card does not fit its data."""
    sys.path[:0] = [str(REPO), str(REPO / "plugins")]
    from zp_evolve.errors import DataError

    from zp_datasets.hf_datasets import HfDatasetsProvider

    failed = 0
    for card in sorted((REPO / "experiments" / "t0_heldout").glob("*.yml")):
        try:
            provider = HfDatasetsProvider(cards=[str(card)])
            task = provider.tasks()[0]
            ready = "" if provider.available(task.name) else " (no data here)"
            print(f"  {task.name}: {len(task.prompts)} prompts, {task.size} examples{ready}")
        except DataError as error:
            failed = 1
            print(f"  {card.name}: {error}", file=sys.stderr)
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="output folder (default: the zp_evolve cache's hf/, which the cards read)")
    parser.add_argument("--only", nargs="+", choices=sorted(TASKS), help="save only these")
    parser.add_argument("--story-cloze-dir", help="the folder of Story Cloze's manual download (cloze_test_*_2016 CSVs)")
    parser.add_argument("--force", action="store_true", help="save again folders that exist")
    args = parser.parse_args(argv)
    if args.out:
        out = Path(args.out).expanduser()
    else:
        sys.path[:0] = [str(REPO)]
        from zp_evolve.downloads import cache_root

        out = cache_root() / "hf"
    failed = 0
    for folder in args.only or list(TASKS):
        if (out / folder).exists() and not args.force:
            print(f"{folder}: already there ({out / folder}); --force saves it again")
            continue
        result = save(folder, out, args.story_cloze_dir)
        failed += result.startswith("FAILED")
        print(f"{folder}: {result}")
    print("cards of experiments/t0_heldout against the data:")
    if args.out:
        print("  (checked only against the default folder; point the cards at --out to use it)")
    return 1 if failed or check_cards() else 0


if __name__ == "__main__":
    sys.exit(main())
