"""The access table (backend/domain/access.py) covers every timeline action the code writes,
and its keys never overlap, so that SQL and Python read it the same way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend.domain import access, states
from backend.domain.access import Area
from backend.domain.enums import ObjectType, Role
from tests.backend.event_kinds import KINDS

ROOT = Path(__file__).resolve().parents[3]
LITERAL = re.compile(r'"(tms\.[a-z_.]+[a-z_])"')


def _written_codes() -> set[str]:
    """Every literal action code in backend/ and actions/ (salts of signed links aside)."""
    found: set[str] = set()
    for folder in ("backend", "actions"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(LITERAL.findall(path.read_text(encoding="utf-8")))
    return {code for code in found if not code.startswith("tms.link")}


def test_every_action_code_the_code_writes_has_an_area():
    codes = _written_codes()
    assert len(codes) > 40  # the scan found the code
    assert sorted(c for c in codes if access.rule_for(c) is None) == []


def test_every_state_change_and_creation_has_an_area():
    machines = [v for v in vars(states).values() if isinstance(v, states.StateMachine)]
    for machine in machines:
        for state in {s for targets in machine.transitions.values() for s in targets}:
            assert access.rule_for(f"{machine.action_prefix}.{state.lower()}"), machine.name
    created = {
        ObjectType.LEAD,
        ObjectType.BOOKING,
        ObjectType.HOLD,
        ObjectType.WAITLIST_ENTRY,
        ObjectType.TRIP,
        ObjectType.ASSIGNMENT,
        ObjectType.ATTENDANCE,
        ObjectType.INCIDENT,
    }
    for kind in created:
        assert access.rule_for(f"tms.{kind.lower()}.created"), kind


def test_no_key_is_a_prefix_of_another():
    keys = list(access.EVENT_AREAS)
    overlapping = [
        (a, b) for a in keys for b in keys if a != b and a.endswith(".") and b.startswith(a)
    ]
    assert overlapping == []


def test_every_object_type_and_area_is_placed():
    assert set(access.OBJECT_AREAS) == set(ObjectType)
    assert set(access.AREA_ROLES) == set(Area)


@pytest.mark.parametrize("role", list(Role))
def test_the_table_gives_each_role_what_the_kinds_say(role):
    """The pure rule: every role × every kind (the services and API tests do it on data)."""
    wrong = []
    for kind in KINDS:
        area = access.area_of(
            kind.object_type,
            kind.action,
            purpose=kind.content.get("purpose"),
            staff_party=kind.staff,
        )
        expected = role == Role.ADMIN or role in kind.readers
        if access.may_see([role], area) != expected:
            wrong.append(f"{kind.label}: {area}")
    assert wrong == []


def test_admin_only_areas_name_admin_for_the_route_decorators():
    assert access.roles_for(Area.STAFF_ADMIN) == (Role.ADMIN,)
    assert access.roles_for(Area.INCIDENTS) == (Role.OPS,)
    assert Area.INCIDENTS not in access.areas_for([Role.SALES])
    assert access.areas_for([Role.ADMIN]) == frozenset(Area)
