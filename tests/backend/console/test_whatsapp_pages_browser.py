"""WhatsApp as it is in 2026 (issue 26), as staff read it on a phone in Chromium: the Templates
page (an admin: each template's category, status and quality, a paused one marked), the KPIs
page's WhatsApp spend (operations: by purpose and country), and a sent campaign's results on
the Campaigns page (an admin: sent, delivered, read and replied). Each page fits the phone's
width. Screenshots go to `var/screenshots/` (`make screenshots`: docs/screenshots)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend import clock
from backend.db import transaction
from backend.domain.actor import Actor
from backend.domain.enums import BookingStatus, OutboxStatus, Source
from backend.domain.guard import allow_status_write
from backend.models import (
    CampaignRecipient,
    ContactConsent,
    InboundMessage,
    OutboundMessage,
    Product,
    Staff,
)
from backend.services import campaigns, message_templates, staff_auth
from backend.services.message_templates import Listed
from tests import factories
from tests.backend.console.test_payments_browser import PHONE, SHOTS, _shot
from tests.backend.services.test_campaigns import seed_of
from tests.backend.whatsapp.test_message_prices import _line, _pricing, _sent, _status

pytest.importorskip("playwright.sync_api")

PRIYA, ANIL = "+9779801000002", "+9779801000009"  # operations, admin
GERMAN, NEPALI, INDIAN = "+4915112345678", "+9779841000001", "+919812345678"


def _phone_of(browser, console, db: str, staff_phone: str):
    with transaction(db) as s:
        member = s.scalars(select(Staff).where(Staff.phone == staff_phone)).one()
        cookie = staff_auth.open_session(s, member, how="test").cookie
    context = browser.new_context(**PHONE)
    context.add_cookies(
        [{"name": "tms_console", "value": cookie, "url": f"{console.url}/console/"}]
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    return context


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll


def test_an_admin_reads_the_templates_on_a_phone(browser, console, pg_db_url):
    with transaction(pg_db_url) as s:
        message_templates.sync(
            s,
            [
                Listed("hold_expired", "en", "UTILITY", "APPROVED", "GREEN", "Hi {{1}} {{2}}", 2),
                Listed("hold_expired", "de", "UTILITY", "PAUSED", "RED", "Hallo {{1}} {{2}}", 2),
                Listed(
                    "departure_news", "en", "MARKETING", "APPROVED", "YELLOW", "{{1}}: {{2}}", 2
                ),
                Listed("balance_reminder", "en", "UTILITY", "APPROVED", "GREEN", "Hi {{1}}", 1),
            ],
        )
    context = _phone_of(browser, console, pg_db_url, ANIL)
    try:
        page = context.new_page()
        page.goto(f"{console.url}/console/templates")
        page.locator('[data-template="hold_expired:de"]').wait_for()
        german = page.locator('[data-template="hold_expired:de"]').inner_text().lower()
        assert "paused" in german and "red" in german
        news = page.locator('[data-template="departure_news:en"]').inner_text().lower()
        assert "marketing" in news and "approved" in news and "yellow" in news
        assert "balance_reminder" in page.inner_text("body")
        _fits(page)
        _shot(page, "console-whatsapp-templates")
    finally:
        context.close()


def test_operations_read_the_whatsapp_spend_on_a_phone(browser, console, pg_db_url):
    with transaction(pg_db_url) as s:
        _line(s, "49", "marketing", "0.1400", market="Germany")
        _line(s, "977", "utility", "0.0120", market="Nepal")
        _line(s, "91", "marketing", "0.0110", market="India")
        for i, (phone, purpose, category) in enumerate(
            [
                (GERMAN, "marketing", "marketing"),
                (GERMAN, "marketing", "marketing"),
                (NEPALI, "balance_reminder", "utility"),
                (INDIAN, "marketing", "marketing"),
            ]
        ):
            _sent(s, phone, f"wamid.S{i}", purpose=purpose, kind="template")
            _status(s, f"wamid.S{i}", "delivered", phone, _pricing(category))
    context = _phone_of(browser, console, pg_db_url, PRIYA)
    try:
        page = context.new_page()
        page.goto(f"{console.url}/console/kpis")
        page.get_by_text("WhatsApp spend").first.wait_for()
        spend = page.locator('[data-kpi="spend_country_DE_USD"]')
        assert "0.28 USD" in spend.inner_text()
        assert "0.011 USD" in page.locator('[data-kpi="spend_country_IN_USD"]').inner_text()
        assert "0.012 USD" in page.locator('[data-kpi="spend_purpose_reminders_USD"]').inner_text()
        assert "0.291 USD" in page.locator('[data-kpi="spend_purpose_campaigns_USD"]').inner_text()
        _fits(page)
        # The section alone: the page above it is the other KPIs (their own screenshot).
        page.locator("#spend").screenshot(path=str(SHOTS / "console-kpis-whatsapp-spend.png"))
    finally:
        context.close()


def _sent_campaign(db: str) -> str:
    """Six past EBC travellers opted in to marketing; the campaign sent to them: five sent,
    four delivered, three read, two wrote back within its reply days. (its name)"""
    name = "Spring on Everest"
    with transaction(db) as s, allow_status_write():  # a made-up history, not a story
        product = s.scalars(select(Product).where(Product.code == "EBC")).one()
        past = factories.departure(s, product, clock.local_today() - timedelta(days=60))
        phones = []
        for _ in range(6):
            booking = factories.confirmed_booking(s, past, 1)
            booking.status = BookingStatus.COMPLETED
            s.add(
                ContactConsent(
                    contact_id=booking.contact_id,
                    category="marketing",
                    status="opted_in",
                    pauses=0,
                    source="customer",
                    changed_at=clock.now(),
                )
            )
            phones.append(booking.contact.address)
        s.flush()
        campaign = campaigns.create(
            s,
            name=name,
            template_name="departure_news",
            params=["Everest Base Camp", "Spring departures are open."],
            audience={"kind": "past_travellers", "product": "EBC"},
            actor=Actor(Source.ADMIN),
            seed=seed_of("departure_news"),
        )
        campaigns.send(s, campaign.id, Actor(Source.ADMIN))
        rows = s.scalars(
            select(OutboundMessage)
            .join(CampaignRecipient, CampaignRecipient.outbound_id == OutboundMessage.id)
            .where(CampaignRecipient.campaign_id == campaign.id)
        ).all()
        ours = sorted(
            (r for r in rows if r.recipient_phone in phones), key=lambda r: r.recipient_phone
        )
        now = clock.now() - timedelta(hours=6)
        for row in rows:  # the demo world's own past travellers too: sent, nothing more
            row.status, row.sent_at = OutboxStatus.SENT, now
            row.provider_message_id = f"wamid.{row.id}"
        ours[5].status, ours[5].sent_at = OutboxStatus.QUEUED, None
        for row in ours[:4]:
            row.delivered_at = now + timedelta(minutes=1)
        for row in ours[:3]:
            row.read_at = now + timedelta(minutes=5)
        for i, row in enumerate(ours[:2]):
            s.add(
                InboundMessage(
                    wamid=f"wamid.reply{i}",
                    from_phone=row.recipient_phone,
                    message_type="text",
                    text="Which dates in April?",
                    stored_at=now + timedelta(hours=1),
                    status="DONE",
                )
            )
        # No worker sends the one left queued while the page is read.
        ours[5].status = OutboxStatus.DEFERRED
    return name


def test_an_admin_reads_a_campaigns_results_on_a_phone(browser, console, pg_db_url):
    name = _sent_campaign(pg_db_url)
    context = _phone_of(browser, console, pg_db_url, ANIL)
    try:
        page = context.new_page()
        page.goto(f"{console.url}/console/campaigns")
        row = page.locator(f'[data-campaign="{name}"]')
        row.wait_for()
        text = row.inner_text()
        assert "departure_news · sent" in text and "past travellers of EBC" in text
        counts = {
            key: row.locator(f'[data-count="{key}"]').inner_text()
            for key in ("optedIn", "queued", "sent", "delivered", "read", "replied", "waiting")
        }
        assert counts == {
            "optedIn": "6",
            "queued": "6",
            "sent": "5",
            "delivered": "4",
            "read": "3",
            "replied": "2",
            "waiting": "1",
        }
        assert row.get_by_role("button", name="Send to new opt-ins").is_visible()
        _fits(page)
        _shot(page, "console-campaign-results")
    finally:
        context.close()
