"""The registry of timeline actions (backend/domain/timeline_actions.py): every code the
product writes is declared there once, with a sentence staff can read whatever the event holds,
and its keys never overlap (the access table is read from it)."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

from backend.domain import access, states, timeline_actions
from backend.domain.enums import ObjectType
from backend.domain.timeline_actions import (
    ACTIONS,
    FORMATS,
    SPECIAL_FIELDS,
    action_for,
    sentence,
    template_fields,
)
from tests.backend.event_kinds import KINDS

ROOT = Path(__file__).resolve().parents[3]

# "tms." strings that are not action codes: the signed links' salts, the SQLite file's name.
NOT_ACTIONS = ("tms.link.", "tms.sqlite3")

# f-strings whose start no prefix entry covers, and the codes they build (checked below).
# A new one fails `test_every_code_the_code_writes_is_declared`: declare a prefix entry for
# it, or list here what it builds.
BUILT_AT_RUN_TIME = {
    # backend/domain/states.py, backend/services/state.py: state changes and creations
    # (`test_every_state_change_and_creation_has_its_sentence`).
    "tms.": (),
    # backend/services/consent.py `_record(..., what, ...)`.
    "tms.contact.": ("tms.contact.opted_in", "tms.contact.opted_out"),
}

# Helpers that build a code from their argument: (file, helper, argument index, prefix).
HELPERS = [
    ("backend/services/staff.py", "_record", 2, "tms.staff."),
    ("backend/services/staff_auth.py", "_record", 2, "tms.staff."),
    ("backend/services/consent.py", "_record", 2, "tms.contact."),
]

CREATED = (
    ObjectType.LEAD,
    ObjectType.BOOKING,
    ObjectType.HOLD,
    ObjectType.WAITLIST_ENTRY,
    ObjectType.TRIP,
    ObjectType.ASSIGNMENT,
    ObjectType.ATTENDANCE,
    ObjectType.INCIDENT,
)


def _sources() -> list[Path]:
    """The code that writes action codes (the registry, which declares them, aside)."""
    registry = Path(timeline_actions.__file__).resolve()
    return [
        path
        for folder in ("backend", "actions")
        for path in (ROOT / folder).rglob("*.py")
        if path.resolve() != registry
    ]


def _not_an_action(code: str) -> bool:
    return code.startswith(NOT_ACTIONS)


def _scan() -> tuple[set[str], set[str]]:
    """(literal codes, f-string prefixes) starting with "tms." in backend/ and actions/."""
    literals: set[str] = set()
    prefixes: set[str] = set()
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        fstrings = [node for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)]
        parts = {id(part) for node in fstrings for part in node.values}
        for node in fstrings:
            head = node.values[0] if node.values else None
            if isinstance(head, ast.Constant) and str(head.value).startswith("tms."):
                prefixes.add(str(head.value))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith("tms.")
                and id(node) not in parts
            ):
                literals.add(node.value)
    return (
        {c for c in literals if not _not_an_action(c)},
        {p for p in prefixes if not _not_an_action(p)},
    )


def _helper_codes() -> set[str]:
    found: set[str] = set()
    for file, helper, index, prefix in HELPERS:
        calls = [
            node
            for node in ast.walk(ast.parse((ROOT / file).read_text(encoding="utf-8")))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == helper
            and len(node.args) > index
        ]
        names = [c.args[index] for c in calls]
        assert names, f"{file}: no {helper}(...) calls any more: update HELPERS"
        for arg in names:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(prefix + arg.value)
            elif isinstance(arg, ast.IfExp):  # `"available" if available else "away"`
                found |= {
                    prefix + v.value for v in (arg.body, arg.orelse) if isinstance(v, ast.Constant)
                }
    return found


def _undeclared(code: str) -> str | None:
    """Why `code` is not declared (None: it is, with its own sentence)."""
    entry = action_for(code)
    if entry is None:
        return "no entry covers it"
    if entry.is_prefix and code[len(entry.code) :] not in entry.by_suffix:
        return f"{entry.code!r} has no sentence for {code[len(entry.code) :]!r} (by_suffix)"
    return None


def _missing(codes: Iterable[str]) -> dict[str, str]:
    found = {code: _undeclared(code) for code in codes}
    return {code: why for code, why in found.items() if why}


def test_every_code_the_code_writes_is_declared():
    literals, prefixes = _scan()
    assert len(literals) > 40 and prefixes  # the scan found the code
    missing = _missing(literals | _helper_codes())
    assert missing == {}, "declare them in backend/domain/timeline_actions.py"
    uncovered = [
        p
        for p in prefixes
        if not any(a.is_prefix and p.startswith(a.code) for a in ACTIONS)
        and p not in BUILT_AT_RUN_TIME
    ]
    assert uncovered == [], "a prefix entry in the registry, or BUILT_AT_RUN_TIME here"
    built = [c for codes in BUILT_AT_RUN_TIME.values() for c in codes]
    assert _missing(built) == {}


def _state_changes() -> set[str]:
    machines = [v for v in vars(states).values() if isinstance(v, states.StateMachine)]
    return {
        f"{m.action_prefix}.{state.lower()}"
        for m in machines
        for state in {s for targets in m.transitions.values() for s in targets}
    }


def test_every_state_change_and_creation_has_its_sentence():
    codes = _state_changes() | {f"tms.{kind.lower()}.created" for kind in CREATED}
    assert len(codes) > 30
    assert [c for c in codes if action_for(c) is None] == []
    for code in sorted(codes):
        said = sentence(code, {}, "Priya")
        # In words: no code, no underscore or dotted fragment of one.
        assert "tms." not in said and "_" not in said, (code, said)


def test_no_key_is_a_prefix_of_another_and_each_is_declared_once():
    codes = [a.code for a in ACTIONS]
    assert len(codes) == len(set(codes))
    overlapping = [
        (a, b) for a in codes for b in codes if a != b and a.endswith(".") and b.startswith(a)
    ]
    assert overlapping == []
    assert {a.code: a.area for a in ACTIONS} == dict(access.EVENT_AREAS)


def _sentence_lists() -> list[tuple[str, tuple[str, ...]]]:
    """(a code that reads it, the sentences) for every list in the registry."""
    found = []
    for entry in ACTIONS:
        found.append((entry.code + "something_new" if entry.is_prefix else entry.code, entry.says))
        found += [(entry.code + suffix, says) for suffix, says in entry.by_suffix.items()]
    return found


LISTS = _sentence_lists()


@pytest.mark.parametrize(("code", "says"), LISTS, ids=[code for code, _ in LISTS])
def test_every_sentence_renders_with_an_empty_content(code, says):
    assert says, code
    for template in says:
        for name, spec in template_fields(template):
            assert name.isidentifier(), (template, name)
            assert not spec or spec in FORMATS or spec.isalpha(), (template, spec)
    # The plainest uses no content field: it always renders.
    assert {name for name, _ in template_fields(says[-1])} <= {"actor", "state"}, says[-1]
    said = sentence(code, {}, "Priya")
    assert said and "{" not in said and "tms." not in said, said
    assert sentence(code, None, "Priya") == said


def _content_for(template: str) -> dict[str, object]:
    """A value for every content field the sentence uses (and one more, for `{fields}`)."""
    content: dict[str, object] = {"seen": {"from": 1, "to": 2}}
    for name, spec in template_fields(template):
        if name in SPECIAL_FIELDS:
            continue
        if spec == "money":
            content |= {name: 12_300, "currency": "USD"}
        elif spec.isalpha() and spec not in FORMATS:
            content[name] = 2
        else:
            content[name] = f"<{name}>"
    return content


def _shows(said: str, template: str) -> bool:
    """Whether `said` is `template` over `_content_for(template)`, by its fields' values."""
    for name, spec in template_fields(template):
        if name in SPECIAL_FIELDS:
            shown = {"actor": "riya", "state": "something new", "fields": "seen"}[name]
        elif spec == "money":
            shown = "$123"
        elif spec.isalpha() and spec not in FORMATS:
            shown = f"2 {spec}s"
        else:
            shown = f"<{name}>".lower() if spec == "lower" else f"<{name}>"
        if shown not in said:
            return False
    return True


