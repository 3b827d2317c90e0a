"""Handcrafted prompts (G0) per task type and language, after the paper's Tables 9-17.

Each type has cloze prompts (the blank ``_`` inside the text) and prefix prompts
(the blank last), written for the type's input fields: ``[X]`` for one text;
``[X1]``/``[X2]`` for pairs (MRC: passage and question; NER: text and entity
type). Chinese tasks get Chinese prompts. A provider may pass its own prompts, or
a task-specific phrase (``topic``) that the ``{topic}`` slot of a template takes,
as the paper adds task keywords to the basic prompts of a type.
"""

from __future__ import annotations

from typing import Sequence

from zp_evolve.errors import DataError
from zp_evolve.prompts import BLANK, PLACEHOLDER, template_problems

Key = tuple[str, str, int]  # (type, language, number of input fields)

_T: dict[Key, tuple[str, ...]] = {
    # Sentiment (Table 10)
    ("SENTI", "en", 1): (
        '"[X]" What is the attitude of this {topic}? _.',
        "{topic_cap}: [X] Sentiment: _",
        "[X] All in all, it was _.",
        "What is the sentiment of the following {topic}? _. Text: [X]",
    ),
    ("SENTI", "zh", 1): (
        "“[X]”这句{topic}的态度是什么？_。",
        "{topic}：[X] 情感：_",
        "[X] 总之，感觉_。",
        "下面这段{topic}的情感倾向是什么？回答：_。文本：[X]",
    ),
    # News classification (Table 11)
    ("NEWS", "en", 1): (
        "What is the topic of the following news? _. News text: [X]",
        "News: [X] Topic: _",
        "[X] This news is about _.",
    ),
    ("NEWS", "zh", 1): (
        "以下这篇新闻是关于什么主题的？_。新闻：[X]",
        "新闻：[X] 主题：_",
        "[X] 这是一条关于_的新闻。",
    ),
    ("INTENT", "en", 1): (
        "Utterance: [X] Intent: _",
        'What does the speaker want? "[X]" Answer: _.',
        '"[X]" The user wants to _.',
        "The intent of the utterance is _. Utterance: [X]",
    ),
    ("INTENT", "zh", 1): (
        "用户说：“[X]”。用户的意图是：_。",
        "“[X]”这句话的意图是什么？回答：_。",
        "话语：[X] 意图：_",
        "这句话的意图是_。话语：[X]",
    ),
    ("TOPIC", "en", 1): (
        "Message: [X] Topic: _",
        'What is this chat message about? "[X]" Answer: _.',
        '"[X]" This message is about _.',
        "This chat message is about _. Message: [X]",
    ),
    ("TOPIC", "zh", 1): (
        "消息：[X] 话题：_",
        "这句话在聊什么话题？“[X]” 回答：_。",
        "“[X]”这句话是关于_的。",
    ),
    ("SPAM", "en", 1): (
        "Message: [X] Category: _",
        'Is the following text message normal or spam? "[X]" Answer: _.',
        "[X] This message is _.",
        "This is a _ message: [X]",
    ),
    ("SARC", "en", 1): (
        '"[X]" Is this sarcastic? Answer: _.',
        "Headline: [X] Sarcastic: _",
        "Is the following text meant ironically? _. Text: [X]",
    ),
    ("QCLS", "en", 1): (
        "Question: [X] The answer is a _.",
        "What kind of answer does this question ask for? _. Question: [X]",
        "[X] Answer type: _",
    ),
    # Natural language inference (Table 13)
    ("NLI", "en", 2): (
        'In the general context, what is the logical relationship between the first sentence "[X1]" and the second sentence "[X2]"? Answer: _.',
        "Premise: [X1] Hypothesis: [X2] Relation: _",
        'How do these two sentences go together? Answer: _. The first sentence: "[X1]", the second sentence: "[X2]".',
    ),
    ("NLI", "zh", 2): (
        "在通用领域中，第一句话：“[X1]”第二句话：“[X2]”的逻辑关系是什么？回答：_。",
        "前提：[X1] 假设：[X2] 关系：_",
        "这两句话是如何组合在一起的？回答：_。第一句话：“[X1]”，第二句话：“[X2]”",
    ),
    # Sentence similarity and paraphrase (Table 14)
    ("STS", "en", 2): (
        'In {topic} context, the first sentence: "[X1]" the second sentence: "[X2]", the meaning of these two sentences is _.',
        "Sentence 1: [X1] Sentence 2: [X2] Similar: _",
        'What is the relationship between them? Answer: _. The first sentence: "[X1]", the second sentence: "[X2]".',
    ),
    ("STS", "zh", 2): (
        "在{topic}领域中，第一句话：“[X1]”第二句话：“[X2]”这两句话含义_。",
        "句子一：[X1] 句子二：[X2] 是否相似：_",
        "它们之间的关系是怎样的？回答：_。第一句话：“[X1]”，第二句话：“[X2]”",
    ),
    ("PARA", "en", 2): (
        'The first {topic}: "[X1]" the second {topic}: "[X2]". Do they mean the same thing? Answer: _.',
        "{topic_cap} 1: [X1] {topic_cap} 2: [X2] Same: _",
        'Are these two {topic}s equivalent? _. First: "[X1]", second: "[X2]".',
    ),
    ("PARA", "zh", 2): (
        "第一句话：“[X1]”第二句话：“[X2]”这两句话的意思_。",
        "句子一：[X1] 句子二：[X2] 意思相同：_",
        "这两句话说的是同一件事吗？回答：_。第一句话：“[X1]”，第二句话：“[X2]”",
    ),
    ("QAM", "en", 2): (
        'Question: "[X1]" Answer: "[X2]". Does the answer fit the question? _.',
        "Q: [X1] A: [X2] Valid pair: _",
        'Can "[X2]" answer "[X1]"? Answer: _.',
        'Answer: _. Is "[X2]" a valid answer to "[X1]"?',
    ),
    ("QAM", "zh", 2): (
        "问题：“[X1]”回答：“[X2]”。这个回答是否对应问题？_。",
        "问：[X1] 答：[X2] 匹配：_",
        "“[X2]”能回答“[X1]”吗？回答：_。",
        "回答：_。“[X2]”是“[X1]”的有效回答吗？",
    ),
    # Reading comprehension (Table 12)
    ("MRC", "en", 2): (
        "Corpus: [X1] Question: [X2] Answer: _.",
        "[X1] Based on the text above, [X2] _",
        "Read the passage and answer the question. Passage: [X1] Question: [X2] The answer is _.",
        "Answer: _. Corpus: [X1] Question: [X2]",
    ),
    ("MRC", "zh", 2): (
        "文章：[X1] 问题：[X2] 回答：_。",
        "[X1] 根据上文回答：[X2] 答案是_。",
        "阅读下面的文章并回答问题。文章：[X1] 问题：[X2] 回答：_",
        "回答：_。文章：[X1] 问题：[X2]",
    ),
    ("QA", "en", 2): (
        "Passage: [X1] Question: [X2] Answer: _",
        "[X1] [X2] The correct option is _.",
        "Read the passage and choose the best answer. [X1] Question: [X2] Answer: _.",
        "Answer: _. Passage: [X1] Question: [X2]",
    ),
    ("QA", "en", 1): (
        "Question: [X] Answer: _",
        "[X] The answer is _.",
        "Choose the correct answer. [X] Answer: _.",
        "The answer is _. Question: [X]",
    ),
    # Winograd schema (Table 15): X1 the text, X2 the pronoun
    ("WSC", "en", 2): (
        "In the sentence: [X1], what does the pronoun [X2] refer to? Answer: _.",
        "[X1] Here, [X2] refers to _.",
        'Text: [X1] Pronoun: "[X2]" Referent: _',
        'In "[X1]", the pronoun "[X2]" refers to _ in this sentence.',
    ),
    ("WSC", "zh", 2): (
        "对于句子：[X1] 代词：[X2] 指代的是什么？回答：_。",
        "[X1] 其中，[X2]指的是_。",
        "文本：[X1] 代词：“[X2]” 指代：_",
        "在“[X1]”中，代词“[X2]”指的是_这个对象。",
    ),
    # Named entities (Table 16): X1 the text, X2 the entity type
    ("NER", "en", 2): (
        "Text from {topic}: Which words of [X1] belong to [X2]? Answer: _.",
        "Answer: _. Text from {topic}: [X1]. Which parts make up the entities of the [X2] category?",
        "[X1] List every [X2] mentioned above: _",
    ),
    ("NER", "zh", 2): (
        "{topic}文本：[X1]中有哪些属于[X2]？回答：_。",
        "回答：_。文本：[X1] {topic}文本中的[X2]类别的实体是由哪些部分构成的？",
        "[X1] 上文提到的[X2]有：_",
    ),
    # Summarisation (Table 17)
    ("SUMM", "en", 1): (
        "[X], A summary of this {topic}: _.",
        "Text: [X] Summary: _",
        "Summarize the following {topic} in one sentence. [X] Summary: _",
        "Summary: _. Full {topic}: [X]",
    ),
    ("SUMM", "zh", 1): (
        "[X]，这个{topic}的摘要为：_。",
        "文本：[X] 摘要：_",
        "用一句话概括下面的{topic}。[X] 概括：_",
        "摘要：_。{topic}全文：[X]",
    ),
    ("KEYS", "en", 1): (
        "[X] The keywords of this text are _.",
        "Text: [X] Keywords: _",
        "Which words of the following text matter most? _. Text: [X]",
    ),
    ("KEYS", "zh", 1): (
        "[X] 这段文本的关键词是_。",
        "文本：[X] 关键词：_",
        "下面这段文本中最重要的词是什么？_。文本：[X]",
    ),
    ("APP", "en", 1): (
        "[X] This app is about _.",
        "App description: [X] Category: _",
        "Which type of app is described here? _. [X]",
    ),
    ("APP", "zh", 1): (
        "[X] 这是一款_类的应用。",
        "应用介绍：[X] 类别：_",
        "下面介绍的是哪一类应用？_。介绍：[X]",
    ),
}

