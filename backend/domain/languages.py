"""The languages customers are answered in, the ones recognised but not spoken, and how a
customer asks for one ("English please", "auf Deutsch bitte").

A contact's language is an ISO 639-1 code; English is the default and what a customer whose
language the product does not speak is answered in (with a person told)."""

from __future__ import annotations

import re

ENGLISH = "en"
# Spoken: understood (training data in data/nlu/) and answered (backend/locale/ catalogues).
SPOKEN = ("en", "de", "fr", "es")

# Every language the detector may name, in English for staff (the console, alerts). The
# spoken ones plus those travellers to Nepal often write: recognised so that a message in one
# of them reaches a person rather than a wrong guess.
NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "pl": "Polish",
    "ru": "Russian",
    "he": "Hebrew",
    "hi": "Hindi",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
}

_PLEASE = r"(?:please|pls|plz|bitte|s'il (?:vous|te) pla[iî]t|svp|por favor|porfa)"
_SWITCH = {
    "en": r"(?:in\s+)?english|auf\s+englisch|en\s+anglais|en\s+ingl[eé]s",
    "de": r"(?:auf\s+)?deutsch|in\s+german|en\s+allemand|en\s+alem[aá]n",
    "fr": r"(?:en\s+)?fran[cç]ais|in\s+french|auf\s+franz[oö]sisch|en\s+franc[eé]s",
    "es": r"(?:en\s+)?espa[nñ]ol|in\s+spanish|auf\s+spanisch|en\s+espagnol|en\s+castellano",
}
_SWITCH_PATTERNS = {
    code: re.compile(
        rf"^\W*(?:{_PLEASE}\s+)?(?:(?:write|reply|answer|talk|speak)\s+(?:to\s+me\s+)?)?"
        rf"(?:{words})(?:[\s,]+{_PLEASE})?\W*$",
        re.IGNORECASE,
    )
    for code, words in _SWITCH.items()
}


def requested_language(text: str | None) -> str | None:
    """The language a message asks to be answered in, when that is all it says."""
    for code, pattern in _SWITCH_PATTERNS.items():
        if pattern.match(text or ""):
            return code
    return None


def is_spoken(code: str | None) -> bool:
    return code in SPOKEN


def name_of(code: str | None) -> str:
    """The language's English name, for staff."""
    return NAMES.get(code or ENGLISH, code or "English")
