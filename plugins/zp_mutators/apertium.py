"""Apertium, the rule-based translator, run as a batched subprocess.

Apertium (Forcada et al. 2011) installs from Debian packages and runs offline.
One ``apertium -u MODE`` call translates many sentences, one per line; ``-u``
drops the marks it puts on unknown words, so they pass through unchanged.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from typing import Sequence

from zp_evolve.errors import ModelError
from zp_mutators.languages import codes

#: Debian packages that hold each English pair (names differ: some use 2-letter codes).
DEBIAN_PACKAGES = {
    "spa": "apertium-eng-spa",
    "cat": "apertium-eng-cat",
    "glg": "apertium-en-gl",
    "epo": "apertium-eo-en",
    "eus": "apertium-eu-en",
    "isl": "apertium-isl-eng",
    "mkd": "apertium-mkd-eng",
    "hbs": "apertium-hbs-eng",
}
#: Languages no Apertium pair translates at all (none among Debian's 74 apertium-* packages,
#: checked with ``apt-cache search apertium-``): back-translation cannot start from them.
NO_PAIRS = frozenset({"zho", "jpn", "kor"})
INSTALL_HINT = "sudo apt-get install apertium " + " ".join(DEBIAN_PACKAGES[p] for p in ("spa", "cat", "glg", "epo"))


class ApertiumTranslator:
    """Translates batches of lines with the ``apertium`` command.

    Args:
        command: the apertium executable (a name on PATH or a path).
        timeout: seconds one call may take before it counts as hung.
    """

    def __init__(self, command: str = "apertium", timeout: float = 120.0) -> None:
        self.command = command
        self.timeout = timeout

    @functools.cached_property
    def executable(self) -> str:
        found = shutil.which(self.command)
        if found is None:
            raise ModelError(
                f"back_translation with engine 'apertium' needs the apertium command, which is not on PATH. "
                f"Install it with: {INSTALL_HINT}  (or choose engine: marian)"
            )
        return found

    @functools.cached_property
    def modes(self) -> frozenset[str]:
        """Every translation mode installed, e.g. ``eng-spa``, ``en-gl``."""
        result = self._call(["-l"], "")
        return frozenset(line.strip() for line in result.splitlines() if line.strip())

    def mode(self, source: str, target: str) -> str:
        """The installed mode for ``source -> target`` (ISO 639-1 or 639-3 codes)."""
        for a in codes(source):
            for b in codes(target):
                if f"{a}-{b}" in self.modes:
                    return f"{a}-{b}"
        pivot = target if codes(source)[-1] == "eng" else source
        package = DEBIAN_PACKAGES.get(codes(pivot)[-1], f"apertium-{codes(source)[-1]}-{codes(target)[-1]}")
        raise ModelError(
            f"apertium cannot translate {source} -> {target}: no such mode is installed "
            f"(installed: {', '.join(sorted(self.modes)) or 'none'}). Install the pair with: sudo apt-get install {package} "
            f"(list pairs with: apt-cache search apertium-)"
        )

    def supports(self, source: str, target: str) -> bool:
        try:
            self.mode(source, target)
        except ModelError:
            return False
        return True

    def translate(self, lines: Sequence[str], source: str, target: str) -> list[str]:
        """Translate every line in one call; each line is translated as if alone."""
        if not lines:
            return []
        mode = self.mode(source, target)
        flat = [" ".join(line.split()) for line in lines]
        # A blank line is a paragraph break, which Apertium's tagger and chunker do not
        # cross; with single newlines a line's ending changed the next line's translation.
        output = [line for line in self._call(["-u", "-f", "txt", mode], "\n\n".join(flat) + "\n").split("\n") if line.strip()]
        if len(output) != len(flat):
            # a line came back empty or split (rare): translate one line per call instead
            output = [self._call(["-u", "-f", "txt", mode], line + "\n").strip().replace("\n", " ") for line in flat]
        return [" ".join(line.split()) for line in output]

    def _call(self, arguments: list[str], text: str) -> str:
        try:
            result = subprocess.run(
                [self.executable, *arguments], input=text, capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except subprocess.TimeoutExpired as error:
            raise ModelError(f"apertium {' '.join(arguments)} took over {self.timeout:.0f} s; raise 'timeout'") from error
        if result.returncode != 0:
            raise ModelError(f"apertium {' '.join(arguments)} failed ({result.returncode}): {result.stderr.strip()[:500]}")
        return result.stdout
