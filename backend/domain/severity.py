"""Incident severity from the guide's words, by rules staff can read and change."""

from __future__ import annotations

import re

from backend.domain.enums import Severity

# Checked from the most severe down; the first rule that matches wins.
SEVERITY_RULES: list[tuple[Severity, tuple[str, ...]]] = [
    (
        Severity.CRITICAL,
        (
            r"evacuat\w*",
            r"injur\w*",
            r"unconscious",
            r"fractur\w*",
            r"broken (leg|arm|bone)",
            r"missing (guest|person|trekker)",
            r"death|died|fatal",
            r"avalanche",
            r"heli(copter)? rescue",
        ),
    ),
    (
        Severity.HIGH,
        (
            r"break ?down",
            r"broke down",
            r"strand\w*",
            r"engine failure",
            r"accident",
            r"road (closed|blocked)",
            r"landslide",
            r"flight cancel\w*",
            r"lost (passport|luggage)",
        ),
    ),
    (
        Severity.MEDIUM,
        (
            r"sick\w*",
            r"altitude",
            r"\bams\b",
            r"ill(ness)?\b",
            r"vomit\w*",
            r"fever",
            r"headache",
            r"nause\w*",
            r"diarrh\w*",
            r"symptom\w*",
        ),
    ),
]

RESOLVED_PATTERN = re.compile(
    r"\b(resolved|all good|fixed|sorted|back on track|resuming|arrived|recovered|safe now|closed)\b",
    re.IGNORECASE,
)


def classify_severity(text: str) -> Severity:
    lowered = (text or "").lower()
    for severity, patterns in SEVERITY_RULES:
        if any(re.search(p, lowered) for p in patterns):
            return severity
    return Severity.LOW


def says_resolved(text: str) -> bool:
    """Whether a guide's UPDATE says the problem is over."""
    return bool(RESOLVED_PATTERN.search(text or ""))
