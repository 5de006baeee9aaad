"""Incident severity (ISSUE) and verdicts on guides' updates (UPDATE), by rules staff can edit.

The vocabulary lives in `incident_rules.yml`. This module holds only the mechanics: a message
is read in clauses, phrases are matched with a small, predictable typo tolerance, and every
match is checked for a negation shortly before it (or an "anymore" just after it) and for
doubt in its clause.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

import yaml

from backend.domain.enums import Severity

RULES_FILE = Path(__file__).with_name("incident_rules.yml")

# A negation reaches a term when it is among the 3 words before it ("did not get injured",
# "has not yet arrived"); further away it is usually about something else.
NEGATION_WINDOW = 3
# One-edit typos are read only on long words: short ones collide with real words one letter
# away (fever/never, fixed/mixed, worse/horse).
TYPO_MIN_RULE_WORD = 6
TYPO_MIN_MESSAGE_WORD = 5

SEVERITY_LEVELS: tuple[Severity, ...] = (
    Severity.LOW,
    Severity.MEDIUM,
    Severity.HIGH,
    Severity.CRITICAL,
)

# Kinds of match, named after the sections of the rules file.
RESOLVED = "resolved"
STILL_GOING = "still_going"
IN_PROGRESS = "in_progress"
DOUBT = "doubt"
NEGATION = "negation"
ENDED = "ended"

PHRASE_LISTS = (RESOLVED, STILL_GOING, IN_PROGRESS, DOUBT, NEGATION, ENDED)
WORD_SETS = ("clause_breaks", "filler", "not_typos")

Phrase = tuple[str, ...]


class UpdateVerdict(StrEnum):
    """What a guide's UPDATE says about the incident."""

    RESOLVED = "RESOLVED"
    NOT_RESOLVED = "NOT_RESOLVED"
    UNCLEAR = "UNCLEAR"


class RulesError(ValueError):
    """The rules file cannot be used as written."""


@dataclass(frozen=True)
class IncidentRules:
    """The vocabulary of the rules file, each entry split into words."""

    severity: Mapping[Severity, tuple[Phrase, ...]]
    phrases: Mapping[str, tuple[Phrase, ...]]
    clause_breaks: frozenset[str]
    filler: frozenset[str]
    not_typos: frozenset[str]
    misspellings: Mapping[str, Phrase]
    known_words: frozenset[str]

    def update_vocabulary(self) -> list[tuple[str, tuple[Phrase, ...]]]:
        """Kinds read in an UPDATE; on a tie the safer kind comes first."""
        return [(kind, self.phrases[kind]) for kind in (DOUBT, STILL_GOING, IN_PROGRESS, RESOLVED)]

    def severity_vocabulary(self) -> list[tuple[str, tuple[Phrase, ...]]]:
        """Kinds read in an ISSUE: doubt (only so it owns its "not"), then the most severe."""
        levels = [(str(level), self.severity[level]) for level in reversed(SEVERITY_LEVELS[1:])]
        return [(DOUBT, self.phrases[DOUBT]), *levels]

    def negation_vocabulary(self) -> list[tuple[str, tuple[Phrase, ...]]]:
        """Words that turn a term around; "no longer" before "no" when both fit."""
        return [(ENDED, self.phrases[ENDED]), (NEGATION, self.phrases[NEGATION])]


class _WordsLoader(yaml.SafeLoader):
    """Reads every plain value as text: `no`, `on` and `off` are words here, not booleans."""


_WordsLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _phrase(entry: object, where: str) -> Phrase:
    if not isinstance(entry, str) or not entry.split():
        raise RulesError(f"{where}: {entry!r} is not a word or phrase")
    return tuple(entry.lower().split())


def _phrases(raw: object, where: str) -> tuple[Phrase, ...]:
    if not isinstance(raw, list) or not raw:
        raise RulesError(f"{where}: expected a non-empty list of words")
    return tuple(_phrase(entry, where) for entry in raw)


