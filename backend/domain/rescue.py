"""The insurer-first checklist of an incident on the mountain: when it opens, its four steps in
order, and what each records. Pure rules, no I/O: `backend.services.incident_rescue` keeps the
steps on the incident's timeline.

A CRITICAL incident whose words mention an evacuation, a helicopter, altitude sickness (AMS,
HAPE, HACE) or an injury opens it. Travel insurers pay for a helicopter only when their
assistance team was called first and gave a case number: "evacuation arranged" before
"insurer called" is refused unless someone writes why a life could not wait
(`OVERRIDE_MIN_CHARS`), and the reason is kept for the claim.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from backend.domain.enums import Severity

INSURER_CALLED = "insurer_called"
EVACUATION_ARRANGED = "evacuation_arranged"
HOSPITAL = "hospital"
FAMILY_INFORMED = "family_informed"


@dataclass(frozen=True)
class Step:
    code: str  # the URL's and the form's name
    label: str  # what staff read
    needs: tuple[str, ...]  # content fields that must be given
    may: tuple[str, ...] = ()  # content fields that may be given


# In this order: the insurer first (their case number opens everything else).
STEPS: tuple[Step, ...] = (
    Step(INSURER_CALLED, "Insurer called, case number recorded", ("case",), ("insurer", "note")),
    Step(EVACUATION_ARRANGED, "Evacuation arranged", ("provider", "at"), ("note", "override")),
    Step(HOSPITAL, "Hospital", ("hospital",), ("note",)),
    Step(FAMILY_INFORMED, "Family informed", (), ("contact", "note")),
)
BY_CODE = {s.code: s for s in STEPS}
# The longest a recorded value may be (a case number, a provider's name, a note).
LIMITS = {"case": 60, "insurer": 120, "provider": 120, "hospital": 160, "contact": 160}
NOTE_LIMIT = 1000
OVERRIDE_MIN_CHARS = 10

OVERRIDE_LIMIT = 500
WORDS = {
    "case": "insurer's case number",
    "insurer": "insurer",
    "provider": "evacuation provider",
    "at": "time of the evacuation",
    "hospital": "hospital's name",
    "contact": "family member told",
    "note": "note",
    "override": "override reason",
}

# An evacuation, a helicopter, altitude sickness or an injury, as guides write them.
_WORDS = re.compile(
    r"\b("
    r"evacuat\w*|evac|medevac|heli|helis|helicopters?|heli-?rescue|"
    r"altitude sickness|mountain sickness|acute mountain sickness|ams|hape|hace|"
    r"injur\w*|fractur\w*|broken|broke|fell|falls?|fallen"
    r")\b",
    re.IGNORECASE,
)


def rescue_words(texts: Iterable[str | None]) -> list[str]:
    """The words of an evacuation, helicopter, altitude sickness or injury in `texts`, in lower
    case, each once, in the order they first appear."""
    found: list[str] = []
    for text in texts:
        for match in _WORDS.finditer(text or ""):
            word = match.group(1).lower()
            if word not in found:
                found.append(word)
    return found


def opens_checklist(severity: str, texts: Iterable[str | None]) -> list[str]:
    """The words that open the checklist: none unless the incident is CRITICAL."""
    if severity != Severity.CRITICAL:
        return []
    return rescue_words(texts)


class StepIncomplete(ValueError):
    """A step without what it needs, or with a value too long: the message says which."""


class InsurerFirst(ValueError):
    """The evacuation before the insurer's case number, and no reason why it could not wait."""


def check_step(
    code: str, given: Mapping[str, str | None], *, insurer_called: bool
) -> dict[str, str]:
    """The step's content, cleaned (empty values dropped, lengths checked); StepIncomplete or
    InsurerFirst with a sentence for the person recording it. `at` must already be a time in
    words."""
    step = BY_CODE.get(code)
    if step is None:
        raise StepIncomplete(
            f"No such step {code!r}: the steps are " + ", ".join(s.code for s in STEPS)
        )
    content: dict[str, str] = {}
    for name in (*step.needs, *step.may):
        value = (given.get(name) or "").strip()
        if not value:
            continue
        limit = OVERRIDE_LIMIT if name == "override" else LIMITS.get(name, NOTE_LIMIT)
        if len(value) > limit:
            raise StepIncomplete(
                f"The {WORDS.get(name, name)} is too long (at most {limit} characters)"
            )
        content[name] = value
    missing = [WORDS.get(n, n) for n in step.needs if n not in content]
    if missing:
        raise StepIncomplete(f"{step.label}: give the {' and the '.join(missing)}")
    if code == EVACUATION_ARRANGED and not insurer_called:
        reason = content.get("override", "")
        if len(reason) < OVERRIDE_MIN_CHARS:
            raise InsurerFirst(
                "Call the insurer's 24-hour assistance team first and record their case "
                "number: insurers pay for a helicopter only when they were called before it "
                "was arranged. If a life cannot wait, write why in the override reason; it "
                "goes into the incident dossier for the claim."
            )
    elif "override" in content:
        del content["override"]  # the insurer was called: nothing to override
    return content
