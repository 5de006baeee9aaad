"""Every route × every role (and no token, and a deactivated one) against the table below.

The table is checked against the app's own route list: a new route that is not in it, or that
names no roles, fails here until someone decides who may use it."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from backend.api.openapi import api_operations
from backend.app import create_app
from backend.config import get_settings
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import Role
from backend.services import staff as staff_service

S, OP, G, P, A = Role.SALES, Role.OPS, Role.GUIDE, Role.PORTER, Role.ADMIN
EVERYONE = {S, OP, G, P, A}

# (method, path) → the roles that may call it (ADMIN everywhere).
EXPECTED: dict[tuple[str, str], set[Role]] = {
    ("get", "/api/leads"): {S, A},
    ("get", "/api/leads/{lead_id}"): {S, A},
    ("post", "/api/leads/{lead_id}/quote"): {S, A},
    ("post", "/api/leads/{lead_id}/hold"): {S, A},
    ("get", "/api/departures"): {S, OP, A},
    ("get", "/api/departures/{departure_id}"): {S, OP, A},
    ("post", "/api/departures/{departure_id}/assignments"): {OP, A},
    ("get", "/api/departures/{departure_id}/move"): {OP, A},
    ("post", "/api/departures/{departure_id}/move"): {OP, A},
    ("get", "/api/departures/{departure_id}/guarantee"): {S, OP, A},
    ("post", "/api/departures/{departure_id}/guarantee"): {OP, A},
    ("put", "/api/departures/{departure_id}/guarantee"): {OP, A},
    ("post", "/api/departures/{departure_id}/guarantee/decision"): {OP, A},
    ("put", "/api/products/{code}/guarantee"): {OP, A},
    ("post", "/api/trips/{reference}/shift"): {OP, A},
    ("get", "/api/bookings/{booking_id}"): {S, OP, A},
    ("post", "/api/bookings/{booking_id}/cancel"): {S, OP, A},
    ("get", "/api/bookings/{booking_id}/ledger"): {S, OP, A},
    ("get", "/api/bookings/{booking_id}/reschedule"): {S, OP, A},
    ("post", "/api/bookings/{booking_id}/reschedule"): {S, OP, A},
    ("get", "/api/ledger.csv"): {OP, A},
    ("get", "/api/incidents"): {OP, A},
    ("post", "/api/incidents/{incident_id}"): {OP, A},
    # On the mountain (backend/api/incident_rescue.py): the guests' papers, the checklist.
    ("get", "/api/incidents/{incident_id}/rescue"): {OP, A},
    ("post", "/api/incidents/{incident_id}/rescue/{step}"): {OP, A},
    ("get", "/api/incidents/{incident_id}/dossier.pdf"): {OP, A},
    ("post", "/api/conversations/{conversation_id}/messages"): {S, OP, A},
    ("post", "/api/conversations/{conversation_id}/handoff"): {S, OP, A},
    ("get", "/api/timeline"): {S, OP, A},
    ("get", "/api/outbox"): {S, OP, A},
    ("post", "/api/outbox/retry"): {OP, A},
    ("post", "/api/inbox/retry"): {OP, A},
    ("get", "/api/inbox"): {OP, A},
    ("get", "/api/staff"): {S, OP, A},
    ("get", "/api/feedback/summary"): {S, OP, A},
    ("get", "/api/events/latest"): {S, OP, A},
    ("get", "/api/me"): EVERYONE,
    ("post", "/api/me/rotate-token"): EVERYONE,
    ("get", "/api/me/tokens"): EVERYONE,
    ("post", "/api/me/tokens/{token_id}/revoke"): EVERYONE,
    ("post", "/api/staff/{staff_id}/rotate-token"): {A},
    ("post", "/api/staff/{staff_id}/deactivate"): {A},
    ("get", "/api/faq"): {S, OP, A},
    ("put", "/api/faq/{topic}"): {A},
    ("get", "/api/translations"): {S, OP, A},
    ("put", "/api/translations/{language}"): {A},
    ("get", "/api/products/{code}/texts/{language}"): {S, OP, A},
    ("put", "/api/products/{code}/texts/{language}"): {A},
    ("get", "/api/products"): {S, OP, A},
    ("post", "/api/products"): {A},
    ("patch", "/api/products/{product_id}"): {A},
    ("post", "/api/departures"): {A},
    ("patch", "/api/departures/{departure_id}"): {A},
    ("post", "/api/staff"): {A},
    ("patch", "/api/staff/{staff_id}"): {A},
    # Money settings (backend/api/money_admin.py).
    ("get", "/api/exchange-rates"): {S, OP, A},
    ("post", "/api/exchange-rates"): {A},
    ("get", "/api/cancellation-policy"): {S, OP, A},
    ("put", "/api/cancellation-policy"): {A},
    ("get", "/api/products/{code}/cancellation-policy"): {S, OP, A},
    ("put", "/api/products/{code}/cancellation-policy"): {A},
    ("get", "/api/bookings/{booking_id}/refundable"): {S, OP, A},
    # What WhatsApp messages cost (backend/api/message_rates.py): Meta's rate card, the spend.
    ("get", "/api/message-rates"): {OP, A},
    ("post", "/api/message-rates"): {A},
    ("get", "/api/message-spend"): {OP, A},
    ("get", "/api/campaigns"): {S, OP, A},
    ("post", "/api/campaigns"): {A},
    ("get", "/api/campaigns/{campaign_id}"): {S, OP, A},
    ("post", "/api/campaigns/{campaign_id}/send"): {S, OP, A},
    ("get", "/api/messaging-limit"): {OP, A},
    # Refunds and credits (backend/api/refunds.py).
    ("get", "/api/bookings/{booking_id}/refunds"): {OP, A},
    ("post", "/api/bookings/{booking_id}/refunds"): {OP, A},
    # Transfer and card-link receipts (backend/api/proofs.py).
    ("get", "/api/payment-proofs"): {OP, A},
    ("post", "/api/payment-proofs/{proof_id}/verify"): {OP, A},
    ("post", "/api/payment-proofs/{proof_id}/reject"): {OP, A},
    ("post", "/api/payments/cash"): {OP, A},
    # The traveller file (backend/api/travellers.py, traveller_exports.py): the manifest is
    # open to every role and the service gives it to a guide for the trip they lead only.
    ("get", "/api/bookings/{reference}/travellers"): {OP, A},
    ("put", "/api/bookings/{reference}/travellers/{position}"): {OP, A},
    ("get", "/api/departures/{departure_id}/readiness"): {S, OP, A},
    ("get", "/api/departures/{departure_id}/permits.csv"): {OP, A},
    ("get", "/api/departures/{departure_id}/permits.pdf"): {OP, A},
    ("get", "/api/departures/{departure_id}/manifest.pdf"): EVERYONE,
    # A customer's privacy requests (backend/api/data_requests.py).
    ("post", "/api/contacts/{contact_id}/erase-papers"): {OP, A},
    ("get", "/api/contacts/{contact_id}/data.json"): {OP, A},
}
# Routes without a staff token say who may use them instead (`access`).
NOT_STAFF = {
    ("get", "/webhooks/whatsapp"),
    ("post", "/webhooks/whatsapp"),
    ("post", "/webhooks/payments"),
    ("get", "/api/openapi.json"),
    # The customers' pages: a signed link is the key (backend/links.py).
    ("get", "/pay/<token:str>"),
    ("post", "/pay/<token:str>"),
    ("post", "/pay-receipt/<token:str>"),
    ("post", "/pay-credit/<token:str>"),
    ("get", "/book/<token:str>"),
    ("post", "/book/<token:str>"),
    ("get", "/track/<token:str>"),
    ("get", "/feedback/<token:str>"),
    ("post", "/feedback/<token:str>"),
    ("get", "/papers/<token:str>"),
    ("post", "/papers/<token:str>/<n:int>"),
    ("post", "/papers-photo/<token:str>/<n:int>/<kind:str>"),
    ("get", "/static/countdown.js"),
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("post", "/webhooks/stripe"),
    # The console's sign-in (a session cookie is the key after it; tests/backend/console).
    ("get", "/console"),
    ("get", "/console/static/console.js"),
    ("get", "/console/sign-in"),
    ("post", "/console/sign-in"),
    ("post", "/console/sign-in/code"),
    ("get", "/console/sign-in/link/<secret:str>"),
    ("post", "/console/sign-in/link/<secret:str>"),
}
# The pay pages only with a payment provider; each provider's webhook only with that provider
# (the local provider's, which marks bookings paid with no money, never beside Stripe).
PAY_PAGES = {
    ("get", "/pay/<token:str>"),
    ("post", "/pay/<token:str>"),
    ("post", "/pay-receipt/<token:str>"),
    ("post", "/pay-credit/<token:str>"),
}
LOCAL_ONLY = {("post", "/webhooks/payments")}
STRIPE_ONLY = {("post", "/webhooks/stripe")}

# The app as production runs it: with Stripe configured.
APP = create_app(replace(get_settings(), payment_provider="stripe"), workers=False)


def _unmarked(app) -> set[tuple[str, str]]:
    return {
        (m.lower(), "/" + r.path)
        for r in app.router.routes
        for m in r.methods
        if hasattr(r.handler, "tms_access")
    }


def test_without_a_payment_provider_there_are_no_pay_routes():
    bare = create_app(
        replace(get_settings(), payment_provider="", payment_methods="card"), workers=False
    )
    assert _unmarked(bare) == NOT_STAFF - PAY_PAGES - LOCAL_ONLY - STRIPE_ONLY
    # Transfers (or a bank's card page) alone are enough for the pay pages.
    transfers = create_app(
        replace(get_settings(), payment_provider="", payment_methods="bank_transfer"),
        workers=False,
    )
    assert _unmarked(transfers) == NOT_STAFF - LOCAL_ONLY - STRIPE_ONLY
    local = create_app(replace(get_settings(), payment_provider="local"), workers=False)
    assert _unmarked(local) == NOT_STAFF - STRIPE_ONLY


def test_every_route_is_in_the_table_and_names_who_may_use_it():
    declared = {(m, p): set(h.tms_roles) | {A} for m, p, h in api_operations(APP)}
    assert declared == EXPECTED
    for route in APP.router.routes:
        handler = route.handler
        assert getattr(handler, "tms_roles", None) or getattr(handler, "tms_access", None), (
            f"/{route.path} names nobody who may use it"
        )
    assert _unmarked(APP) == NOT_STAFF - LOCAL_ONLY


@pytest.fixture
def tokens(backend_url, pg_db_url) -> dict[str, str]:
    """A fresh token per role, per test (rotating one's own token spends it)."""
    found: dict[str, str] = {}
    with transaction(pg_db_url) as s:
        for n, role in enumerate(Role, start=1):
            _, found[role] = staff_service.add_staff(
                s, name=f"{role} person", phone=f"+97798020000{n:02d}", roles=[role], actor=SYSTEM
            )
        gone, found["deactivated"] = staff_service.add_staff(
            s, name="Former admin", phone="+9779802000099", roles=[Role.ADMIN], actor=SYSTEM
        )
        staff_service.deactivate(s, gone, SYSTEM)
    return found


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_each_role_gets_what_the_table_says(backend_url, tokens, method, path):
    url = backend_url + path.replace("{", "").replace("}", "-unknown")

    def call(token: str | None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.request(method, url, headers=headers, json={}, timeout=30).status_code

    assert call(None) == 401
    assert call("not-a-token") == 401
    assert call(tokens["deactivated"]) == 401
    for role in Role:
        status = call(tokens[role])
        if role in EXPECTED[(method, path)]:
            assert status not in (401, 403) and status < 500, (role, status)
        else:
            assert status == 403, (role, status)
