"""The KPIs page shows the WhatsApp spend to operations (issue 26), not to sales."""

from __future__ import annotations

from backend.db import transaction
from tests.backend.whatsapp.test_message_prices import GERMAN, _line, _pricing, _sent, _status

PRIYA, SALES = "+9779801000002", "+9779801000001"


def test_the_kpis_page_shows_the_spend_by_month_purpose_and_country(console, pg_db_url):
    with transaction(pg_db_url) as session:
        _line(session, "49", "marketing", "0.1400", market="Germany")
        _sent(session, GERMAN, "wamid.P1", purpose="marketing", kind="template")
        _status(session, "wamid.P1", "delivered", GERMAN, _pricing("marketing"))
    page = console.sign_in(PRIYA).get("/console/kpis").text
    assert "WhatsApp spend" in page
    assert 'data-kpi="spend_purpose_campaigns_USD"' in page
    assert 'data-kpi="spend_country_DE_USD"' in page and "0.14 USD" in page
    assert "WhatsApp spend" not in console.sign_in(SALES).get("/console/kpis").text
