"""Answers from the operator's knowledge (FAQ topics), shared by the FAQ action and the
contract intents (price, payment, inclusions) whose questions are sometimes policy
questions. Imports no action module."""

from __future__ import annotations

import re

from actions.common import Turn
from actions.context import booking_in_context, product_in_context
from backend import texts
from backend.domain.enums import ObjectType
from backend.domain.errors import NotFound
from backend.services import bookings, cancellation_policy, knowledge, timeline

# The topics the contract intents own (ask_payment, ask_inclusions, ask_price): which one a
# question means, by its words. The first topic whose words match wins.
TOPIC_WORDS: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    "ask_payment": [
        # "How much does the kid pay?": a child's price, not how to pay.
        (
            "children",
            re.compile(
                r"\b(kids?|child(ren)?|infants?|bab(y|ies)|toddlers?|son|daughter)\b.*"
                r"\b(pay|cost|price|free|half|discount)|"
                r"\b(how much|price|cost)\b.*\b(kids?|child(ren)?|infants?|bab(y|ies)|toddlers?)\b",
                re.I,
            ),
        ),
        (
            "currency",
            re.compile(
                r"\b(currency|usd|eur|euros?|gbp|pounds?|rupees?|npr|aud|dollars?|exchange)\b", re.I
            ),
        ),
        (
            "deposit_and_balance",
            re.compile(r"\b(deposit|balance|rest|remaining|instal+ments?|when .*pay)\b", re.I),
        ),
        ("payment_methods", re.compile(r".", re.S)),
    ],
    "ask_inclusions": [
        (
            "not_included",
            re.compile(
                r"\b(not included|excluded?|extras?|on top|tips?|insurance|flights?|visa|drinks?|hot showers?)\b",
                re.I,
            ),
        ),
    ],
    "ask_price": [
        (
            "group_discounts",
            re.compile(
                r"\b(group|groups|big party|[6-9]|1\d) .*discount|discount.*\b(group|groups|friends|people|pax)\b",
                re.I,
            ),
        ),
        ("children", re.compile(r"\b(kids?|child(ren)?|infants?|babies|baby)\b", re.I)),
    ],
}


def topic_by_words(intent: str, text: str) -> str | None:
    """The knowledge topic a contract intent's question is about, or None (its own answer)."""
    return next((topic for topic, words in TOPIC_WORDS.get(intent, []) if words.search(text)), None)


def answer_question(turn: Turn, topic: str | None, *, sure: bool = True) -> bool:
    """Answer from the knowledge; False (nothing said) when there is no answer to give."""
    if topic is None or not sure:
        return False
    product = product_in_context(turn)
    answer = knowledge.answer_for(turn.session, topic, product)
    if answer is None:
        return False
    turn.say(answer)
    if topic in MONEY_BACK_TOPICS:
        say_what_comes_back(turn)
    timeline.record(
        turn.session,
        object_type=ObjectType.CONVERSATION,
        object_id=turn.conversation.id,
        event_type="ANSWERED",
        action="tms.conversation.question_answered",
        actor=turn.actor,
        content={"topic": topic, "product": product.code if product else None, "text": turn.text},
    )
    return True


# "How much would I get back?": the policy's and the refunds' answers add, for a customer with
# an open booking they have paid for, what would come back if they cancelled today.
MONEY_BACK_TOPICS = frozenset({"cancellation_policy", "refunds"})


def say_what_comes_back(turn: Turn) -> None:
    try:
        named = booking_in_context(turn)
    except NotFound:
        named = None
    mine = bookings.bookings_of_contact(turn.session, turn.contact)
    paid = cancellation_policy.open_paid_bookings(([named] if named else []) + list(mine))
    if not paid:
        return
    booking = paid[0]
    back = cancellation_policy.refundable(turn.session, booking)
    turn.say(
        texts.refundable_today(
            booking,
            amount_minor=back.amount_minor,
            paid_minor=back.paid_minor,
            days_before=back.days_before,
        )
    )
