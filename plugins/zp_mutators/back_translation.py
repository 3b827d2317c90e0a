"""``back_translation`` (BT): the ZeroPrompt paper's second g_GPS.

Translating a prompt to a pivot language and back rewords it while keeping its
meaning, the classic paraphrasing trick (Sennrich et al. 2016; Mallinson et al.
2017); ZeroPrompt (Wu et al. 2022, Section 3.3) uses it to grow prompts in GPS.
Several pivots, and chains of round trips (eng->spa->eng->cat->eng), add
diversity. Slots are hidden as nonce words during translation
(:mod:`zp_mutators.protect`) and restored after. In a prompt with marked spans,
each editable span is translated on its own line and the fixed text is kept as is.

Engines: ``apertium`` (rule-based, Debian packages, offline; no Chinese pair
exists) and ``marian`` (Helsinki-NLP opus-mt, by hub id or local path, with
Chinese). For a language the engine cannot translate, ``unsupported: error``
(the default) stops with a message saying what to install; ``unsupported: skip``
gives such tasks no BT children and logs a warning once per language.
"""

from __future__ import annotations

import itertools
import logging
import random
from typing import Any, Literal, Mapping, Sequence

from zp_evolve.cjk import has_cjk
from zp_evolve.errors import ConfigError, ModelError
from zp_evolve.prompts import normalize
from zp_evolve.spans import Span, SpanLists
from zp_evolve.tasks import Task
from zp_mutators.apertium import INSTALL_HINT, NO_PAIRS, ApertiumTranslator
from zp_mutators.languages import codes
from zp_mutators.marian import MarianTranslator
from zp_mutators.protect import protect

log = logging.getLogger(__name__)

DEFAULT_PIVOTS = {
    "apertium": ("spa", "cat", "glg", "epo"),
    "marian": ("de", "fr", "es", "zh"),
}
Chain = tuple[str, ...]


def check_task(task: Task, options: Mapping[str, Any], plugins: Any) -> str | None:
    """Why BT with ``options`` cannot give ``task`` children, known before anything runs
    (registration metadata ``check_task``: ``zp-evolve validate`` reports it)."""
    if options.get("engine", "apertium") != "apertium" or options.get("unsupported", "error") == "skip":
        return None
    language = options.get("language") or task.language
    if codes(language)[-1] not in NO_PAIRS:
        return None
    return (
        f"Apertium has no pair for {language!r} prompts; use engine: marian where a model hub (or local "
        "opus-mt copies) is reachable, or set unsupported: skip to give such tasks no BT children"
    )


