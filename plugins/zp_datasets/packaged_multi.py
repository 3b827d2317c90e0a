"""Packaged tasks in further languages: the ChatterBot corpus beyond English and Chinese.

``chatterbot_topics_<code>`` is the task of :mod:`zp_datasets.topics` (which topic file a
user's first message comes from) for every language of the corpus with at least 100
conversations in topics of at least 10 conversations each; smaller topics and languages
(French 89, Hindi 52, Russian 43...) are too thin to hold out a test part.

The project has handcrafted prompts in English and Chinese only: the other languages
get the English prompts and English verbalizers (:func:`zp_datasets.templates.prompts_for`
falls back to English, as it does for BIG-bench's non-English tasks). Traditional Chinese
gets the Chinese topic prompts and verbalizers, written in traditional characters.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from zp_evolve.tasks import Example, Task

from zp_datasets.rows import RowChecker
from zp_datasets.specs import Spec, make_task
from zp_datasets.topics import TOPICS as TOPICS_EN_ZH

#: English verbalizers of topic files, by file name (the corpus names files in several languages).
TOPIC_WORDS = {
    **TOPICS_EN_ZH["en"],
    "profile": "the bot itself", "perfilbot": "the bot itself", "origen": "the bot's origin",
    "computers": "computers", "computer": "computers", "emotions": "emotions", "emociones": "emotions",
    "history": "history", "health": "health", "music": "music", "sport": "sports", "suggestions": "advice",
    "traveling": "travel", "IA": "artificial intelligence", "dinero": "money", "psicologia": "psychology",
    "compliment": "compliments", "games": "video games", "history_brasil": "Brazilian history",
    "linguistic_knowledge": "linguistics", "proverbs": "proverbs", "unilab": "the university",
}

#: code: (folder, topic files), each file with >= 10 conversations in that language.
LANGUAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "bn": ("bengali", ("botprofile", "computer", "emotions", "food", "greetings")),
    "de": ("german", ("conversations", "food", "greetings", "movies")),
    "es": ("spanish", ("IA", "conversations", "dinero", "emociones", "greetings", "origen", "perfilbot", "psicologia", "trivia")),
    "fa": ("persian", ("computers", "conversations", "emotion", "food", "gossip", "greetings", "humor", "literature",
                       "money", "movies", "politics", "profile", "psychology", "science", "sports", "trivia")),
    "id": ("indonesian", ("ai", "conversations", "greetings", "trivia")),
    "it": ("italian", ("ai", "botprofile", "computers", "conversations", "emotion", "food", "gossip", "greetings",
                       "humor", "literature", "money", "movies", "politics", "psychology", "science", "sports")),
    "ja": ("japanese", ("ai", "botprofile", "computers", "conversations", "emotion", "food", "gossip", "greetings",
                        "humor", "literature", "money", "movies", "politics", "psychology", "science", "sports", "trivia")),
    "ko": ("korean", ("ai", "botprofile", "computers", "conversations", "emotion", "food", "gossip", "greetings",
                      "humor", "literature", "money", "movies", "politics", "psychology", "science", "sports", "trivia")),
    "nl": ("dutch", ("conversations", "emotion", "food", "greetings", "health", "history", "literature", "money",
                     "movies", "music", "science", "sport", "suggestions", "traveling", "trivia")),
    "pt": ("portuguese", ("compliment", "conversations", "games", "greetings", "history_brasil", "linguistic_knowledge",
                          "money", "proverbs", "suggestions", "trivia", "unilab")),
    "uk": ("ukrainian", ("ai", "botprofile", "computers", "conversations", "emotion", "food", "greetings", "humor",
                         "literature", "money", "movies", "psychology", "science", "sports")),
    "zh-Hant": ("traditionalchinese", tuple(TOPICS_EN_ZH["zh"])),
}
#: Examples per task: the conversations of those files (a few Ukrainian entries are not conversations).
SIZES = {"bn": 113, "de": 104, "es": 280, "fa": 764, "id": 163, "it": 545, "ja": 559, "ko": 445, "nl": 307,
         "pt": 315, "uk": 428, "zh-Hant": 428}

TOPIC_WORDS_HANT = {
    "ai": "人工智慧", "conversations": "閒聊", "emotion": "情緒", "greetings": "問候", "humor": "幽默",
    "literature": "文學", "money": "金錢", "movies": "電影", "politics": "政治", "psychology": "心理",
    "science": "科學", "sports": "體育", "trivia": "常識",
}
#: The Chinese TOPIC prompts of zp_datasets.templates, in traditional characters.
PROMPTS_HANT = ("消息：[X] 話題：_", "這句話在聊什麼話題？“[X]” 回答：_。", "“[X]”這句話是關於_的。")


def read_chatterbot_language(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> dict[str, list[Example]]:
    directory, topics = LANGUAGES[task.language]
    root = folder / "chatterbot_corpus/data" / directory
    out = []
    for topic in topics:
        path = root / f"{topic}.yml"
        for line, first in _conversation_items(yaml.compose(path.read_text(encoding="utf-8"))):
            if first is None:
                # An answer indented into its question reads as one string: not a conversation.
                continue
            example = rows.example({"X": " ".join(first.split())}, topic, f"{path}:{line}")
            if example:
                out.append(example)
    return {"all": out}


def _conversation_items(node) -> list[tuple[int, str | None]]:
    """``(line, first message)`` of each entry of ``conversations`` (``None``: not a list)."""
    for key, value in getattr(node, "value", None) or []:
        if getattr(key, "value", None) == "conversations" and isinstance(value, yaml.SequenceNode):
            out = []
            for item in value.value:
                first = None
                if isinstance(item, yaml.SequenceNode) and item.value and isinstance(item.value[0], yaml.ScalarNode):
                    first = str(item.value[0].value)
                out.append((item.start_mark.line + 1, first))
            return out
    return []


def task_name(language: str) -> str:
    return "chatterbot_topics_" + language.lower().replace("-", "_")


def multilingual_specs() -> list[Spec]:
    specs = []
    for language, (_, topics) in LANGUAGES.items():
        hant = language == "zh-Hant"
        words = TOPIC_WORDS_HANT if hant else TOPIC_WORDS
        task = make_task(task_name(language), "TOPIC", language, ("X",), labels=topics,
                         verbalizers=tuple(words[t] for t in topics), prompts=PROMPTS_HANT if hant else (),
                         size=SIZES[language], description="ChatterBot corpus: the topic of a user's chat message")
        specs.append(Spec(task, "chatterbot_corpus", read_chatterbot_language))
    return specs
