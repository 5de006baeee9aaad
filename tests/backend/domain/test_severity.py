import pytest

from backend.domain.enums import Severity
from backend.domain.severity import classify_severity, says_resolved


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        (
            "Vehicle breakdown at Pokhara checkpoint. Engine failure. 15 guests waiting.",
            Severity.HIGH,
        ),
        ("Group stranded by snow at Thorong La", Severity.HIGH),
        ("One guest showing altitude sickness symptoms. Monitoring closely.", Severity.MEDIUM),
        ("Guest feeling sick after lunch", Severity.MEDIUM),
        ("Need helicopter evacuation for a guest now", Severity.CRITICAL),
        ("Porter injured his ankle on the descent", Severity.CRITICAL),
        ("Tea house ran out of hot water", Severity.LOW),
    ],
)
def test_severity_rules(text, severity):
    assert classify_severity(text) == severity


def test_the_most_severe_rule_wins():
    assert classify_severity("Bus breakdown and one guest injured") == Severity.CRITICAL


@pytest.mark.parametrize(
    ("text", "resolved"),
    [
        ("Backup vehicle arrived. Guests transferred. Resuming journey. All good!", True),
        ("Issue resolved", True),
        ("Still waiting for the mechanic", False),
    ],
)
def test_update_text_says_resolved(text, resolved):
    assert says_resolved(text) is resolved
