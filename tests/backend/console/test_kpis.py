"""The KPIs page: the seeded history's figures, checked against PostgreSQL's own percentiles
and counts (queries written here, independently of `backend/services/kpis.py`)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from sqlalchemy import text

from backend import clock
from backend.db import transaction
from devkit.demo_history import DAYS, seed_history

PRIYA = "+9779801000002"


def _pg_percentile(session, sql: str, fraction: float, **params) -> float:
    value = session.execute(
        text(f"select percentile_cont(:f) within group (order by m) from ({sql}) as t"),
        {"f": fraction, **params},
    ).scalar_one()
    return round(float(value), 1)


def test_the_kpis_page_shows_the_seeded_history_as_the_database_counts_it(console, pg_db_url):
    with transaction(pg_db_url) as s:
        history = seed_history(s)
    today = clock.local_today()
    since, until = today - timedelta(days=DAYS), today
    browser = console.sign_in(PRIYA)
    figures = browser.get("/console/kpis.json", params={"since": str(since), "until": str(until)})
    assert figures.status_code == 200
    report = figures.json()

    minutes = "select extract(epoch from ({b} - {a})) / 60 as m from leads where {b} is not null and created_at >= :start and created_at < :end"
    bounds = {
        "start": f"{since}T00:00:00+05:45",
        "end": f"{until + timedelta(days=1)}T00:00:00+05:45",
    }
    with transaction(pg_db_url) as s:
        leads = s.execute(
            text("select count(*) from leads where created_at >= :start and created_at < :end"),
            bounds,
        ).scalar_one()
        contact_p50 = _pg_percentile(
            s, minutes.format(a="created_at", b="contacted_at"), 0.5, **bounds
        )
        contact_p90 = _pg_percentile(
            s, minutes.format(a="created_at", b="contacted_at"), 0.9, **bounds
        )
        quote_p50 = _pg_percentile(s, minutes.format(a="created_at", b="quoted_at"), 0.5, **bounds)
        high_ack = _pg_percentile(
            s,
            "select extract(epoch from (acknowledged_at - reported_at)) / 60 as m from incidents"
            " where severity = 'HIGH' and reported_at >= :start and reported_at < :end",
            0.5,
            **bounds,
        )
        expired, closed = s.execute(
            text(
                "select count(*) filter (where status = 'EXPIRED'), count(*) filter (where status <> 'ACTIVE')"
                " from holds where created_at >= :start and created_at < :end"
            ),
            bounds,
        ).one()
        average = s.execute(
            text(
                "select round(avg(feedback_rating)::numeric, 2) from bookings"
                " where feedback_at >= :start and feedback_at < :end"
            ),
            bounds,
        ).scalar_one()

    assert report["leads"] == leads == history.leads
    assert report["first_contact"]["p50"] == contact_p50
    assert report["first_contact"]["p90"] == contact_p90
    assert report["to_quote"]["p50"] == quote_p50
    assert report["acknowledge_by_severity"]["HIGH"]["p50"] == high_ack
    assert report["holds"]["hold_expiry_percent"] == round(100 * expired / closed, 1)
    assert round(report["satisfaction"]["average"], 2) == float(average)
    assert report["inbound"]["inbound_answered"] >= history.leads

    # The page shows the same figures, and the CSV carries them.
    page = browser.get("/console/kpis", params={"since": str(since), "until": str(until)})
    shown = re.search(r'data-kpi="contact_p50">([\d.]+) min<', page.text)
    assert shown and float(shown.group(1)) == contact_p50
    assert f'data-kpi="leads">{leads} ' in page.text
    rows = list(
        csv.reader(
            io.StringIO(
                browser.get(
                    "/console/kpis.csv", params={"since": str(since), "until": str(until)}
                ).text
            )
        )
    )
    assert ["lead_to_first_contact_minutes_p50", "all", str(contact_p50)] in rows


def test_a_date_range_without_activity_shows_nothing_rather_than_inventing(console):
    browser = console.sign_in(PRIYA)
    report = browser.get(
        "/console/kpis.json", params={"since": "2001-01-01", "until": "2001-01-31"}
    ).json()
    assert report["leads"] == 0 and report["first_contact"]["p50"] is None
    assert report["incidents"] == 0 and report["satisfaction"]["average"] is None
