"""A small local stand-in for the Stripe endpoints the product uses, for the tests:
`POST /v1/checkout/sessions` and `GET /v1/checkout/sessions/{id}`, plus the hosted checkout
page a customer pays on, which then sends Stripe's signed `checkout.session.completed`
webhook to the backend; and refunds: `POST /v1/refunds` (and `GET /v1/refunds/{id}`).

A paid session has a PaymentIntent (`pi_...`, on the session's `payment_intent`) with one
charge. A refund names the `payment_intent` (or the `charge`) and an `amount` (all that is left
when left out); like Stripe, it is refused when more than what is left on the charge
(`amount_too_large`) or when the charge is refunded in full already
(`charge_already_refunded`), answers a `re_...` refund that `succeeded`, and an
`Idempotency-Key` replays the first answer.

It behaves like Stripe where it matters: the secret key is checked, parameters arrive
form-encoded and are validated, an `Idempotency-Key` replays the first answer (and refuses a
different request under the same key), a session is paid once, sessions expire after 24 h,
and the webhook is signed with the endpoint's secret in Stripe's `t=…,v1=…` scheme.

    python -m devkit.fake_stripe --port 12111 --webhook-url http://127.0.0.1:8000/webhooks/stripe \\
        --secret-key sk_test_local --webhook-secret whsec_local
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

import httpx
from sanic import Request, Sanic, response

from backend.payments.signature import sign

SESSION_LIFETIME = 24 * 3600


def parse_form(body: bytes) -> dict[str, Any]:
    """Stripe's form encoding (`line_items[0][price_data][currency]=usd`) as nested data."""
    result: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = result
        for here, following in itertools.pairwise(parts):
            child_is_list = following.isdigit()
            if isinstance(node, list):
                index = int(here)
                while len(node) <= index:
                    node.append([] if child_is_list else {})
                node = node[index]
            else:
                node = node.setdefault(here, [] if child_is_list else {})
        last = parts[-1]
        if isinstance(node, list):
            index = int(last)
            while len(node) <= index:
                node.append(None)
            node[index] = value
        else:
            node[last] = value
    return result


def _error(status: int, message: str, kind: str = "invalid_request_error", **extra: Any):
    return response.json({"error": {"type": kind, "message": message, **extra}}, status=status)


