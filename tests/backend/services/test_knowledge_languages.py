"""The operator's answers in the customer's language: theirs where it is written, else the
English one; a product's own answer before a general one translated."""

from __future__ import annotations

import pytest

from backend import i18n
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.errors import DomainError
from backend.services import catalog, knowledge
from tests import factories


@pytest.fixture
def ebc_answers(db_url: str) -> str:
    with transaction() as s:
        factories.ebc(s)
        knowledge.set_answer(s, "permits", "Permits: we arrange them.", SYSTEM)
        knowledge.set_answer(s, "permits", "Our own EBC permit words.", SYSTEM, product_code="EBC")
    return "EBC"


def test_a_language_without_its_own_answer_reads_the_english(ebc_answers: str) -> None:
    with transaction() as s:
        assert knowledge.answer_for(s, "permits", None, "fr") == "Permits: we arrange them."


def test_the_customers_language_is_read_first(ebc_answers: str) -> None:
    with transaction() as s:
        knowledge.set_answer(s, "permits", "Genehmigungen besorgen wir.", SYSTEM, language="de")
    with transaction() as s, i18n.speaking("de"):
        assert knowledge.answer_for(s, "permits") == "Genehmigungen besorgen wir."
        # The trek's own answer (in English) is truer than the general one in German.
        product = catalog.get_product(s, "EBC")
        assert knowledge.answer_for(s, "permits", product) == "Our own EBC permit words."


def test_an_answer_is_refused_in_a_language_not_spoken(ebc_answers: str) -> None:
    with transaction() as s, pytest.raises(DomainError):
        knowledge.set_answer(s, "permits", "Permessi: li facciamo noi.", SYSTEM, language="it")


def test_the_translated_defaults_are_loaded_beside_the_english(db_url: str) -> None:
    with transaction() as s:
        added = knowledge.load_defaults(s, SYSTEM)
    written = [code for code in ("de", "fr", "es") if knowledge.topics(code)]
    assert added >= len(knowledge.topics()) * (1 + len(written))
    with transaction() as s:
        for code in written:
            assert knowledge.answer_for(s, "visas", None, code) != knowledge.answer_for(
                s, "visas", None, "en"
            )
