"""Language codes: the ISO 639-1 and 639-3 spellings translators name pairs with."""

from __future__ import annotations

# 639-1 -> 639-3 for the languages the translators here name.
_THREE = {
    "en": "eng", "zh": "zho", "es": "spa", "ca": "cat", "gl": "glg", "eo": "epo", "eu": "eus",
    "is": "isl", "mk": "mkd", "fr": "fra", "de": "deu", "it": "ita", "pt": "por", "ru": "rus",
    "ja": "jpn", "ko": "kor", "nl": "nld", "sv": "swe", "da": "dan", "ar": "ara", "hi": "hin",
}
_TWO = {three: two for two, three in _THREE.items()}
_TWO["cmn"] = "zh"


def codes(language: str) -> tuple[str, ...]:
    """Spellings of ``language``, 2-letter first: ``codes("spa") == ("es", "spa")``."""
    lang = language.lower().replace("_", "-").split("-")[0]
    two = lang if len(lang) == 2 else _TWO.get(lang, "")
    three = _THREE.get(lang, lang) if len(lang) == 2 else lang
    return tuple(dict.fromkeys(c for c in (two, three) if c))


def two_letter(language: str) -> str:
    """The 639-1 code when there is one (``spa`` -> ``es``), else the code as given."""
    return codes(language)[0]


def is_english(language: str) -> bool:
    return codes(language)[-1] == "eng"