@cache
def load_rules(path: Path = RULES_FILE) -> IncidentRules:
    """The rules file, parsed once; RulesError names the section that is wrong."""
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_WordsLoader)
    if not isinstance(raw, dict):
        raise RulesError(f"{path.name}: expected sections such as `severity:` and `resolved:`")
    missing = {"severity", "misspellings", *PHRASE_LISTS, *WORD_SETS} - raw.keys()
    if missing:
        raise RulesError(f"{path.name}: missing sections {sorted(missing)}")

    levels = raw["severity"]
    if not isinstance(levels, dict) or set(levels) != {str(s) for s in SEVERITY_LEVELS[1:]}:
        raise RulesError(f"{path.name}: severity needs exactly CRITICAL, HIGH and MEDIUM")
    severity = {
        Severity(name): _phrases(entries, f"severity.{name}") for name, entries in levels.items()
    }
    phrases = {kind: _phrases(raw[kind], kind) for kind in PHRASE_LISTS}
    sets = {name: frozenset(" ".join(p) for p in _phrases(raw[name], name)) for name in WORD_SETS}

    typos = raw["misspellings"]
    if not isinstance(typos, dict) or not typos:
        raise RulesError(f"{path.name}: misspellings needs `typo: meant word` lines")
    misspellings = {
        str(typo).lower(): _phrase(meant, f"misspellings.{typo}") for typo, meant in typos.items()
    }

    # Words the rules name outright are never read as a typo of another listed word.
    listed = [*phrases.values(), *severity.values(), tuple(misspellings.values())]
    known = {word for group in listed for phrase in group for word in phrase if "*" not in word}
    known |= sets["clause_breaks"] | sets["filler"] | sets["not_typos"]

    return IncidentRules(
        severity=severity,
        phrases=phrases,
        clause_breaks=sets["clause_breaks"],
        filler=sets["filler"],
        not_typos=sets["not_typos"],
        misspellings=misspellings,
        known_words=frozenset(known),
    )


@dataclass(frozen=True)
class _Clause:
    words: tuple[str, ...]
    question: bool


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    kind: str
    typos: int
    rank: int


_TOKEN = re.compile(
    r"(?P<word>[a-z0-9]+(?:'[a-z]+)*)"
    r"|(?P<stop>[.!?;,\n]+|\s[-–—]+(?=\s)|[–—]+)"
    r"|(?P<other>\S)"
)


def _clauses(text: str, rules: IncidentRules) -> list[_Clause]:
    """The message as clauses of lower-case words (misspellings mended, filler dropped)."""
    normal = unicodedata.normalize("NFKC", text or "").lower()
    normal = normal.replace("’", "'").replace("‘", "'").replace("❓", "?").replace("❔", "?")
    clauses: list[_Clause] = []
    words: list[str] = []

    def close(question: bool) -> None:
        if words:
            clauses.append(_Clause(tuple(words), question))
            words.clear()

    for token in _TOKEN.finditer(normal):
        if token["stop"]:
            close("?" in token["stop"])
        elif token["word"]:
            for word in rules.misspellings.get(token["word"], (token["word"],)):
                if word in rules.clause_breaks:
                    close(False)
                elif word not in rules.filler:
                    words.append(word)
        elif unicodedata.category(token["other"]).startswith("S"):
            words.append(token["other"])  # emoji such as 🤞 can be listed in the rules
    close(False)
    return clauses


