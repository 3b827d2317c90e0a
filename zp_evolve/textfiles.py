"""Reading the user's text files (configs, task cards, data): UTF-8, decoded explicitly.

A file that is not UTF-8 (UTF-16 from a spreadsheet export, Latin-1, random bytes)
must stop with its name and line, not with a ``UnicodeDecodeError`` traceback. A
UTF-8 byte-order mark, which some editors write, is accepted and dropped.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Iterator

from zp_evolve.errors import DataError

_UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF32_MARKS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


class NotUtf8Error(DataError):
    """A file that does not hold UTF-8 text; ``line`` is where decoding failed."""

    def __init__(self, path: Path, line: int, detail: str) -> None:
        self.path = path
        self.line = line
        self.detail = detail
        super().__init__(f"{path}:{line}: {self.reason}")

    @property
    def reason(self) -> str:
        """The message without the file name, for callers that place the file themselves."""
        return (
            f"not UTF-8 text ({self.detail}). Save the file as UTF-8 (a byte-order mark is fine), "
            f"e.g. with: iconv -f ENCODING -t UTF-8 {self.path.name} > fixed.{self.path.suffix.lstrip('.') or 'txt'}"
        )


def decode_utf8(data: bytes, path: Path) -> str:
    """``data`` as text; a leading UTF-8 byte-order mark is dropped.

    Raises:
        NotUtf8Error: the bytes are UTF-16/32, contain NUL bytes, or are not valid UTF-8.
    """
    data = _without_utf8_mark(data, path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise NotUtf8Error(path, line, f"byte 0x{data[error.start]:02x} at offset {error.start}: {error.reason}") from None
    nul = text.find("\x00")
    if nul >= 0:  # valid UTF-8, but no text file holds NUL: UTF-16 without a mark, or binary data
        raise NotUtf8Error(path, text.count("\n", 0, nul) + 1, "it holds NUL bytes: binary data, or UTF-16 without a byte-order mark")
    return text


def _without_utf8_mark(start: bytes, path: Path) -> bytes:
    """The first bytes of a file without a UTF-8 byte-order mark; a UTF-16/32 mark is an error."""
    if start.startswith(_UTF32_MARKS):  # before UTF-16: the UTF-32-LE mark starts like UTF-16-LE's
        raise NotUtf8Error(path, 1, "it starts with a UTF-32 byte-order mark")
    if start.startswith(_UTF16_MARKS):
        raise NotUtf8Error(path, 1, "it starts with a UTF-16 byte-order mark")
    return start.removeprefix(codecs.BOM_UTF8)


def read_utf8(path: str | Path) -> str:
    """The text of a UTF-8 file (see :func:`decode_utf8`).

    Raises:
        DataError: the file cannot be read; NotUtf8Error (a DataError) when it is not UTF-8.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot read it ({error.strerror or error}). Check the path.") from None
    return decode_utf8(data, path)


def iter_utf8_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of a UTF-8 file, one line at a time (for files too large to hold).

    The same checks as :func:`decode_utf8`, line by line: a UTF-16/32 byte-order mark, NUL
    bytes or invalid UTF-8 stop with the file and the line. Line ends are kept as read
    (``\\r\\n`` included), so CSV readers see the file as written.
    """
    path = Path(path)
    try:
        stream = open(path, "rb")
    except OSError as error:
        raise DataError(f"{path}: cannot read it ({error.strerror or error}). Check the path.") from None
    with stream:
        for number, data in enumerate(stream, 1):
            if number == 1:
                data = _without_utf8_mark(data, path)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise NotUtf8Error(path, number, f"byte 0x{data[error.start]:02x}: {error.reason}") from None
            if "\x00" in text:
                raise NotUtf8Error(path, number, "it holds NUL bytes: binary data, or UTF-16 without a byte-order mark")
            yield number, text
