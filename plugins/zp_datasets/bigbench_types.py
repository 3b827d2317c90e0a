"""Task type and language of a BIG-bench task, from its name and keywords.

The paper's types come first (SENTI, INTENT, NLI, PARA, MRC, SUMM, WSC, QA...),
then the types BIG-bench brings (MATH, CODE, TRANS, NLG, LING, BIAS, FACT, SARC,
QG, REASON). The rules are checked in order; the first that matches wins.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

#: Name patterns checked before keywords (the path is ``task`` or ``task/subtask``).
NAME_RULES: tuple[tuple[str, str], ...] = (
    (r"^intent_recognition", "INTENT"),
    (r"^(multiemo|social_support|emojis_emotion_prediction)", "SENTI"),
    (r"^(irony_identification|snarks|dark_humor_detection)", "SARC"),
    (r"^(winowhy|disambiguation_qa)|winogrande_answer|pronoun", "WSC"),
    (r"nli|entail|^vitaminc|^epistemic_reasoning|^presuppositions", "NLI"),
    (r"^fact_checker|^misconceptions", "FACT"),
    (r"^gem/(xsum|wikilingua|mlsum)", "SUMM"),
    (r"^gem/(asset|turk)|paraphras|^rephrase", "PARA"),
    (r"^gem/|^few_shot_nlg|^topical_chat", "NLG"),
    (r"question_generation|_question_modification|winogrande_full", "QG"),
    (r"wrong_answer|incorrect_(answer|option)", "GEN"),
    (r"answer_generation|question_answering$|answering_science|correct_answer_single|write_correct_answer"
     r"|^parsinlu_reading|^disfl_qa|^bridging_anaphora", "MRC"),
    (r"^(list_functions|mult_data_wrangling|semantic_parsing|simp_turing|cs_algorithms|auto_debugging|code_line)", "CODE"),
    (r"^(linguistic_mappings|linguistics_puzzles|word_unscrambling|word_sorting|hyperbaton|tense|common_morpheme)", "LING"),
    (r"^(bbq_lite_json|unqover|gender_inclusive)", "BIAS"),
)

#: Keyword rules, in order: (keywords any of, type).
KEYWORD_RULES: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"summarization"}), "SUMM"),
    (frozenset({"translation"}), "TRANS"),
    (frozenset({"social bias", "racial bias", "gender bias", "religious bias", "political bias"}), "BIAS"),
    (frozenset({"mathematics", "arithmetic", "algebra", "mathematical proof"}), "MATH"),
    (frozenset({"computer code", "algorithms"}), "CODE"),
    (frozenset({"reading comprehension", "contextual question-answering"}), "MRC"),
    (frozenset({"truthfulness"}), "FACT"),
    (frozenset({"logical reasoning", "common sense", "causal reasoning", "social reasoning",
                "analogical reasoning", "implicit reasoning", "theory of mind"}), "REASON"),
    (frozenset({"context-free question answering"}), "QA"),
)

#: Types whose multiple-choice (or classification) form reads better as QA when the
#: keyword rule was about the skill rather than the format.
_GENERATIVE_ONLY = {"SUMM", "NLG", "QG", "PARA"}

LANGUAGE_CODES = {"de", "en", "es", "fr", "it", "ja", "nl", "pl", "pt", "ru", "zh"}
SCRIPT_LANGUAGE = {"han": "zh", "kana": "ja", "hangul": "ko", "cyrillic": "ru", "indic": "hi"}
_NON_ENGLISH = {"non-English", "multilingual", "low-resource language"}


def task_type(entry: Mapping[str, Any]) -> str:
    """The type of an index entry (see :mod:`zp_datasets.bigbench_index`)."""
    path = entry["path"]
    keywords = set(entry.get("keywords") or [])
    generative = not entry.get("multiple_choice")
    for pattern, kind in NAME_RULES:
        if re.search(pattern, path):
            if kind in _GENERATIVE_ONLY and not generative:
                continue
            return kind
    for words, kind in KEYWORD_RULES:
        if keywords & words:
            if kind in _GENERATIVE_ONLY and not generative:
                continue
            if kind == "MRC" and not generative:
                return "QA"  # options to pick from, not a span to write
            return kind
    return "GEN" if generative else "QA"


def task_language(entry: Mapping[str, Any]) -> str:
    """``en``, ``zh``..., or ``mul`` for multilingual and non-English Latin-script tasks."""
    path = entry["path"]
    suffix = re.search(r"_([a-z]{2})$", path)
    if suffix and suffix.group(1) in LANGUAGE_CODES and "/" in path:
        return suffix.group(1)
    script = entry.get("script", "latin")
    if script in SCRIPT_LANGUAGE:
        return SCRIPT_LANGUAGE[script]
    if script == "arabic":
        return "fa" if re.search(r"persian|parsinlu", path) else "mul"
    if set(entry.get("keywords") or []) & _NON_ENGLISH:
        return "mul"
    return "en"


def long_answers(entry: Mapping[str, Any]) -> bool:
    """Free-text answers (ROUGE) rather than short ones (string F1)."""
    return float(entry.get("mean_target_words", 0.0)) > 5.0