def _one_edit_apart(a: str, b: str) -> bool:
    """One letter replaced, added, dropped, or two neighbours swapped."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        i, j = diff[0], diff[-1]
        return len(diff) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long = sorted((a, b), key=len)
    i = next((k for k, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), len(short))
    return short[i:] == long[i + 1 :]


def _word_fits(pattern: str, word: str, rules: IncidentRules, typos: bool) -> int | None:
    """0 when `word` is `pattern` (or fits its * wildcard), 1 when it is a typo of it."""
    if len(pattern) > 1 and pattern.endswith("*"):
        return 0 if word.startswith(pattern[:-1]) else None
    if len(pattern) > 1 and pattern.startswith("*"):
        return 0 if word.endswith(pattern[1:]) else None
    if word == pattern:
        return 0
    if (
        typos
        and len(pattern) >= TYPO_MIN_RULE_WORD
        and len(word) >= TYPO_MIN_MESSAGE_WORD
        and word.isalpha()
        and word not in rules.known_words
        and _one_edit_apart(pattern, word)
    ):
        return 1
    return None


def _typos_in(
    phrase: Phrase, words: Sequence[str], rules: IncidentRules, typos: bool
) -> int | None:
    """How many typos the words hold if they are the phrase; None if they are not."""
    count = 0
    for pattern, word in zip(phrase, words, strict=True):
        fit = _word_fits(pattern, word, rules, typos)
        if fit is None:
            return None
        count += fit
    return count


def _find(
    words: Sequence[str],
    vocabulary: Sequence[tuple[str, tuple[Phrase, ...]]],
    rules: IncidentRules,
    typos: bool = True,
) -> list[_Match]:
    """Phrases found in the words, none overlapping: the longest first, then the exact."""
    found: list[_Match] = []
    for rank, (kind, phrases) in enumerate(vocabulary):
        for phrase in phrases:
            for start in range(len(words) - len(phrase) + 1):
                end = start + len(phrase)
                count = _typos_in(phrase, words[start:end], rules, typos)
                if count is not None:
                    found.append(_Match(start, end, kind, count, rank))
    found.sort(key=lambda m: (m.start - m.end, m.typos, m.start, m.rank))
    taken: list[_Match] = []
    used: set[int] = set()
    for match in found:
        span = set(range(match.start, match.end))
        if not span & used:
            taken.append(match)
            used |= span
    return sorted(taken, key=lambda m: m.start)


def _negations(words: Sequence[str], terms: Sequence[_Match], rules: IncidentRules) -> list[_Match]:
    """Negation words of the clause, less those inside a phrase that owns them."""
    # "no problems", "not sure", "not feeling well" say something of their own; a still-going
    # phrase does not own its "not", which still reaches on ("not yet arrived").
    owned = {
        i
        for term in terms
        if term.kind not in (STILL_GOING, IN_PROGRESS)
        for i in range(term.start, term.end)
    }
    return [
        neg
        for neg in _find(words, rules.negation_vocabulary(), rules, typos=False)
        if not owned & set(range(neg.start, neg.end))
    ]


def _negated_by(term: _Match, negations: Sequence[_Match]) -> str | None:
    """ENDED ("no longer stuck"), NEGATION ("not arrived") or None."""
    found = None
    for neg in negations:
        before = term.start - NEGATION_WINDOW < neg.end <= term.start
        after = neg.kind == ENDED and term.end <= neg.start < term.end + NEGATION_WINDOW
        if before or after:
            if neg.kind == ENDED:
                return ENDED
            found = NEGATION
    return found


def assess_update(text: str) -> UpdateVerdict:
    """RESOLVED only when the text clearly says the problem is over, with no doubt anywhere;
    NOT_RESOLVED when it clearly says the problem goes on (or got worse) and nothing says it
    is over; UNCLEAR when it is mixed, doubtful or says neither."""
    rules = load_rules()
    resolved = going = doubt = False
    for clause in _clauses(text, rules):
        terms = _find(clause.words, rules.update_vocabulary(), rules)
        if any(t.kind == DOUBT for t in terms) or (clause.question and terms):
            doubt = True
            continue
        negations = _negations(clause.words, terms, rules)
        for term in terms:
            negated = _negated_by(term, negations)
            if term.kind == RESOLVED:
                going = going or negated is not None
                resolved = resolved or negated is None
            elif term.kind == STILL_GOING:
                # "no longer stuck" says it is over; "not stuck" alone says too little.
                resolved = resolved or negated == ENDED
                going = going or negated is None
            elif term.kind == IN_PROGRESS:
                going = going or negated is not None
                doubt = doubt or negated is None
    if resolved and not going and not doubt:
        return UpdateVerdict.RESOLVED
    if going and not resolved:
        return UpdateVerdict.NOT_RESOLVED
    return UpdateVerdict.UNCLEAR


def says_resolved(text: str) -> bool:
    """Whether a guide's UPDATE clearly says the problem is over."""
    return assess_update(text) == UpdateVerdict.RESOLVED


def classify_severity(text: str) -> Severity:
    """The most severe level named by a word that is not negated; LOW when there is none."""
    rules = load_rules()
    rank = {str(level): i for i, level in enumerate(SEVERITY_LEVELS)}
    worst = 0
    for clause in _clauses(text, rules):
        terms = _find(clause.words, rules.severity_vocabulary(), rules)
        negations = _negations(clause.words, terms, rules)
        for term in terms:
            if term.kind in rank and _negated_by(term, negations) is None:
                worst = max(worst, rank[term.kind])
    return SEVERITY_LEVELS[worst]