# Types whose BIG-bench and user tasks come as one text: generic single-input prompts.
_GENERIC_CLASSIFICATION = {
    "en": ("{task}[X]\nAnswer: _", "{task}Input: [X] Output: _", "[X]\nThe answer is _."),
    "zh": ("{task}[X]\n回答：_。", "{task}输入：[X] 输出：_", "[X]\n答案是_。"),
}
_GENERIC_GENERATION = {
    "en": ("{task}[X]\nAnswer: _", "{task}Input: [X]\nOutput: _", "[X]\nResponse: _"),
    "zh": ("{task}[X]\n回答：_", "{task}输入：[X]\n输出：_", "[X]\n回复：_"),
}
_DEFAULT_TOPIC = {"en": "text", "zh": "文本"}


def sanitize_instruction(text: str, *, max_chars: int = 300) -> str:
    """Make free text (a task description) safe inside a template: no blank, placeholders or span marks."""
    text = " ".join(str(text).replace("{{", "{ {").replace("}}", "} }").split())
    if not text or len(text) > max_chars:
        return ""
    text = PLACEHOLDER.sub(lambda m: m.group(1), text)
    return BLANK.sub("__", text)


def prompts_for(
    task_type: str,
    language: str,
    fields: Sequence[str],
    *,
    topic: str = "",
    instruction: str = "",
    generation: bool = False,
) -> tuple[str, ...]:
    """The handcrafted prompts of a task type, filled with ``topic`` and ``instruction``.

    Falls back to English for languages without prompts of their own, and to
    generic single-input prompts for types without templates. ``instruction`` (a
    sanitised task description) heads the generic prompts, as the paper's task
    description D does.
    """
    lang = language if language in ("en", "zh") else "en"
    topic = topic or _DEFAULT_TOPIC[lang]
    templates = _T.get((task_type, lang, len(fields)))
    if templates is None and len(fields) == 1:
        generic = _GENERIC_GENERATION if generation else _GENERIC_CLASSIFICATION
        head = sanitize_instruction(instruction)
        head = f"{head}\n" if head else ""
        templates = tuple(t.replace("{task}", head) for t in generic[lang])
    if templates is None:
        raise DataError(
            f"no built-in prompts for type {task_type!r} with {len(fields)} inputs; give the task its own prompts"
        )
    out = []
    for template in templates:
        text = template.replace("{topic_cap}", topic[:1].upper() + topic[1:]).replace("{topic}", topic)
        if len(fields) == 1:
            text = text.replace("[X1]", "[X]")
        if not template_problems(text, list(fields)):
            out.append(text)
    if len(out) < 3:
        raise DataError(f"fewer than 3 valid prompts for {task_type}/{language}/{list(fields)}; check the instruction")
    return tuple(dict.fromkeys(out))


def has_templates(task_type: str, language: str, field_count: int) -> bool:
    return (task_type, language, field_count) in _T


def task_instruction(text: str, language: str) -> str:
    """A task's own description made fit to lead its prompts; empty if it would mix languages."""
    from zp_datasets.bigbench_index import script_of

    text = sanitize_instruction(text)
    if language == "zh" and script_of(text) != "han":
        return ""  # an English instruction would turn a Chinese prompt bilingual
    return text


def task_prompts(kind: str, language: str, instruction: str, generation: bool) -> tuple[str, ...]:
    """Handcrafted prompts of a catalogued task with one input ``X``: its type's, or generic ones.

    The type's basic prompts come first, plus one carrying the task's own
    description (paper 3.3); types without templates get the generic ``GEN`` prompts.
    """
    generic = prompts_for("GEN", language, ("X",), instruction=instruction, generation=generation)
    if has_templates(kind, language if language in ("en", "zh") else "en", 1):
        typed = prompts_for(kind, language, ("X",), generation=generation)
        return typed + (generic[:1] if instruction else ())
    return generic
