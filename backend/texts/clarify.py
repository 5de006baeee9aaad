"""What a customer reads when the assistant is not sure what they meant: "Do you mean …?"
with the likeliest answers as buttons (actions/clarify.py)."""

from __future__ import annotations

from backend.i18n import _
from backend.texts.format import N_

# What each intent the assistant may offer does, as a button title (WhatsApp shows 20
# characters of a reply button, 24 of a list row).
_WHAT_IT_DOES: dict[str, str] = {
    "enquire_trip": N_("Plan a trek"),
    "ask_dates": N_("Dates & free seats"),
    "ask_price": N_("Prices"),
    "ask_inclusions": N_("What's included"),
    "ask_payment": N_("How to pay"),
    "booking_status": N_("My booking"),
    "request_hold": N_("Hold seats"),
    "cancel_booking": N_("Cancel a booking"),
    "join_waitlist": N_("Join the waitlist"),
    "ask_recommendation": N_("Suggest a trek"),
    "compare_treks": N_("Compare treks"),
    "human_handoff": N_("Talk to a person"),
}


def clarify_offers(intent: str) -> bool:
    """Whether the assistant may offer this intent as a guess (not yes, no, thanks, ...)."""
    return intent in _WHAT_IT_DOES


def clarify_button(intent: str) -> str:
    return _(_WHAT_IT_DOES[intent])


def clarify_question() -> str:
    return _(
        "Sorry, I'm not sure I understood 🙏 Do you mean one of these? Tap one, or write it "
        "in other words."
    )
