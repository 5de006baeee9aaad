"""The trek's guarantee terms (issue 27): its minimum group size and deadline, set by
operations (`guarantees.set_product_terms`, the API's and the console's); a departure's own
minimum wins over the trek's; every departure ahead has its deadline planned again."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from backend.domain.actor import SYSTEM
from backend.domain.errors import DomainError
from backend.models import TimelineEvent
from backend.services import guarantees
from tests import factories


@pytest.fixture
def trek(session, frozen_clock):
    product = factories.ebc(session)
    march = factories.departure(session, product, date(2025, 3, 15), capacity=12)
    april = factories.departure(session, product, date(2025, 4, 12), capacity=12)
    return product, march, april


def test_the_treks_minimum_and_deadline_apply_to_its_departures(session, trek):
    product, march, april = trek
    assert guarantees.status(session, march).minimum is None
    guarantees.set_product_terms(session, product, 6, 45, SYSTEM)
    assert guarantees.status(session, march).minimum == 6
    assert guarantees.deadline_of(march) == date(2025, 1, 29)  # 45 days before
    guarantees.set_minimum(session, april, 2, SYSTEM)  # its own wins
    assert (guarantees.minimum_of(march), guarantees.minimum_of(april)) == (6, 2)
    guarantees.set_product_terms(session, product, 6, None, SYSTEM)
    assert guarantees.deadline_of(march) == date(2025, 2, 13)  # the default 30 days
    guarantees.set_product_terms(session, product, None, None, SYSTEM)
    assert guarantees.minimum_of(march) is None and guarantees.status(session, march).guaranteed
    recorded = session.scalars(
        select(TimelineEvent.content).where(TimelineEvent.action == "tms.product.guarantee_set")
    ).all()
    assert [c["minimum"] for c in recorded] == [6, 6, None]


@pytest.mark.parametrize("minimum, days", [(0, 30), (501, 30), (4, -1), (4, 366)])
def test_terms_out_of_range_change_nothing(session, trek, minimum, days):
    product, _march, _april = trek
    with pytest.raises(DomainError):
        guarantees.set_product_terms(session, product, minimum, days, SYSTEM)
    assert (product.min_group_size, product.guarantee_days_before) == (None, None)
