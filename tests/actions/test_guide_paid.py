"""PAID <ref> <amount> [currency] [CASH]: the trip's lead guide records cash for a balance; the
customer gets a receipt number, the guide a confirmation; the same message twice records once."""

from sqlalchemy import select

from actions.answers import ActionAffirm
from actions.guide import ActionGuidePaid
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import AssignmentRole
from backend.models import LedgerEntry, OutboundMessage
from backend.services import assignments, catalog, trips
from backend.services import staff as staff_service
from tests import factories
from tests.actions.conftest import AMIT, CUSTOMER, RAJESH, make_tracker, run_action


def _booking_on_rajeshs_trip(accept: bool = True) -> tuple[str, int, str]:
    """(booking reference, balance owed, customer's phone) of a guest whose deposit is paid,
    on the EBC trip offered to Rajesh as lead guide (accepted unless told otherwise)."""
    with transaction() as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        trip = trips.ensure_trip(s, departure, SYSTEM)
        rajesh = staff_service.by_phone(s, RAJESH)
        assignments.offer_assignment(s, trip, rajesh, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM)
        guest = factories.confirmed_booking(s, departure, 2)
        found = (guest.reference, guest.balance_minor, guest.contact.phone)
    if accept:
        run_action(ActionAffirm(), make_tracker(RAJESH, "Accept", "affirm"))
    assert found[1] > 0
    return found


def _cash_entries() -> list[LedgerEntry]:
    with transaction() as s:
        return list(s.scalars(select(LedgerEntry).where(LedgerEntry.method == "cash")))


def _paid(sender: str, text: str, wamid: str | None = None):
    return run_action(ActionGuidePaid(), make_tracker(sender, text, "guide_paid", wamid=wamid))


def test_the_lead_guide_records_cash_and_the_customer_gets_a_receipt(world):
    reference, owed, phone = _booking_on_rajeshs_trip()
    amount = f"{owed // 100}" + (f".{owed % 100:02d}" if owed % 100 else "")
    key = reference.replace("-", "").lower()
    ran = _paid(RAJESH, f"  paid   {key}  {amount}  usd   cash ", wamid="wamid.PAID1")
    entries = _cash_entries()
    assert len(entries) == 1 and entries[0].amount_minor == owed
    number = entries[0].receipt_number
    assert ran.texts[0].startswith("✅ Cash recorded") and number in ran.text
    assert "Paid in full" in ran.text
    with transaction() as s:
        bodies = s.scalars(
            select(OutboundMessage.body).where(OutboundMessage.recipient_phone == phone)
        ).all()
        assert any(f"Cash receipt {number}" in b for b in bodies)
    # The same WhatsApp message processed again records nothing more.
    again = _paid(RAJESH, f"paid {key} {amount} usd cash", wamid="wamid.PAID1")
    assert again.texts == ran.texts and len(_cash_entries()) == 1


def test_the_same_message_id_records_once_even_past_the_replay(world):
    """The cash's own idempotency (the message id as the key), beside the action's replay."""
    reference, _, _ = _booking_on_rajeshs_trip()
    first = _paid(RAJESH, f"PAID {reference} 100 USD CASH", wamid="wamid.PAID2")
    with transaction() as s:
        from backend.models import ActionReceipt

        for receipt in s.scalars(select(ActionReceipt)):
            s.delete(receipt)
    again = _paid(RAJESH, f"PAID {reference} 100 USD CASH", wamid="wamid.PAID2")
    assert "Already recorded" in again.text and first.texts[0].startswith("✅ Cash recorded")
    assert len(_cash_entries()) == 1


def test_someone_elses_booking_answers_as_an_unknown_one(world):
    reference, _, _ = _booking_on_rajeshs_trip()
    unknown = reference[:-3] + ("999" if not reference.endswith("999") else "998")
    not_theirs = _paid(AMIT, f"PAID {reference} 100 USD CASH")
    missing = _paid(AMIT, f"PAID {unknown} 100 USD CASH")
    assert not_theirs.texts == [t.replace(unknown, reference) for t in missing.texts]
    assert f"I couldn't find {reference}" in not_theirs.text
    assert _cash_entries() == []


def test_a_guide_who_has_not_accepted_may_not_record(world):
    reference, _, _ = _booking_on_rajeshs_trip(accept=False)
    ran = _paid(RAJESH, f"PAID {reference} 100 USD CASH")
    assert f"I couldn't find {reference}" in ran.text and _cash_entries() == []


def test_more_than_owed_is_refused_with_the_amount_owed(world):
    reference, owed, _ = _booking_on_rajeshs_trip()
    ran = _paid(RAJESH, f"PAID {reference} {owed // 100 + 1} USD CASH")
    assert "more than is owed" in ran.text and f"${owed // 100:,}" in ran.text
    assert _cash_entries() == []


def test_a_currency_without_a_rate_asks_staff_to_set_one(world):
    reference, _, _ = _booking_on_rajeshs_trip()
    ran = _paid(RAJESH, f"PAID {reference} 10000 NPR CASH")
    assert "no NPR exchange rate" in ran.text and "must set one" in ran.text
    assert _cash_entries() == []


def test_a_bad_command_gets_the_format(world):
    reference, _, _ = _booking_on_rajeshs_trip()
    for text in ("PAID", f"PAID {reference}", f"PAID {reference} lots of money"):
        ran = _paid(RAJESH, text)
        assert "PAID EBC2501234 4788 USD CASH" in ran.text, text
    assert _cash_entries() == []


def test_a_customer_writing_paid_is_passed_to_the_team(world):
    reference, _, _ = _booking_on_rajeshs_trip()
    ran = _paid(CUSTOMER, f"Paid {reference} 100 USD")
    assert "passed your message to our team" in ran.text and _cash_entries() == []