def create_app(
    *, secret_key: str, webhook_secret: str, webhook_url: str, name: str = "fake_stripe"
) -> Sanic:
    app = Sanic(name)
    sessions: dict[str, dict[str, Any]] = {}
    idempotent: dict[str, tuple[str, dict[str, Any]]] = {}  # key -> (request body, answer)
    intents: dict[str, dict[str, Any]] = {}  # pi_... -> amount, amount_refunded, charge, ...
    refunds: dict[str, dict[str, Any]] = {}
    app.ctx.sessions = sessions
    app.ctx.intents = intents
    app.ctx.refunds = refunds
    app.ctx.events = []

    def authorised(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return header == f"Bearer {secret_key}"

    @app.post("/v1/checkout/sessions")
    async def create_session(request: Request):
        if not authorised(request):
            return _error(401, "Invalid API Key provided")
        key = request.headers.get("idempotency-key")
        body = (request.body or b"").decode()
        if key and key in idempotent:
            first_body, answer = idempotent[key]
            if first_body != body:
                return _error(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                    "idempotency_error",
                )
            return response.json(answer, headers={"Idempotent-Replayed": "true"})
        params = parse_form(request.body or b"")
        problem = _validate(params)
        if problem:
            return _error(400, problem, param=problem.split(":", 1)[0])
        item = params["line_items"][0]
        amount = int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1))
        session_id = f"cs_test_{secrets.token_hex(12)}"
        host = request.headers.get("host", "127.0.0.1")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "payment_intent": None,
            "amount_total": amount,
            "currency": item["price_data"]["currency"],
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata") or {},
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "expires_at": int(time.time()) + SESSION_LIFETIME,
            "url": f"http://{host}/c/pay/{session_id}",
            "line_items_name": item["price_data"]["product_data"]["name"],
        }
        sessions[session_id] = session
        answer = {k: v for k, v in session.items() if k != "line_items_name"}
        if key:
            idempotent[key] = (body, answer)
        return response.json(answer)

    @app.get("/v1/checkout/sessions/<session_id:str>")
    async def retrieve_session(request: Request, session_id: str):
        if not authorised(request):
            return _error(401, "Invalid API Key provided")
        session = sessions.get(session_id)
        if session is None:
            return _error(404, f"No such checkout.session: '{session_id}'", code="resource_missing")
        return response.json({k: v for k, v in session.items() if k != "line_items_name"})

    @app.get("/c/pay/<session_id:str>")
    async def hosted_page(request: Request, session_id: str):
        session = sessions.get(session_id)
        if session is None:
            return response.html("<h1>Something went wrong</h1>", status=404)
        if session["status"] == "complete":
            return response.redirect(_success_url(session), status=303)
        expired = session["expires_at"] < time.time()
        amount = f"{session['amount_total'] / 100:,.2f} {session['currency'].upper()}"
        return response.html(
            "<!doctype html><meta name=viewport content='width=device-width'>"
            "<title>Checkout (test mode)</title>"
            f"<h1>{session['line_items_name']}</h1><p>Pay <strong>{amount}</strong></p>"
            + (
                "<p>This checkout session has expired.</p>"
                if expired
                else "<form method=post><label>Card <input name=card value='4242 4242 4242 4242'></label>"
                "<button>Pay</button></form>"
            )
            + f"<p><a href='{session['cancel_url']}'>Back</a></p>"
        )

    @app.post("/c/pay/<session_id:str>")
    async def pay(request: Request, session_id: str):
        session = sessions.get(session_id)
        if session is None or session["expires_at"] < time.time():
            return response.html("<h1>This checkout session has expired</h1>", status=410)
        if session["status"] != "complete":  # a session is paid once
            session["status"] = "complete"
            session["payment_status"] = "paid"
            intent_id = f"pi_{secrets.token_hex(12)}"
            intents[intent_id] = {
                "id": intent_id,
                "charge": f"ch_{secrets.token_hex(12)}",
                "amount": session["amount_total"],
                "amount_refunded": 0,
                "currency": session["currency"],
            }
            session["payment_intent"] = intent_id
            await _send_webhook(app, session, webhook_url, webhook_secret)
        return response.redirect(_success_url(session), status=303)

    def replayed(request: Request) -> Any:
        """The first answer under this Idempotency-Key, a refusal for other parameters, or
        None for a new key."""
        key = request.headers.get("idempotency-key")
        if not key or key not in idempotent:
            return None
        first_body, answer = idempotent[key]
        if first_body != (request.body or b"").decode():
            return _error(
                400,
                "Keys for idempotent requests can only be used with the same parameters "
                "they were first used with.",
                "idempotency_error",
            )
        return response.json(answer, headers={"Idempotent-Replayed": "true"})

    @app.post("/v1/refunds")
    async def create_refund(request: Request):
        if not authorised(request):
            return _error(401, "Invalid API Key provided")
        replay = replayed(request)
        if replay is not None:
            return replay
        params = parse_form(request.body or b"")
        intent = None
        if params.get("payment_intent"):
            intent = intents.get(str(params["payment_intent"]))
            if intent is None:
                return _error(
                    404,
                    f"No such payment_intent: '{params['payment_intent']}'",
                    code="resource_missing",
                    param="payment_intent",
                )
        elif params.get("charge"):
            intent = next((i for i in intents.values() if i["charge"] == params["charge"]), None)
            if intent is None:
                return _error(
                    404,
                    f"No such charge: '{params['charge']}'",
                    code="resource_missing",
                    param="charge",
                )
        else:
            return _error(400, "One of `charge` or `payment_intent` is required.")
        left = intent["amount"] - intent["amount_refunded"]
        if left <= 0:
            return _error(
                400,
                f"Charge {intent['charge']} has already been refunded.",
                code="charge_already_refunded",
            )
        raw_amount = str(params.get("amount", left))
        if not raw_amount.isdigit() or int(raw_amount) <= 0:
            return _error(400, "Invalid positive integer", param="amount")
        amount = int(raw_amount)
        if amount > left:
            return _error(
                400,
                f"Refund amount ({_major(amount, intent['currency'])}) is greater than "
                f"unrefunded amount on charge ({_major(left, intent['currency'])})",
                code="amount_too_large",
                param="amount",
            )
        intent["amount_refunded"] += amount
        refund = {
            "id": f"re_{secrets.token_hex(12)}",
            "object": "refund",
            "amount": amount,
            "charge": intent["charge"],
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "reason": params.get("reason"),
            "metadata": params.get("metadata") or {},
            "status": "succeeded",
            "created": int(time.time()),
        }
        refunds[refund["id"]] = refund
        key = request.headers.get("idempotency-key")
        if key:
            idempotent[key] = ((request.body or b"").decode(), refund)
        return response.json(refund)

    @app.get("/v1/refunds/<refund_id:str>")
    async def retrieve_refund(request: Request, refund_id: str):
        if not authorised(request):
            return _error(401, "Invalid API Key provided")
        refund = refunds.get(refund_id)
        if refund is None:
            return _error(404, f"No such refund: '{refund_id}'", code="resource_missing")
        return response.json(refund)

    return app


