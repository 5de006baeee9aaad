"""The admin API's event lists, every role × every event kind (tests/backend/event_kinds.py):
SALES never reads an incident's text, a guide's position, a payroll amount or staff
administration through `/api/timeline` or `/api/events/latest`."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import AssignmentRole, Role
from backend.services import assignments, catalog, trips
from backend.services import staff as staff_service
from tests.backend import event_kinds


@pytest.fixture
def world(backend_url, pg_db_url):
    """A token per role, the field guide, and one event of every kind."""
    with transaction(pg_db_url) as s:
        staff_service.add_staff(
            s, name="Field guide", phone=event_kinds.STAFF_PHONE, roles=[Role.GUIDE], actor=SYSTEM
        )
        tokens = {
            role: staff_service.add_staff(
                s, name=f"{role} reader", phone=f"+97798066600{n:02d}", roles=[role], actor=SYSTEM
            )[1]
            for n, role in enumerate(Role, start=10)
        }
    with transaction(pg_db_url) as s:
        recorded = event_kinds.record_all(s, "api")
    return tokens, recorded


def _get(url: str, token: str, **params: str) -> httpx.Response:
    return httpx.get(url, headers={"Authorization": f"Bearer {token}"}, params=params, timeout=30)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reads_the_event_kinds_the_table_gives_it(backend_url, world, role):
    tokens, recorded = world
    expected = {i for i, kind in recorded.items() if event_kinds.may_read(kind, role)}
    now = clock.now()
    window = _get(
        f"{backend_url}/api/timeline",
        tokens[role],
        start=(now - timedelta(hours=1)).isoformat(),
        end=(now + timedelta(hours=1)).isoformat(),
    )
    latest = _get(f"{backend_url}/api/events/latest", tokens[role])
    if role in (Role.GUIDE, Role.PORTER):
        assert window.status_code == latest.status_code == 403
        return
    seen = {e["id"] for e in window.json()["events"]} & set(recorded)
    wrong = sorted(
        f"{'shown' if i in seen else 'hidden'}: {recorded[i].label}"
        for i in recorded
        if (i in seen) != (i in expected)
    )
    assert wrong == []
    # The latest 50 are the latest 50 the role may read (fewer kinds than 50 for SALES).
    newest = [e["id"] for e in latest.json()["events"]]
    assert newest == sorted(expected, reverse=True)[:50]
    # By object too: an incident's own timeline is empty for SALES.
    first = min(recorded)
    for i, kind in recorded.items():
        events = _get(
            f"{backend_url}/api/timeline",
            tokens[role],
            object_type=kind.object_type,
            object_id=f"api-{i - first}",
        ).json()["events"]
        assert bool(events) == (i in expected), kind.label


def test_sales_reads_no_payroll_amount_and_no_staff_phone_or_role(backend_url, pg_db_url):
    """The same table outside the timeline: a departure's assignments show SALES who, not what
    they are paid; the staff list shows SALES names, not phones and roles. OPS reads both."""
    with transaction(pg_db_url) as s:
        guide, _ = staff_service.add_staff(
            s, name="Pay Guide", phone="+9779806660201", roles=[Role.GUIDE], actor=SYSTEM
        )
        tokens = {
            role: staff_service.add_staff(
                s, name=f"{role} viewer", phone=f"+97798066602{n:02d}", roles=[role], actor=SYSTEM
            )[1]
            for n, role in enumerate((Role.SALES, Role.OPS), start=10)
        }
        product = catalog.create_product(
            s, code="PAY", name="Pay Trek", days=3, price_per_person_minor=10_000, actor=SYSTEM
        )
        departure = catalog.create_departure(
            s,
            product,
            start_date=clock.local_today() + timedelta(days=30),
            capacity=8,
            actor=SYSTEM,
        )
        trip = trips.ensure_trip(s, departure, SYSTEM)
        assignments.offer_assignment(s, trip, guide, AssignmentRole.LEAD_GUIDE, 750_00, SYSTEM)
        departure_id = departure.id
    for role, shown in ((Role.SALES, False), (Role.OPS, True)):
        detail = _get(f"{backend_url}/api/departures/{departure_id}", tokens[role]).json()
        (offered,) = detail["assignments"]
        assert offered["staff"]["name"] == "Pay Guide"
        assert (offered["compensation"] is not None) == shown, role
        assert (offered["staff"]["phone"] is not None) == shown, role
        listed = _get(f"{backend_url}/api/staff", tokens[role]).json()
        pay_guide = next(m for m in listed["staff"] if m["name"] == "Pay Guide")
        assert (pay_guide["phone"], pay_guide["roles"]) == (
            ("+9779806660201", ["GUIDE"]) if shown else (None, None)
        ), role
        assert listed["me"]["phone"] is not None  # one's own, always
