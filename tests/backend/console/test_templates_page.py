"""The console's WhatsApp templates page (ADMIN only): each template by name and language with
its category, status and quality, as the records hold them."""

from __future__ import annotations

from backend.db import transaction
from backend.services import message_templates
from backend.services.message_templates import Listed

SARAH, PRIYA, ANIL = "+9779801000001", "+9779801000002", "+9779801000009"


def test_only_admins_open_the_templates_page(console):
    assert console.sign_in(SARAH).get("/console/templates").status_code == 403
    assert console.sign_in(PRIYA).get("/console/templates").status_code == 403
    page = console.sign_in(ANIL).get("/console/templates")
    assert page.status_code == 200 and 'href="/console/templates"' in page.text
    assert '<div class="tablewrap"><table>' in page.text  # a phone scrolls the table, not the page


def test_the_page_lists_templates_by_name_language_category_status_and_quality(console, pg_db_url):
    with transaction(pg_db_url) as s:
        message_templates.sync(
            s,
            [
                Listed("hold_expired", "en", "UTILITY", "APPROVED", "GREEN", "Hi {{1}} {{2}}", 2),
                Listed("hold_expired", "de", "UTILITY", "PAUSED", "RED", "Hallo {{1}} {{2}}", 2),
            ],
        )
        message_templates.apply_webhook(
            s,
            "template_category_update",
            {
                "message_template_name": "hold_expired",
                "message_template_language": "en",
                "previous_category": "UTILITY",
                "new_category": "MARKETING",
            },
        )
    page = console.sign_in(ANIL).get("/console/templates").text
    english = page.split('data-template="hold_expired:en"')[1].split("</tr>")[0]
    assert "marketing" in english and "reclassified from utility" in english
    assert "approved" in english and "green" in english
    german = page.split('data-template="hold_expired:de"')[1].split("</tr>")[0]
    assert "<strong>paused</strong>" in german and "red" in german
    assert "Not synced yet" in page and "trip_started" in page