class BackTranslation:
    """Back-translation through one or more pivot languages (BT in the paper).

    Args:
        engine: ``apertium`` (offline, rule-based) or ``marian`` (opus-mt, needs a hub or local copies).
        pivots: pivot languages (ISO 639-1 or 639-3); default per engine (``spa cat glg epo`` for
            Apertium). The source language itself is skipped; Chinese tasks use English with Marian.
        round_trips: round trips chained per child (2: eng->spa->eng->cat->eng, distinct pivots).
        attempts: chains tried per child when a result is a copy of its parent or lost a slot.
        children: offspring per parent entry.
        language: the prompts' language; default: the task's (``en``/``zh``), else guessed from the text.
        unsupported: what to do when the engine has no pair for the language: ``error`` or ``skip``.
        command: the apertium executable.
        timeout: seconds one apertium call may take.
        model_template: marian model id or path, ``{src}``/``{tgt}`` filled with 2-letter codes.
        device: marian's torch device.
        sampling: marian samples instead of beam search (seeded from the rng).
    """

    def __init__(
        self,
        engine: Literal["apertium", "marian"] = "apertium",
        pivots: Sequence[str] | None = None,
        round_trips: int = 1,
        attempts: int = 3,
        children: int = 1,
        language: str | None = None,
        unsupported: Literal["error", "skip"] = "error",
        command: str = "apertium",
        timeout: float = 120.0,
        model_template: str = "Helsinki-NLP/opus-mt-{src}-{tgt}",
        device: str = "cpu",
        sampling: bool = False,
    ) -> None:
        if engine not in DEFAULT_PIVOTS:
            raise ConfigError(f"back_translation: engine must be 'apertium' or 'marian', got {engine!r}")
        if round_trips < 1 or attempts < 1 or children < 1:
            raise ConfigError("back_translation: round_trips, attempts and children must be >= 1")
        if unsupported not in ("error", "skip"):
            raise ConfigError(f"back_translation: unsupported must be 'error' or 'skip', got {unsupported!r}")
        self.engine = engine
        self.pivots = tuple(pivots) if pivots is not None else None
        if self.pivots is not None and len(self.pivots) < round_trips:
            raise ConfigError(f"back_translation: round_trips={round_trips} needs at least that many pivots, got {list(self.pivots)}")
        self.round_trips = round_trips
        self.attempts = attempts
        self.children = children
        self.language = language
        self.unsupported = unsupported
        if engine == "apertium":
            self.translator: ApertiumTranslator | MarianTranslator = ApertiumTranslator(command, timeout)
        else:
            self.translator = MarianTranslator(model_template, device=device, sampling=sampling)
        self.deterministic = engine == "apertium" or not sampling
        self._cache: dict[tuple[str, str, str], str] = {}
        self._warned: set[str] = set()

    def chains(self, language: str) -> list[Chain]:
        """Every chain of ``round_trips`` distinct pivots the engine can run for ``language``."""
        pivots = self.pivots
        if pivots is None:
            pivots = ("en",) if self.engine == "marian" and codes(language)[-1] == "zho" else DEFAULT_PIVOTS[self.engine]
        pivots = tuple(p for p in pivots if codes(p)[-1] != codes(language)[-1])
        usable = [p for p in pivots if self.translator.supports(language, p) and self.translator.supports(p, language)]
        if not usable:
            hint = (
                "Apertium has no pair for Chinese; use engine: marian where a model hub is reachable"
                if codes(language)[-1] == "zho"
                else f"install pairs with: {INSTALL_HINT}"
            )
            message = (
                f"back_translation ({self.engine}) cannot translate {language!r} prompts through any of "
                f"{list(pivots)}: {hint}. Or set unsupported: skip to give such tasks no BT children."
            )
            if self.unsupported == "error":
                raise ModelError(message)
            if language not in self._warned:
                self._warned.add(language)
                log.warning("%s Skipping.", message)
            return []
        missing = [p for p in pivots if p not in usable]
        if missing and isinstance(self.translator, ApertiumTranslator):
            # a configured pivot that is not installed is a set-up mistake: mode() says what to install
            self.translator.mode(language, missing[0])
            self.translator.mode(missing[0], language)
        return list(itertools.permutations(usable, self.round_trips))

    def mutate(
        self,
        parents: Sequence[str],
        *,
        rng: random.Random,
        task: Task | None = None,
        spans: SpanLists | None = None,
    ) -> list[list[str]]:
        """One list of children per parent; all parents' translations share each engine call.

        With ``spans``, only the editable spans are translated (each on its own line).
        """
        if not parents:
            return []
        language = self.language or (task.language if task else ("zh" if has_cjk(parents[0]) else "en"))
        chains = self.chains(language)
        if not chains:
            return [[] for _ in parents]
        tries = min(len(chains), self.attempts * self.children)
        # Every parent's first ``tries`` chains go through in one batch: an Apertium call
        # costs ~0.2 s to start and little per line, so extra lines are nearly free.
        jobs = [(i, chain) for i in range(len(parents)) for chain in rng.sample(chains, len(chains))[:tries]]
        pieces = [list(spans[i]) if spans else [Span(p, True)] for i, p in enumerate(parents)]
        # the units translated: every editable piece with text (a prompt without marks is one piece)
        units = [[(k, protect(piece.text)) for k, piece in enumerate(found) if piece.editable and piece.text.strip()]
                 for found in pieces]
        lines = [(j, unit) for j, (i, _) in enumerate(jobs) for unit in units[i]]
        results = self.round_trip([unit[1].text for _, unit in lines], [jobs[j][1] for j, _ in lines], language, rng) if lines else []
        translated: list[list[tuple[int, str | None, str]]] = [[] for _ in jobs]
        for (j, (k, hidden)), text in zip(lines, results):
            text = " ".join(text.replace("{{", " ").replace("}}", " ").split())  # only the engine places span marks
            translated[j].append((k, hidden.restore(text), hidden.restore_partial(text)))
        kids: list[list[str]] = [[] for _ in parents]
        first_try: list[str | None] = [None] * len(parents)
        # the engine repeats a parent once per child slot: its entries share what was taken
        used: dict[str, set[str]] = {normalize(p): {normalize(p)} for p in parents}
        for (i, _), parts in zip(jobs, translated):
            if not parts:
                continue  # nothing editable to translate
            child = None if any(full is None for _, full, _ in parts) else _rebuild(pieces[i], {k: full for k, full, _ in parts})
            if first_try[i] is None:
                first_try[i] = child if child is not None else _rebuild(pieces[i], {k: partial for k, _, partial in parts})
            taken = used[normalize(parents[i])]
            if child is not None and normalize(child) not in taken and len(kids[i]) < self.children:
                taken.add(normalize(child))
                kids[i].append(child)
        # A parent BT could not change: hand back the first try, so the engine's
        # statistics count why (duplicate, lost_placeholder) instead of hiding it.
        return [k if k else [t] if t is not None else [] for k, t in zip(kids, first_try)]

    def round_trip(self, texts: Sequence[str], chains: Sequence[Chain], language: str, rng: random.Random) -> list[str]:
        """Translate ``texts[i]`` around ``chains[i]``; one engine call per (direction, step)."""
        current = list(texts)
        for step in range(max(len(c) for c in chains)):
            by_pivot: dict[str, list[int]] = {}
            for i, chain in enumerate(chains):
                if step < len(chain):
                    by_pivot.setdefault(chain[step], []).append(i)
            for pivot in sorted(by_pivot):
                indices = by_pivot[pivot]
                there = self._translate([current[i] for i in indices], language, pivot, rng)
                back = self._translate(there, pivot, language, rng)
                for i, text in zip(indices, back):
                    current[i] = text
        return current

    def _translate(self, lines: list[str], source: str, target: str, rng: random.Random) -> list[str]:
        if not self.deterministic:
            return self.translator.translate(lines, source, target, rng=rng)  # type: ignore[call-arg]
        todo = sorted({line for line in lines if (line, source, target) not in self._cache})
        if todo:
            for line, out in zip(todo, self.translator.translate(todo, source, target)):
                self._cache[(line, source, target)] = out
        return [self._cache[(line, source, target)] for line in lines]


def _rebuild(pieces: Sequence[Span], texts: dict[int, str | None]) -> str:
    """The prompt with piece ``k`` replaced by ``texts[k]`` (its translation); the rest kept."""
    return "".join(texts.get(k) or piece.text for k, piece in enumerate(pieces))