@pytest.mark.parametrize(("code", "says"), LISTS, ids=[code for code, _ in LISTS])
def test_each_sentence_is_the_one_shown_when_its_fields_are_there(code, says):
    """A richer sentence never hides a plainer one for good, nor the other way round."""
    for template in says:
        said = sentence(code, _content_for(template), "Priya")
        assert _shows(said, template), (template, said)


# Content as the call sites write it (backend/services, actions/), and what staff read.
REAL = [
    (
        "tms.lead.created",
        {"reference": "EBC2501234", "product": "EBC", "partySize": 3, "travelDate": "March"},
        "the customer",
        "New lead EBC2501234 from the customer: EBC for 3 travellers, March",
    ),
    (
        "tms.lead.status.quoted",
        {
            "field": "status",
            "from": "NEW",
            "to": "QUOTED",
            "departure": "2025-03-15",
            "partySize": 3,
            "subtotal": "$7,200",
            "discount": "$360",
            "total": "$6,840",
            "deposit": "$2,052",
        },
        "Sarah Gurung",
        "Sarah Gurung quoted $6,840 for 3 travellers on the 2025-03-15 departure",
    ),
    (
        "tms.lead.status.lost",
        {"field": "status", "from": "QUOTED", "to": "LOST", "reason": "went with a friend"},
        "Sarah Gurung",
        "Sarah Gurung marked the lead lost: went with a friend",
    ),
    (
        "tms.lead.sla.breached",
        {"hours": 2.0, "reassignedTo": None},
        "the system",
        "Nobody contacted the customer within 2 hours: operations alerted",
    ),
    (
        "tms.booking.status.cancelled",
        {"field": "status", "from": "CONFIRMED", "to": "CANCELLED", "reason": "ill"},
        "Sarah Gurung",
        "Sarah Gurung cancelled the booking: ill",
    ),
    (
        "tms.booking.payment_status.deposit_paid",
        {"field": "payment_status", "from": "UNPAID", "to": "DEPOSIT_PAID", "amount": 205200},
        "the payment provider",
        "Deposit paid",
    ),
    (
        "tms.payment.received",
        {"booking": "EBC2501234", "amount": 205200, "currency": "USD", "eventId": "evt_1"},
        "the payment provider",
        "$2,052 received for booking EBC2501234",
    ),
    (
        "tms.booking.notice.balance-reminder-7d",
        {"balance": 478800},
        "the system",
        "Notice sent to the customer: balance reminder 7d",
    ),
    (
        "tms.departure.hold.created",
        {"booking": "EBC2501234", "seats": 1, "expiresAt": "2024-12-24T14:00:00+05:45"},
        "the customer",
        "1 seat held for booking EBC2501234",
    ),
    (
        "tms.trip.checkin.missing",
        {"guides": ["Rajesh Thapa", "Amit Rai"]},
        "the system",
        "No check-in from Rajesh Thapa, Amit Rai at the meeting time: operations alerted",
    ),
    (
        "tms.trip.status.in_progress",
        {"field": "status", "from": "SCHEDULED", "to": "IN_PROGRESS", "by": "Rajesh Thapa"},
        "Rajesh Thapa",
        "Rajesh Thapa checked in: the trip has started",
    ),
    (
        "tms.incident.created",
        {"trip": "TRP2501234", "severity": "HIGH", "text": "rockfall near Namche"},
        "Rajesh Thapa",
        "Rajesh Thapa reported a high incident on trip TRP2501234: “rockfall near Namche”",
    ),
    (
        "tms.incident.updated",
        {"resolution": "all safe"},
        "Priya Shrestha",
        "Priya Shrestha wrote the resolution: all safe",
    ),
    (
        "tms.message.outbound",
        {"text": "Hi Maya", "direction": "outbound", "to": "+61499", "purpose": "quote"},
        "the system",
        "Sent on WhatsApp: “Hi Maya”",
    ),
    (
        "tms.conversation.question_answered",
        {"topic": "altitude_sickness", "product": None, "text": "is it high?"},
        "the customer",
        "The assistant answered a question on altitude sickness: “is it high?”",
    ),
    (
        "tms.booking.feedback",
        {"rating": 5, "previousRating": None, "comment": None, "channel": "link", "trip": None},
        "the customer",
        "The customer rated the trip 5/5",
    ),
    (
        "tms.staff.roles_changed",
        {"name": "Amit Rai", "before": ["GUIDE"], "after": ["GUIDE", "OPS"]},
        "Anil Sharma",
        "Anil Sharma changed Amit Rai's roles to guide, ops",
    ),
    (
        "tms.departure.changed",
        {"capacity": {"from": 12, "to": 14}, "meeting_point": {"from": "A", "to": "B"}},
        "Anil Sharma",
        "Anil Sharma changed the departure's capacity, meeting point",
    ),
]