def _major(minor: int, currency: str) -> str:
    return f"{currency.upper()} {minor / 100:,.2f}"


def _validate(params: dict[str, Any]) -> str | None:
    if params.get("mode") != "payment":
        return "mode: must be payment"
    if not params.get("success_url"):
        return "success_url: required"
    items = params.get("line_items")
    if not isinstance(items, list) or len(items) != 1:
        return "line_items: exactly one item expected here"
    price = items[0].get("price_data") or {}
    if not str(price.get("unit_amount", "")).isdigit() or int(price["unit_amount"]) <= 0:
        return "line_items[0][price_data][unit_amount]: a positive integer"
    if not re.fullmatch(r"[a-z]{3}", str(price.get("currency", ""))):
        return "line_items[0][price_data][currency]: a lower-case ISO code"
    if not (price.get("product_data") or {}).get("name"):
        return "line_items[0][price_data][product_data][name]: required"
    return None


def _success_url(session: dict[str, Any]) -> str:
    return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session["id"])


async def _send_webhook(
    app: Sanic, session: dict[str, Any], url: str, secret: str, attempts: int = 5
) -> None:
    event = {
        "id": f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "type": "checkout.session.completed",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "data": {"object": {k: v for k, v in session.items() if k != "line_items_name"}},
    }
    raw = json.dumps(event).encode()
    app.ctx.events.append(event)
    async with httpx.AsyncClient(timeout=30) as client:
        for attempt in range(attempts):  # Stripe retries a failed delivery
            try:
                answer = await client.post(
                    url,
                    content=raw,
                    headers={
                        "Content-Type": "application/json",
                        "Stripe-Signature": sign(raw, secret),
                    },
                )
                if answer.status_code < 300:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5 * (attempt + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", required=True)
    parser.add_argument("--secret-key", default="sk_test_local")
    parser.add_argument("--webhook-secret", default="whsec_local")
    args = parser.parse_args()
    app = create_app(
        secret_key=args.secret_key, webhook_secret=args.webhook_secret, webhook_url=args.webhook_url
    )

    @app.get("/_fake/health")
    async def health(request: Request):
        return response.json({"ok": True})

    @app.post("/_fake/webhooks")
    async def webhook_sink(request: Request):
        """Where the webhooks go when a test runs the fake without a backend."""
        return response.json({"received": True})

    app.run(host="127.0.0.1", port=args.port, single_process=True, access_log=False)


if __name__ == "__main__":
    main()
