"""The console's rate card editor (issue 26, ADMIN only): Meta's rate card lines (category ×
market → price, currency, the day from which it applies), and a form that adds or changes a line
through the same service as `POST /api/message-rates`. A line the service refuses is said at the
top and next to its field, what was typed is kept, and nothing is written."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import MessageRate, TimelineEvent
from backend.services import message_prices

SARAH, PRIYA, ANIL = "+9779801000001", "+9779801000002", "+9779801000009"
PATH = "/console/message-rates"


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def _written(url: str) -> tuple[int, int]:
    """Rate card lines and their timeline events."""
    with transaction(url) as s:
        lines = s.scalar(select(func.count()).select_from(MessageRate)) or 0
        events = (
            s.scalar(
                select(func.count())
                .select_from(TimelineEvent)
                .where(TimelineEvent.action == "tms.message_rate.set")
            )
            or 0
        )
    return int(lines), int(events)


def _line(page: str, key: str) -> str:
    return page.split(f'data-rate="{key}"')[1].split("</tr>")[0]


def test_only_admins_open_the_rate_card(console, pg_db_url):
    assert console.sign_in(SARAH).get(PATH).status_code == 403
    priya = console.sign_in(PRIYA)
    assert priya.get(PATH).status_code == 403
    assert f'href="{PATH}"' not in priya.get("/console/bookings").text
    page = console.sign_in(ANIL).get(PATH)
    assert page.status_code == 200 and f'href="{PATH}"' in page.text
    assert '<div class="tablewrap"><table>' in page.text  # a phone scrolls the table, not the page
    # A guessed form post from someone else changes nothing.
    refused = priya.post(
        PATH, data={"csrf": "x", "market": "Germany", "category": "marketing", "price": "1"}
    )
    assert refused.status_code in (403, 400)


def test_an_admin_sees_the_lines_and_adds_and_changes_one(console, pg_db_url):
    today = clock.local_today()
    with transaction(pg_db_url) as s:
        message_prices.set_rate(
            s,
            market="Germany",
            calling_code="49",
            category="marketing",
            price="0.1365",
            actor=SYSTEM,
        )
    anil = console.sign_in(ANIL)
    page = anil.get(PATH)
    german = _line(page.text, "49:marketing")
    assert "Germany" in german and "+49" in german and "0.1365" in german and "USD" in german
    assert today.isoformat() in german
    # "Change" fills the form with the line.
    change = re.search(r'href="(/console/message-rates\?market=Germany[^"]+)"', page.text)
    assert change is not None
    form = anil.get(change.group(1).replace("&amp;", "&")).text
    assert 'name="price" maxlength="24" inputmode="decimal" value="0.1365"' in form
    assert '<option value="marketing" selected>' in form

    # A new price from next month: listed as to come, today's line unchanged.
    later = today + timedelta(days=30)
    saved = anil.post(
        PATH,
        data={
            "csrf": _csrf(page),
            "market": "Germany",
            "calling_code": "49",
            "category": "marketing",
            "price": "0.1500",
            "currency": "usd",
            "valid_from": later.isoformat(),
        },
        follow_redirects=True,
    )
    assert saved.status_code == 200
    assert "Germany (+49), marketing: 0.15 USD per delivered message" in saved.text
    upcoming = saved.text.split(f'data-upcoming="49:marketing:{later.isoformat()}"')[1]
    assert "0.15" in upcoming.split("</tr>")[0]
    assert "0.1365" in _line(saved.text, "49:marketing")
    # A new market from today.
    added = anil.post(
        PATH,
        data={
            "csrf": _csrf(page),
            "market": "France",
            "calling_code": "+33",
            "category": "utility",
            "price": "0.03",
            "currency": "USD",
        },
        follow_redirects=True,
    )
    assert "0.03" in _line(added.text, "33:utility")
    with transaction(pg_db_url) as s:
        (event,) = s.scalars(
            select(TimelineEvent).where(
                TimelineEvent.action == "tms.message_rate.set",
                TimelineEvent.object_id == "message_rate:33:utility",
            )
        ).all()
        assert event.actor_phone == ANIL and event.content["price"] == "0.03"


def test_bad_input_is_said_next_to_its_field_and_nothing_is_written(console, pg_db_url):
    anil = console.sign_in(ANIL)
    page = anil.get(PATH)
    before = _written(pg_db_url)
    yesterday = clock.local_today() - timedelta(days=1)
    good = {
        "csrf": _csrf(page),
        "market": "Germany",
        "calling_code": "49",
        "category": "marketing",
        "price": "0.14",
        "currency": "USD",
        "valid_from": "",
    }
    cases = {
        "price": ({"price": "cheap"}, "is not a number"),
        "calling_code": ({"calling_code": "49a"}, "is not a calling code"),
        "category": ({"category": "promotional"}, "is not one of Meta's categories"),
        "currency": ({"currency": "EU"}, "is not a currency code"),
        "market": ({"market": " "}, "name the market"),
        "valid_from": ({"valid_from": yesterday.isoformat()}, "would change messages already"),
    }
    for field, (change, said) in cases.items():
        answer = anil.post(PATH, data={**good, **change})
        assert answer.status_code == 422, field
        assert "There is a problem" in answer.text and "Nothing was changed" in answer.text
        assert f'href="#rate-{field}"' in answer.text  # the summary leads to the field
        next_to = answer.text.split(f'id="rate-{field}-error">')[1].split("</strong>")[0]
        assert said in html.unescape(next_to), field
        assert f'id="rate-{field}"' in answer.text.split(f'id="rate-{field}-error">')[1]
        assert _written(pg_db_url) == before, field
    # A number too large to be a price (the column holds 24 characters): refused, not a 500.
    for price in ("1e30", "9" * 30):
        answer = anil.post(PATH, data={**good, "price": price})
        assert answer.status_code == 422 and "is not a price per message" in answer.text
    assert _written(pg_db_url) == before
    # A date that is no date, and what was typed is kept.
    answer = anil.post(PATH, data={**good, "valid_from": "2027-02-30", "market": "Deutschland"})
    assert answer.status_code == 422 and "is a date written" in answer.text
    assert 'value="Deutschland"' in answer.text and 'value="2027-02-30"' in answer.text
    assert _written(pg_db_url) == before
