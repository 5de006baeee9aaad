"""The FAQ's stored default words that money changed: the cancellation policy's lines are now
written from the policy's data (so the stored words keep only what follows them), refunds point
at the policy, and the ways to pay are the new ones. Only answers nobody edited change (the
stored text is still the old default, word for word); an edited answer is the operator's.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 19:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (topic, product code, the old default, the new default), as stored (stripped).
CHANGED: tuple[tuple[str, str, str, str], ...] = (
    (
        "cancellation_policy",
        "",
        "Our trek cancellation policy:\n• Up to 30 days before departure: your deposit is refunded, minus a $50 admin fee\n• 30 to 15 days before: the deposit is kept\n• Less than 15 days before: no refund, but you can transfer your place to a friend or move to a later date once for free (if seats allow)\nIf we cancel for weather, safety or too few travellers, you get a full refund or a free move 🙏",
        "Close to departure you can transfer your place to a friend or move to a later date once for free (if seats allow).\nIf we cancel for weather, safety or too few travellers, you get a full refund or a free move 🙏",
    ),
    (
        "cancellation_policy",
        "PKR",
        "The Pokhara Sightseeing Tour can be cancelled free of charge up to 24 hours before it starts, with a full refund.\nWithin 24 hours there's no refund, but we're happy to move you to another day if there's space.\nIf we have to cancel, you get a full refund or a free move.",
        "Within 24 hours we're happy to move you to another day if there's space.\nIf we have to cancel, you get a full refund or a free move.",
    ),
    (
        "refunds",
        "",
        "Refunds go back to the card you paid with and arrive within 5-10 working days (a bank transfer goes back to the same account).\nIf we cancel a departure because of weather, safety or too few travellers, you choose: a full refund or a free move to another date.\nIf you cancel, how much comes back depends on how close to departure it is; our cancellation policy has the details.",
        'Refunds go back to the card you paid with and arrive within 5-10 working days (a bank transfer goes back to the same account).\nIf we cancel a departure because of weather, safety or too few travellers, you choose: a full refund or a free move to another date.\nIf you cancel, how much comes back depends on how close to departure it is; our cancellation policy has the details (ask me "what\'s your cancellation policy?").',
    ),
    (
        "payment_methods",
        "",
        "You can pay by card (Visa or Mastercard) through our secure payment link 💳\nBank transfer is possible on request; our team will send you the details.\nWe don't take PayPal or cash for bookings, and no cash is needed in advance.",
        "You can pay through your payment link 💳 by card, by bank transfer (our bank details and the reference to quote are on the payment page), or by card on our bank's payment page (a small card surcharge, shown before you pay).\nAfter a transfer or a bank-page payment, send us a photo or PDF of the receipt here or upload it on the payment page: we check it and confirm your booking.\nThe balance can also be paid in cash on arrival in Kathmandu (you get a receipt number). We don't take PayPal.",
    ),
)


def _replace(old_index: int, new_index: int) -> None:
    for row in CHANGED:
        op.get_bind().execute(
            sa.text(
                "UPDATE faq_answers SET answer = :new"
                " WHERE topic = :topic AND product_code = :code AND answer = :old"
            ),
            {"topic": row[0], "code": row[1], "old": row[old_index], "new": row[new_index]},
        )


def upgrade() -> None:
    _replace(2, 3)


def downgrade() -> None:
    _replace(3, 2)
