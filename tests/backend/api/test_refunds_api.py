"""GET/POST /api/bookings/<ref>/refunds (OPS, ADMIN): the customer's choice made for them,
approval (a card refund on the spot for the local provider, a transfer with its reference),
never more than the policy allows, a decline with a reason; other roles are refused."""

from __future__ import annotations

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import LedgerEntry
from backend.services import bookings, catalog, payments
from tests import factories
from tests.backend.api import test_admin_api
from tests.backend.api.test_admin_api import call

world = test_admin_api.world  # the demo's world and the staff's tokens (a fixture)


def _cancelled(pg_db_url, how: str = "card") -> tuple[str, int]:
    """A paid booking on a demo departure more than 30 days out, cancelled: (reference,
    what the policy gives back)."""
    with transaction(pg_db_url) as s:
        departure = next(
            d
            for d in catalog.departures_of(s, catalog.get_product(s, "EBC"))
            if (d.start_date - clock.local_today()).days > 30
        )
        if how == "card":
            booking = factories.confirmed_booking(s, departure, 2)
        else:
            booking = bookings.hold_new_booking(
                s,
                contact=factories.contact(s),
                departure_id=departure.id,
                party_size=2,
                actor=SYSTEM,
            )
            payments.receive(
                s,
                booking.id,
                payments.MoneyIn(
                    method="bank_transfer",
                    amount_minor=booking.deposit_minor,
                    currency=booking.currency,
                    received_on=clock.local_today(),
                    provider_ref=f"proof:{booking.id}",
                ),
                SYSTEM,
            )
        bookings.cancel_booking(s, booking, SYSTEM, reason="plans changed")
        return booking.reference, booking.deposit_minor - 50_00


def _path(reference: str) -> str:
    return f"/api/bookings/{reference}/refunds"


def test_ops_choose_for_the_customer_then_approve_less_than_allowed(backend_url, world, pg_db_url):
    reference, allowed = _cancelled(pg_db_url)
    listed = call(backend_url, world["ops"], "GET", _path(reference))
    assert listed.status_code == 200, listed.text
    [refund] = listed.json()["refunds"]
    assert refund["status"] == "AWAITING_CHOICE" and refund["refundable"]["minor"] == allowed
    chosen = call(backend_url, world["ops"], "POST", _path(reference), json={"choice": "refund"})
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["refunds"][0]["status"] == "AWAITING_APPROVAL"
    too_much = call(
        backend_url,
        world["ops"],
        "POST",
        _path(reference),
        json={"approve": True, "amount": f"{(allowed + 1) / 100:.2f}"},
    )
    assert too_much.status_code == 409 and too_much.json()["code"] == "refund_refused"
    approved = call(
        backend_url,
        world["admin"],
        "POST",
        _path(reference),
        json={"approve": True, "amount": "150.00"},
    )
    assert approved.status_code == 200, approved.text
    answer = approved.json()
    assert answer["refunds"][0]["status"] == "PAID_OUT"
    assert answer["refunds"][0]["method"] == "local"
    with transaction(pg_db_url) as s:
        booking = bookings.find_booking(s, reference)
        assert answer["paid"]["minor"] == booking.paid_minor == booking.deposit_minor - 150_00
        refunds_out = [e for e in s.query(LedgerEntry).filter_by(booking_id=booking.id)]
        assert sorted(e.amount_minor for e in refunds_out)[0] == -150_00
    again = call(backend_url, world["ops"], "POST", _path(reference), json={"approve": True})
    assert again.status_code == 409


def test_a_transfer_refund_needs_its_reference_and_a_credit_shows(backend_url, world, pg_db_url):
    reference, allowed = _cancelled(pg_db_url, how="transfer")
    missing = call(
        backend_url,
        world["ops"],
        "POST",
        _path(reference),
        json={"choice": "refund", "approve": True},
    )
    assert missing.status_code == 409 and "bank transfer" in missing.json()["error"]
    paid = call(
        backend_url,
        world["ops"],
        "POST",
        _path(reference),
        json={"choice": "refund", "approve": True, "transfer_reference": "NABIL-77"},
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["refunds"][0]["method"] == "bank_transfer"
    credited_ref, _ = _cancelled(pg_db_url)
    credited = call(
        backend_url,
        world["ops"],
        "POST",
        _path(credited_ref),
        json={"choice": "credit", "approve": True},
    )
    assert credited.status_code == 200, credited.text
    assert credited.json()["refunds"][0]["status"] == "CREDITED"
    assert credited.json()["credit"]["minor"] == allowed


def test_decline_needs_a_reason_and_other_roles_are_refused(backend_url, world, pg_db_url):
    reference, _ = _cancelled(pg_db_url)
    no_reason = call(backend_url, world["ops"], "POST", _path(reference), json={"decline": True})
    assert no_reason.status_code == 422
    for role in ("sales", "guide"):
        assert call(backend_url, world[role], "GET", _path(reference)).status_code == 403
        assert (
            call(
                backend_url, world[role], "POST", _path(reference), json={"choice": "refund"}
            ).status_code
            == 403
        )
    declined = call(
        backend_url,
        world["ops"],
        "POST",
        _path(reference),
        json={"decline": True, "reason": "the permits were bought"},
    )
    assert declined.status_code == 200
    refund = declined.json()["refunds"][0]
    assert refund["status"] == "DECLINED" and refund["declineReason"] == "the permits were bought"
    nothing_open = call(backend_url, world["ops"], "POST", _path(reference), json={"approve": True})
    assert nothing_open.status_code == 404
