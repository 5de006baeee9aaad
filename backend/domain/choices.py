"""What a reply button or list row answers, carried in its payload.

A tap sends back the payload, not the title, so the payload names the question it answers
(`assignment:<id>`, `offer:<booking id>`, ...). An old message's button then does the right
thing or says it has expired, and a second tap finds the question already answered.

The payload is Rasa's own `/intent{"entity": "value"}` form: the assistant routes a tap to
its intent without guessing, and the action reads `answer_to` to know which question it was.
Someone who types such a payload by hand gets no more than the buttons would give them: every
action checks that the object named is the sender's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

ANSWER_TO = "answer_to"

# What a payload may answer; the id after the colon is the object's.
ASSIGNMENT = "assignment"  # a guide's trip assignment offer: Accept / Decline
WAITLIST_OFFER = "offer"  # a waitlist spot on offer (the booking): Confirm / Decline
QUOTE = "quote"  # "hold my seats?" after a quote (the lead): Hold my seats / Not now
FULL_DEPARTURE = "full"  # the full departure's options (the departure): 1 / 2 / 3
FEEDBACK = "feedback"  # the rating asked after a trip (the booking): 1 to 5
RESOLVED = "resolved"  # "is the issue resolved?" (the incident): Yes / No
CANCEL = "cancel"  # "cancel this booking?" (the reference): Yes / No
REFUND = "refund"  # after a cancellation (the refund, then the choice): Refund / Credit
CLARIFY = "clarify"  # "Do you mean …?" (the conversation): the likeliest answers, or a person
NEWS = "news"  # "hear about future departures?" (the contact): Yes (marketing opt-in) / No
RESCHEDULE = "reschedule"  # another departure for a booking (the booking, then the departure)
MOVE = "move"  # a moved departure's offer (the offer, then accept / other / cancel)
# Asked in words only (no buttons), kept in the `pending_question` slot in the same form:
EMAIL = "email"  # "what is your e-mail address?" (the contact): a typed Yes asks again, No skips
PARTY_FOR = "party_for"  # "how many of you?" before a full departure's option (1 or 2)

TOPIC = "topic"  # the practical question a "Do you mean …?" guess names (`faq/<topic>`)

PAYLOAD_LIMIT = 256  # characters of a reply button's or list row's id


@dataclass(frozen=True)
class AnswerTo:
    kind: str
    object_id: str
    extra: tuple[str, ...] = ()


def payload(intent: str, answer_to: str, **entities: str) -> str:
    """`/affirm{"answer_to":"offer:…"}`: what the tap sends back."""
    found = "/" + intent + json.dumps({ANSWER_TO: answer_to, **entities}, separators=(",", ":"))
    if len(found) > PAYLOAD_LIMIT:
        raise ValueError(f"payload of {len(found)} characters; WhatsApp keeps {PAYLOAD_LIMIT}")
    return found


def answer_to(kind: str, object_id: str, *extra: str) -> str:
    return ":".join((kind, object_id, *extra))


def parse_answer_to(value: str | None) -> AnswerTo | None:
    """`offer:123` → AnswerTo("offer", "123"); None for nothing or nonsense."""
    if not value or not isinstance(value, str) or ":" not in value:
        return None
    kind, object_id, *extra = value.split(":")
    if not kind or not object_id:
        return None
    return AnswerTo(kind, object_id, tuple(extra))


def button(title: str, intent: str, answers: str, **entities: str) -> dict[str, str]:
    """A reply button as the assistant's actions give it to Rasa ({"title", "payload"})."""
    return {"title": title, "payload": payload(intent, answers, **entities)}


def reply_button(title: str, intent: str, answers: str, **entities: str) -> dict[str, str]:
    """A reply button as the backend queues it ({"id", "title"})."""
    return {"id": payload(intent, answers, **entities), "title": title}


def yes_no(answers: str) -> list[dict[str, str]]:
    return [button("Yes", "affirm", answers), button("No", "deny", answers)]
