"""ChatterBot corpus as topic classification: which topic file a user's message comes from."""

from __future__ import annotations

from pathlib import Path

import yaml

from zp_evolve.tasks import Example, Task

from zp_datasets.rows import RowChecker
from zp_datasets.specs import Spec, make_task

FOLDERS = {"en": "english", "zh": "chinese"}
#: Topics with at least 10 conversations in both languages (smaller files are too thin to test on).
TOPICS = {
    "en": {
        "ai": "artificial intelligence", "botprofile": "the bot itself", "conversations": "small talk",
        "emotion": "emotions", "gossip": "gossip", "greetings": "greetings", "humor": "jokes", "literature": "literature",
        "money": "money", "movies": "movies", "politics": "politics", "psychology": "psychology",
        "science": "science", "sports": "sports", "trivia": "trivia", "coding": "programming", "food": "food",
    },
    "zh": {
        "ai": "人工智能", "conversations": "闲聊", "emotion": "情绪", "greetings": "问候", "humor": "幽默",
        "literature": "文学", "money": "金钱", "movies": "电影", "politics": "政治", "psychology": "心理",
        "science": "科学", "sports": "体育", "trivia": "常识",
    },
}
SIZES = {"en": 956, "zh": 439}


def read_chatterbot(folder: Path, task: Task, rows: RowChecker, max_chars: int) -> dict[str, list[Example]]:
    language = task.language
    root = folder / "chatterbot_corpus/data" / FOLDERS[language]
    out = []
    for topic in TOPICS[language]:
        path = root / f"{topic}.yml"
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
        node = yaml.compose(text)
        lines = _conversation_lines(node)
        for index, conversation in enumerate(data.get("conversations") or []):
            if isinstance(conversation, str):
                # A slip of the corpus (english/trivia.yml:35): an answer indented into
                # its question, which YAML reads as one string. Not a conversation.
                continue
            first = conversation[0] if isinstance(conversation, list) and conversation else None
            source = f"{path}:{lines[index] if index < len(lines) else 0}"
            example = rows.example({"X": str(first or "").strip()}, topic, source)
            if example:
                out.append(example)
    return {"all": out}


def _conversation_lines(node) -> list[int]:
    if node is None:
        return []
    for key, value in getattr(node, "value", []):
        if getattr(key, "value", None) == "conversations":
            return [item.start_mark.line + 1 for item in value.value]
    return []


def chatterbot_task(language: str) -> Spec:
    topics = TOPICS[language]
    name = f"chatterbot_topics_{language}"
    description = "ChatterBot corpus: the topic of a user's chat message"
    return Spec(
        make_task(name, "TOPIC", language, ("X",), labels=tuple(topics), verbalizers=tuple(topics.values()),
                  size=SIZES[language], description=description),
        "chatterbot_corpus",
        read_chatterbot,
    )
