"""Every door fuzzed against the backend in its own process (PostgreSQL): the WhatsApp webhook
and the payment webhook with hypothesis (random structure, types and sizes, validly signed),
and the admin API with schemathesis from its own OpenAPI document, with a token of each role.
No 5xx, nothing stored from a rejected request, and the server healthy afterwards."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from sqlalchemy import func, select

from backend.api.openapi import document
from backend.app import create_app
from backend.db import transaction
from backend.domain.enums import Role
from backend.models import InboundMessage, MessageStatusEvent, Payment, TimelineEvent
from backend.payments import signature as payment_signature
from tests.backend.whatsapp import payloads as p
from tests.conftest import load_demo_world

pytestmark = pytest.mark.fuzz

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI stays reproducible
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PAYMENT_SECRET = "dev-payment-secret"

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40).map(lambda t: t + "\x00"),
)
json_value = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)


def _mutations(valid: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A valid payload with one spot (any depth) replaced by any JSON value."""

    def paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        found = [path]
        if isinstance(node, dict):
            for key, child in node.items():
                found += paths(child, (*path, key))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                found += paths(child, (*path, index))
        return found

    def replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
        if not path:
            return value
        copy = json.loads(json.dumps(node))
        target = copy
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        return copy

    return st.tuples(st.sampled_from(paths(valid)), json_value).map(
        lambda pv: replace(valid, pv[0], pv[1])
    )


VALID_WEBHOOK = p.webhook(
    [p.text_message("61412000001", "hello"), p.button_reply("61412000002", "/affirm", "Yes")],
    [p.status("wamid.FUZZ", "failed", code=131047)],
)
webhook_bodies = st.one_of(
    _mutations(VALID_WEBHOOK),
    json_value,
    st.dictionaries(st.sampled_from(["entry", "object", "changes"]), json_value, max_size=3),
)


def _counts(url: str) -> tuple[int, int, int, int]:
    with transaction(url) as s:
        return (
            s.scalar(select(func.count()).select_from(InboundMessage)) or 0,
            s.scalar(select(func.count()).select_from(MessageStatusEvent)) or 0,
            s.scalar(select(func.count()).select_from(Payment)) or 0,
            s.scalar(select(func.count()).select_from(TimelineEvent)) or 0,
        )


def _healthy(backend_url: str) -> None:
    assert httpx.get(f"{backend_url}/healthz", timeout=30).json()["checks"]["database"] == "ok"
    raw, headers = p.signed(p.webhook([p.text_message("61412999999", "still alive?")]))
    answer = httpx.post(f"{backend_url}/webhooks/whatsapp", content=raw, headers=headers)
    assert answer.status_code == 200 and answer.json()["stored"] == 1


def test_the_whatsapp_webhook_takes_any_signed_body_without_a_5xx(backend_url, pg_db_url):
    outcomes: dict[int, int] = {}

    @FUZZ
    @given(body=webhook_bodies, raw_tail=st.binary(max_size=20))
    def post(body: Any, raw_tail: bytes) -> None:
        before = _counts(pg_db_url)
        raw = json.dumps(body).encode()
        for content in (raw, raw + raw_tail):  # also bytes that are not JSON at all
            _, headers = p.signed({})
            headers["X-Hub-Signature-256"] = p.sign(content, p.APP_SECRET)
            answer = httpx.post(
                f"{backend_url}/webhooks/whatsapp", content=content, headers=headers, timeout=30
            )
            outcomes[answer.status_code] = outcomes.get(answer.status_code, 0) + 1
            assert answer.status_code < 500, (content[:300], answer.text)
            if answer.status_code >= 400:
                assert _counts(pg_db_url) == before, "a rejected webhook stored something"

    post()
    assert set(outcomes) <= {200, 400} and outcomes.get(400) and outcomes.get(200)
    _healthy(backend_url)


VALID_PAYMENT = {
    "id": "evt_fuzz",
    "type": "payment.succeeded",
    "data": {
        "booking_reference": "EBC-2412001",
        "amount_minor": 100,
        "currency": "USD",
        "kind": "DEPOSIT",
    },
}


def test_the_payment_webhook_takes_any_signed_body_without_a_5xx(backend_url, pg_db_url):
    @FUZZ
    @given(body=st.one_of(_mutations(VALID_PAYMENT), json_value))
    def post(body: Any) -> None:
        before = _counts(pg_db_url)
        raw = json.dumps(body).encode()
        answer = httpx.post(
            f"{backend_url}/webhooks/payments",
            content=raw,
            headers={"Stripe-Signature": payment_signature.sign(raw, PAYMENT_SECRET)},
            timeout=30,
        )
        assert answer.status_code < 500, (raw[:300], answer.text)
        if answer.status_code >= 400:
            assert _counts(pg_db_url) == before

    post()
    _healthy(backend_url)


# -- the admin API, from its own OpenAPI document ------------------------------------------
SCHEMA = schemathesis.openapi.from_dict(document(create_app(workers=False)))
API_FUZZ = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def role_tokens(backend_url, pg_db_url, story_clock) -> dict[str, str]:
    tokens = load_demo_world(pg_db_url).staff_tokens
    return {
        Role.SALES: tokens["Sarah Gurung"],
        Role.OPS: tokens["Priya Thapa"],
        Role.GUIDE: tokens["Rajesh Kumar"],
        Role.PORTER: tokens["Pemba Sherpa"],
        Role.ADMIN: tokens["Anil Admin"],
    }


@pytest.mark.parametrize("role", list(Role))
@SCHEMA.parametrize()
@API_FUZZ
def test_the_admin_api_never_answers_5xx(case, role, role_tokens, backend_url):
    if case.path.endswith("/rotate-token") or case.path.endswith("/deactivate"):
        # Spending a token would make the rest of the run's calls meaningless 401s.
        case.headers = {**(case.headers or {}), "Authorization": "Bearer not-a-real-token"}
    else:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {role_tokens[role]}"}
    response = case.call(base_url=backend_url)
    case.validate_response(response, checks=[not_a_server_error])
