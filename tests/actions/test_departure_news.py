"""After a good rating the guest is asked whether they want to hear about future departures:
Yes is their marketing opt-in, No is kept too, both on their timeline (issue 26)."""

from __future__ import annotations

from sqlalchemy import select

from actions.answers import ActionAffirm, ActionDeny
from actions.booking import ActionChooseOption
from backend.db import transaction
from backend.models import Contact, TimelineEvent
from backend.services import consent
from tests.actions.conftest import make_tracker, payloads, run_action, tap
from tests.actions.test_email_and_ratings import _finished_pokhara_guest


def _marketing(phone: str) -> tuple[str, list[str]]:
    with transaction() as s:
        contact = s.scalar(select(Contact).where(Contact.phone == phone))
        actions = s.scalars(
            select(TimelineEvent.action).where(TimelineEvent.object_id == contact.id)
        ).all()
        return consent.categories(s, contact)["marketing"], list(actions)


def test_a_happy_guest_is_asked_and_yes_is_their_marketing_opt_in(world):
    guest = _finished_pokhara_guest()
    rated = run_action(ActionChooseOption(), make_tracker(guest, "5", "choose_option"))
    assert "future departures" in rated.texts[-1]
    buttons = payloads(rated, len(rated.texts) - 1)
    yes = run_action(ActionAffirm(), tap(guest, buttons["Yes"]))
    assert "tell you about future departures" in yes.text
    status, actions = _marketing(guest)
    assert status == consent.OPTED_IN and "tms.contact.marketing_opted_in" in actions
    # Asked once: their answer is on file.
    again = run_action(ActionChooseOption(), make_tracker(guest, "5", "choose_option"))
    assert "future departures" not in again.text


def test_no_is_kept_and_no_marketing_goes(world):
    guest = _finished_pokhara_guest()
    rated = run_action(ActionChooseOption(), make_tracker(guest, "4", "choose_option"))
    buttons = payloads(rated, len(rated.texts) - 1)
    no = run_action(ActionDeny(), tap(guest, buttons["No"]))
    assert "won't send you offers" in no.text
    status, actions = _marketing(guest)
    assert status == consent.OPTED_OUT and "tms.contact.marketing_declined" in actions


def test_an_unhappy_guest_is_not_asked(world):
    guest = _finished_pokhara_guest()
    rated = run_action(ActionChooseOption(), make_tracker(guest, "2", "choose_option"))
    assert "future departures" not in rated.text