@pytest.mark.parametrize(("code", "content", "actor", "expected"), REAL, ids=[r[0] for r in REAL])
def test_the_call_sites_content_reads_as_a_sentence(code, content, actor, expected):
    assert sentence(code, content, actor) == expected


def test_a_missing_or_odd_field_falls_back_to_a_plainer_sentence():
    quoted = "tms.lead.status.quoted"
    assert sentence(quoted, {"total": "$6,840"}, "Sarah") == "Sarah quoted $6,840"
    assert sentence(quoted, {"total": None, "partySize": 3}, "Sarah") == "Sarah quoted the lead"
    # A count that is not a number, money without its currency, a dict where text goes.
    assert sentence(quoted, {"total": "$1", "partySize": "three", "departure": "d"}, "S") == (
        "S quoted $1"
    )
    assert sentence("tms.payment.received", {"amount": 100}, "x") == "Payment received"
    assert sentence("tms.lead.status.lost", {"reason": {"a": 1}}, "S") == "S marked the lead lost"
    # What a customer wrote is shown as text, never read as a template, and kept short.
    said = sentence(
        "tms.message.inbound", {"text": "{actor.__class__} " + "x" * 500}, "the customer"
    )
    assert said.startswith("The customer wrote: “{actor.__class__} x") and len(said) < 160


def test_an_undeclared_code_reads_as_itself():
    assert sentence("tms.lead.brand_new_kind", {"a": 1}, "the customer") == (
        "The customer: tms.lead.brand_new_kind"
    )


@pytest.mark.parametrize("kind", KINDS, ids=[k.label for k in KINDS])
def test_every_event_kind_the_visibility_tests_use_reads_as_a_sentence(kind):
    said = sentence(kind.action, kind.content, "the customer")
    declared = action_for(kind.action) is not None
    assert (kind.action not in said) == declared, said


def test_the_actor_is_named_by_the_staff_member_else_by_the_source():
    words = timeline_actions.actor_words
    assert words("ADMIN", "+9779801000001", "Sarah Gurung") == "Sarah Gurung"
    assert words("WHATSAPP", "+61499123456", None) == "the customer"
    assert words("SCHEDULER", None, None) == "the system"
    assert words("SOMETHING_NEW", "+61499123456", None) == "+61499123456"
