"""Each delivered message is priced from Meta's `pricing` object and the rate card; free ones
cost 0; the spend adds up by month, purpose and country (issue 26)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from backend import clock
from backend.config import get_settings
from backend.domain.actor import SYSTEM
from backend.domain.enums import OutboxStatus
from backend.models import MessageCost, MessageRate
from backend.services import message_prices, outbox
from backend.whatsapp import inbox, statuses
from tests.backend.whatsapp import payloads as p

GERMAN, NEPALI, INDIAN = "+4915112345678", "+9779841000001", "+919812345678"


def _line(session, code, category, price, market="Test market", days_ago=10):
    """A rate card line valid from a few days ago (after the seeded card's date)."""
    row = MessageRate(
        market=market,
        calling_code=code,
        category=category,
        price=price,
        currency="USD",
        valid_from=clock.local_today() - timedelta(days=days_ago),
        set_by="test",
        set_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def _sent(session, phone, wamid, *, purpose="reply", kind="text", object_type=None):
    (row,) = outbox.enqueue_text(
        session, to_phone=phone, body="hello", purpose=purpose, object_type=object_type
    )
    row.kind = kind
    row.provider_message_id = wamid
    row.status = OutboxStatus.SENT
    session.flush()
    return row


def _status(session, wamid, state, phone, pricing=None, at=None):
    item = p.status(wamid, state, wa_id=phone.lstrip("+"), ts=int((at or clock.now()).timestamp()))
    if pricing is not None:
        item["pricing"] = pricing
    result = inbox.store_webhook(session, p.webhook(statuses=[item]), p.PHONE_NUMBER_ID)
    statuses.apply_pending(session, result.new_status_wamids)


def _pricing(category, billable=True, kind="regular"):
    return {"billable": billable, "pricing_model": "PMP", "category": category, "type": kind}


def test_a_delivered_marketing_template_is_priced_from_the_rate_card(session):
    _line(session, "49", "marketing", "0.1400", market="Germany")
    row = _sent(session, GERMAN, "wamid.M1", purpose="marketing", kind="template")
    _status(session, "wamid.M1", "sent", GERMAN, _pricing("marketing"))
    assert session.get(MessageCost, row.id) is None  # sent is not delivered: not billed yet
    _status(session, "wamid.M1", "delivered", GERMAN, _pricing("marketing"))
    cost = session.get(MessageCost, row.id)
    assert (cost.price, cost.currency, cost.market, cost.country) == (
        "0.1400",
        "USD",
        "Germany",
        "DE",
    )
    assert cost.billable and cost.category == "marketing" and cost.pricing_type == "regular"


def test_a_message_is_priced_once_and_a_read_counts_for_a_skipped_delivered(session):
    _line(session, "977", "utility", "0.0113")
    row = _sent(session, NEPALI, "wamid.U1", purpose="balance_reminder", kind="template")
    _status(session, "wamid.U1", "read", NEPALI, _pricing("utility"))
    _status(session, "wamid.U1", "delivered", NEPALI, _pricing("utility"))
    assert session.scalars(select(MessageCost)).all() == [session.get(MessageCost, row.id)]
    assert session.get(MessageCost, row.id).price == "0.0113"


@pytest.mark.parametrize(
    "pricing",
    [
        _pricing("service", billable=False, kind="free_customer_service"),
        _pricing("utility", billable=False, kind="free_customer_service"),
        _pricing("marketing", billable=False, kind="free_entry_point"),
        None,  # a free-form reply without a pricing object: a service message
    ],
)
def test_free_messages_cost_nothing(session, pricing):
    _line(session, "49", "utility", "0.0550")
    _line(session, "49", "marketing", "0.1400")
    row = _sent(session, GERMAN, "wamid.F1")
    _status(session, "wamid.F1", "delivered", GERMAN, pricing)
    cost = session.get(MessageCost, row.id)
    assert cost.price == "0" and not cost.billable


def test_the_longest_calling_code_wins_and_other_covers_the_rest(session):
    session.execute(MessageRate.__table__.delete())  # not the seeded card: these lines only
    _line(session, "", "utility", "0.0077", market="Other")
    _line(session, "9", "utility", "0.5000", market="Nine")
    _line(session, "91", "utility", "0.0014", market="India")
    brazil = "+5511987654321"
    for phone, wamid in ((INDIAN, "wamid.I1"), (NEPALI, "wamid.N1"), (brazil, "wamid.B1")):
        _sent(session, phone, wamid, kind="template")
        _status(session, wamid, "delivered", phone, _pricing("utility"))
    markets = {
        cost.country: (cost.market, cost.price) for cost in session.scalars(select(MessageCost))
    }
    assert markets == {
        "IN": ("India", "0.0014"),
        "NP": ("Nine", "0.5000"),
        "BR": ("Other", "0.0077"),
    }


def test_a_billed_message_no_line_covers_stays_unpriced(session):
    session.execute(MessageRate.__table__.delete())
    row = _sent(session, GERMAN, "wamid.X1", kind="template")
    _status(session, "wamid.X1", "delivered", GERMAN, _pricing("authentication"))
    cost = session.get(MessageCost, row.id)
    assert cost.billable and cost.price is None
    today = clock.local_today()
    spend = message_prices.spend(session, *_day_bounds(today, today))
    assert spend.unpriced == 1 and spend.total == {}


def test_a_failed_message_is_never_priced(session):
    _line(session, "49", "marketing", "0.1400")
    row = _sent(session, GERMAN, "wamid.E1", kind="template")
    _status(session, "wamid.E1", "failed", GERMAN)
    _status(session, "wamid.E1", "delivered", GERMAN, _pricing("marketing"))
    assert session.get(MessageCost, row.id) is None and row.status == OutboxStatus.FAILED


def _day_bounds(since, until):
    from backend.services.kpis import _bounds

    return _bounds(since, until)


def test_spend_by_month_purpose_and_country(session):
    _line(session, "49", "marketing", "0.1400", days_ago=120)
    _line(session, "49", "utility", "0.0500", days_ago=120)
    _line(session, "977", "utility", "0.0100", days_ago=120)
    now = clock.now()
    last_month = now - timedelta(days=35)
    sends = [
        (GERMAN, "marketing", None, "marketing", now),
        (GERMAN, "balance_reminder", None, "utility", now),
        (NEPALI, "pre_departure", None, "utility", last_month),
        (NEPALI, "customer_update", "INCIDENT", "utility", now),
        (NEPALI, "reply", None, "service", now),  # free
    ]
    for n, (phone, purpose, object_type, category, at) in enumerate(sends):
        wamid = f"wamid.S{n}"
        _sent(session, phone, wamid, purpose=purpose, kind="template", object_type=object_type)
        free = category == "service"
        _status(session, wamid, "delivered", phone, _pricing(category, billable=not free), at=at)
    today = clock.local_today()
    spend = message_prices.spend(session, *_day_bounds(today - timedelta(days=60), today))
    assert spend.messages == 5 and spend.billable == 4 and spend.unpriced == 0
    assert spend.total == {"USD": "0.21"}
    tz = get_settings().tz
    months: dict[str, Decimal] = defaultdict(Decimal)
    months[last_month.astimezone(tz).strftime("%Y-%m")] += Decimal("0.01")
    months[now.astimezone(tz).strftime("%Y-%m")] += Decimal("0.2")
    assert {r["month"]: Decimal(r["amount"]) for r in spend.by_month} == months
    purposes = {r["purpose"]: (r["messages"], r["amount"]) for r in spend.by_purpose}
    assert purposes == {
        "campaigns": (1, "0.14"),
        "reminders": (2, "0.06"),
        "incidents": (1, "0.01"),
    }
    countries = {r["country"]: r["amount"] for r in spend.by_country}
    assert countries == {"DE": "0.19", "NP": "0.02"}


def test_only_a_day_to_come_may_change_the_rate_card(session):
    from backend.services.message_prices import RateCardRefused

    today = clock.local_today()
    with pytest.raises(RateCardRefused):
        message_prices.set_rate(
            session,
            market="Germany",
            calling_code="49",
            category="marketing",
            price="0.15",
            valid_from=today - timedelta(days=1),
            actor=SYSTEM,
        )
    with pytest.raises(RateCardRefused):
        message_prices.set_rate(
            session, market="Germany", calling_code="49", category="gossip", price="1", actor=SYSTEM
        )
    row = message_prices.set_rate(
        session,
        market="Germany",
        calling_code="+49",
        category="Marketing",
        price="0.1500",
        actor=SYSTEM,
    )
    assert (row.calling_code, row.category, row.price, row.valid_from) == (
        "49",
        "marketing",
        "0.15",
        today,
    )
    card = {(r.calling_code, r.category): r.price for r in message_prices.rate_card(session)}
    assert card[("49", "marketing")] == "0.15"
    with pytest.raises(RateCardRefused):  # in use today already
        message_prices.set_rate(
            session,
            market="Germany",
            calling_code="49",
            category="marketing",
            price="0.2",
            actor=SYSTEM,
        )


def test_over_the_fake_graph_api_a_template_is_priced_and_a_reply_is_free(fake):
    from backend.db import transaction
    from tests.backend.whatsapp.test_sender import open_window, rows, run_sender, wait_for

    with transaction() as s:
        s.execute(MessageRate.__table__.delete())
        _line(s, "61", "utility", "0.0113", market="Rest of Asia Pacific")
        outbox.enqueue_text(
            s,
            to_phone="+61412300099",
            body="Balance due",
            purpose="customer_update",
            template_params=["Balance due"],
        )
    run_sender()  # outside the window: the utility template, billed
    open_window(fake, "+61412300099")
    with transaction() as s:
        outbox.enqueue_text(s, to_phone="+61412300099", body="Thanks!", purpose="reply")
    run_sender()  # inside it: a free service reply
    wait_for(lambda: all(r.delivered_at for r in rows()) and len(rows()) == 2)

    def costs():
        with transaction() as s:
            return {c.category: (c.price, c.pricing_type) for c in s.scalars(select(MessageCost))}

    assert wait_for(lambda: len(costs()) == 2 and costs()) == {
        "utility": ("0.0113", "regular"),
        "service": ("0", "free_customer_service"),
    }
