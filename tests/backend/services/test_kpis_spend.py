"""The KPIs show what WhatsApp messages cost, by month, purpose and country, to those who see
money (issue 26)."""

from __future__ import annotations

from datetime import timedelta

from backend import clock
from backend.services import kpis
from tests.backend.whatsapp.test_message_prices import (
    GERMAN,
    NEPALI,
    _line,
    _pricing,
    _sent,
    _status,
)


def _two_messages(session):
    _line(session, "49", "marketing", "0.1400")
    _line(session, "977", "utility", "0.0100")
    _sent(session, GERMAN, "wamid.K1", purpose="marketing", kind="template")
    _status(session, "wamid.K1", "delivered", GERMAN, _pricing("marketing"))
    _sent(session, NEPALI, "wamid.K2", purpose="papers_reminder", kind="template")
    _status(session, "wamid.K2", "delivered", NEPALI, _pricing("utility"))


def test_the_report_has_the_spend_by_month_purpose_and_country(session):
    _two_messages(session)
    today = clock.local_today()
    report = kpis.report(session, today - timedelta(days=7), today, with_money=True)
    spend = report.as_dict()["spend"]
    assert spend["total"] == {"USD": "0.15"}
    assert {(r["purpose"], r["amount"]) for r in spend["byPurpose"]} == {
        ("campaigns", "0.14"),
        ("reminders", "0.01"),
    }
    assert {(r["country"], r["amount"]) for r in spend["byCountry"]} == {
        ("DE", "0.14"),
        ("NP", "0.01"),
    }
    assert [r["amount"] for r in spend["byMonth"]] == ["0.15"]
    rows = {(metric, group): value for metric, group, value in report.rows()}
    assert rows[("whatsapp_spend", "USD")] == "0.15"
    assert rows[("whatsapp_spend_by_purpose", "campaigns:USD")] == "0.14"
    assert rows[("whatsapp_spend_by_country", "NP:USD")] == "0.01"


def test_the_spend_is_money_shown_only_with_the_money(session):
    _two_messages(session)
    today = clock.local_today()
    report = kpis.report(session, today - timedelta(days=7), today)
    assert report.spend == {}
    assert not [row for row in report.rows() if row[0].startswith("whatsapp_")]
