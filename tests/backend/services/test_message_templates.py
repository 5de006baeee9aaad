"""The template records' rules (backend/services/message_templates.py) on SQLite and
PostgreSQL: which template a reader gets, what Meta's template webhooks change and report, and
what the outbox makes of a template Meta does not let be sent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.domain.enums import Role
from backend.domain.whatsapp_messages import Template, Text
from backend.models import MessageTemplate, OutboundMessage, TimelineEvent
from backend.services import contacts, message_templates, outbox
from backend.services.message_templates import Listed, TemplateUnavailable
from backend.whatsapp import inbox, outbox_rules
from tests import factories
from tests.backend.whatsapp import payloads as p

UPDATE_EN = "Update on your trip:\n\n{{1}}\n\n(from your trip operator)"
UPDATE_DE = "Neuigkeiten zu Ihrer Reise:\n\n{{1}}\n\n(von Ihrem Reiseveranstalter)"


def listed(language: str = "en", status: str = "APPROVED", **more) -> Listed:
    body = UPDATE_DE if language.startswith("de") else UPDATE_EN
    return Listed(
        name="customer_update",
        language=language,
        category=more.pop("category", "UTILITY"),
        status=status,
        body=body,
        params=more.pop("params", 1),
        **more,
    )


def events(session, prefix: str = "tms.template.") -> list[TimelineEvent]:
    return list(
        session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.action.like(f"{prefix}%"))
            .order_by(TimelineEvent.id)
        )
    )


def webhook(field: str, **value) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA_FAKE",
                "time": 1765000000,
                "changes": [
                    {
                        "field": field,
                        "value": {
                            "message_template_id": 1000000000001,
                            "message_template_name": "customer_update",
                            "message_template_language": "en",
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def apply(session, payload: dict) -> None:
    parsed = inbox.parse_webhook(payload, p.PHONE_NUMBER_ID)
    assert parsed.ignored_changes == 0 and parsed.templates
    for field, value in parsed.templates:
        message_templates.apply_webhook(session, field, value)
    session.flush()


# -- Which template a reader gets -----------------------------------------------------------------
def test_without_records_the_seed_decides(session):
    assert message_templates.choose(session, "customer_update", "de", 1) is None


@pytest.mark.parametrize(
    ("german", "reader", "expected"),
    [
        ("APPROVED", "de", "de"),
        ("PENDING", "de", "en"),
        ("REJECTED", "de", "en"),
        ("APPROVED", "fr", "en"),
        ("APPROVED", None, "en"),
    ],
)
def test_a_reader_gets_their_language_when_approved_else_english(session, german, reader, expected):
    message_templates.sync(session, [listed("en"), listed("de", german)])
    chosen = message_templates.choose(session, "customer_update", reader, 1)
    assert chosen is not None and chosen.language == expected


def test_a_locale_counts_as_its_language(session):
    message_templates.sync(session, [listed("en_US"), listed("de_DE")])
    assert message_templates.choose(session, "customer_update", "de", 1).language == "de_DE"
    assert message_templates.choose(session, "customer_update", None, 1).language == "en_US"


def test_a_translation_with_other_parameters_is_not_used(session):
    message_templates.sync(session, [listed("en"), listed("de", params=2)])
    assert message_templates.choose(session, "customer_update", "de", 1).language == "en"


def test_nothing_approved_is_unavailable_with_the_english_status(session):
    message_templates.sync(session, [listed("en", "PAUSED"), listed("de", "DISABLED")])
    with pytest.raises(TemplateUnavailable) as refused:
        message_templates.choose(session, "customer_update", "de", 1)
    assert refused.value.status == "PAUSED"


# -- What a sync and Meta's webhooks change -------------------------------------------------------
def test_a_sync_adds_changes_and_marks_what_meta_no_longer_lists(session):
    first = message_templates.sync(session, [listed("en"), listed("de", "PENDING")])
    assert sorted(first.added) == ["customer_update (de)", "customer_update (en)"]
    second = message_templates.sync(session, [listed("en", quality="GREEN")])
    assert second.changed == ["customer_update (en)"] and second.gone == ["customer_update (de)"]
    codes = [e.action for e in events(session)]
    assert codes == ["tms.template.quality_changed", "tms.template.status.deleted"]


def test_a_template_webhook_is_parsed_not_ignored_as_another_numbers(session):
    parsed = inbox.parse_webhook(
        webhook("message_template_status_update", event="PAUSED", reason="NONE"),
        p.PHONE_NUMBER_ID,
    )
    assert parsed.ignored_changes == 0 and parsed.messages == parsed.statuses == []
    assert parsed.templates[0][0] == "message_template_status_update"


def test_a_paused_webhook_pauses_the_record_once_and_alerts(session):
    ops = factories.staff(session, "Olga", Role.OPS)
    message_templates.sync(session, [listed("en")])
    paused = webhook("message_template_status_update", event="PAUSED", reason="NONE")
    apply(session, paused)
    apply(session, paused)  # Meta sends it again: nothing more happens
    record = session.scalar(select(MessageTemplate))
    assert record.status == "PAUSED"
    assert [e.action for e in events(session)] == ["tms.template.status.paused"]
    alerts = session.scalars(
        select(OutboundMessage).where(OutboundMessage.staff_id == ops.id)
    ).all()
    assert len(alerts) == 1 and "paused it" in alerts[0].body
    apply(session, webhook("message_template_status_update", event="REINSTATED"))
    assert record.status == "APPROVED"


def test_a_webhook_for_a_template_not_synced_yet_makes_its_record(session):
    apply(session, webhook("message_template_status_update", event="APPROVED", reason="NONE"))
    record = session.scalar(select(MessageTemplate))
    assert (record.status, record.params) == ("APPROVED", message_templates.UNKNOWN_PARAMS)
    # Its parameters are unknown until a sync: it may carry any message of that name.
    assert message_templates.choose(session, "customer_update", None, 1) is record


def test_a_quality_webhook_is_kept(session):
    message_templates.sync(session, [listed("en")])
    apply(
        session,
        webhook(
            "message_template_quality_update",
            previous_quality_score="UNKNOWN",
            new_quality_score="RED",
        ),
    )
    assert session.scalar(select(MessageTemplate)).quality == "RED"
    assert events(session)[-1].content["quality"] == "RED"


def test_reclassified_from_utility_to_marketing_is_reported_to_ops_and_admins(session):
    olga = factories.staff(session, "Olga", Role.OPS)
    ada = factories.staff(session, "Ada", Role.ADMIN)
    message_templates.sync(session, [listed("en")])
    apply(
        session,
        webhook("template_category_update", previous_category="UTILITY", new_category="MARKETING"),
    )
    record = session.scalar(select(MessageTemplate))
    assert (record.category, record.previous_category) == ("MARKETING", "UTILITY")
    (event,) = events(session)
    assert event.action == "tms.template.reclassified"
    told = {
        r.staff_id
        for r in session.scalars(select(OutboundMessage))
        if "reclassified it from utility to marketing" in (r.body or "")
    }
    assert told == {olga.id, ada.id}


def test_an_impending_reclassification_is_reported_once_before_it_happens(session):
    factories.staff(session, "Olga", Role.OPS)
    message_templates.sync(session, [listed("en")])
    notice = webhook(
        "template_category_update",
        correct_category="MARKETING",
        new_category="UTILITY",
        category_update_timestamp=1765086400,
    )
    apply(session, notice)
    apply(session, notice)
    assert session.scalar(select(MessageTemplate)).category == "UTILITY"  # not yet
    (event,) = events(session)
    assert event.content["from"].startswith("2025-12-07")
    assert len([r for r in session.scalars(select(OutboundMessage)) if "will bill" in r.body]) == 1


# -- What the outbox makes of it ------------------------------------------------------------------
def test_a_german_reader_gets_the_german_template_outside_the_window(session):
    contact = factories.contact(session)
    contact.language = "de"
    message_templates.sync(session, [listed("en"), listed("de")])
    (row,) = outbox.enqueue_text(
        session,
        to_phone=contact.phone,
        contact_id=contact.id,
        body="Ihr Trek beginnt am Montag.",
        purpose="customer_update",
    )
    message = outbox_rules.wire_message(session, row, window_open=False)
    assert isinstance(message, Template)
    assert (message.name, message.language) == ("customer_update", "de")
    assert row.template_language == "de"


def test_a_template_row_whose_template_was_paused_goes_as_text_while_the_window_is_open(session):
    contact = factories.contact(session)
    contacts.touch_inbound(contact)
    (row,) = outbox.enqueue_text(
        session,
        to_phone=contact.phone,
        contact_id=contact.id,
        body="Your permits are ready.",
        purpose="customer_update",
    )
    outbox_rules.to_template(session, row)  # it became its template (a 131047 fallback)
    message_templates.sync(session, [listed("en", "PAUSED")])
    assert outbox_rules.wire_message(session, row, window_open=True) == Text(
        "Your permits are ready."
    )
    assert row.kind == "text"
    row.kind = "template"
    with pytest.raises(outbox_rules.TemplateNotSendable):
        outbox_rules.wire_message(session, row, window_open=False)
