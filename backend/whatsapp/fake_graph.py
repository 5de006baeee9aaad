"""A fake of Meta's Graph API for tests and the demo, strict the way Meta is.

`python -m backend.whatsapp.fake_graph --port 8900 --webhook-url http://127.0.0.1:8000/webhooks/whatsapp`

- `POST /{version}/{phone_number_id}/messages`: checks the Bearer token and the phone number
  id; enforces the limits (text ≤ 4096, 1-3 reply buttons with titles ≤ 20 characters,
  approved templates with the right number of parameters), the 24-hour window (free-form to
  someone who has not written in 24 h: 131047, at once or later as a `failed` status), the
  business number's rate (130429) and a per-recipient burst (131056). Returns a wamid, then
  sends signed `sent` / `delivered` / `read` status webhooks back.
- Test controls under `/_fake/`: `inbound` (a customer writes: a signed webhook to the
  backend), `messages` (what was received), `config`, `clock` (move time), `reset`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sanic import Request, Sanic, response

from backend.config import get_settings
from backend.whatsapp.messages import BUTTON_LIMIT, BUTTON_TITLE_LIMIT, TEXT_LIMIT
from backend.whatsapp.signature import sign
from backend.whatsapp.templates import all_template_names

WINDOW = timedelta(hours=24)
SERVER_ERROR_CODES = {1, 2, 131000}  # Meta's "unknown"/"service unavailable" errors, as HTTP 500


class FakeMeta:
    def __init__(
        self, *, webhook_url: str, app_secret: str, access_token: str, phone_number_id: str
    ) -> None:
        self.webhook_url = webhook_url
        self.app_secret = app_secret
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self._ids = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.last_inbound: dict[str, datetime] = {}
        self.offset = timedelta(0)
        self.sent_times: deque[float] = deque()
        self.recipient_times: dict[str, deque[float]] = defaultdict(deque)
        self.fail_next: list[int] = []
        self.config: dict[str, Any] = {
            "window_mode": "async",  # 131047 as a later failed status (like Meta), or "sync"
            "rate_per_second": 80,
            "recipient_burst": 45,  # more than this within 6 s to one recipient: 131056
            "statuses": ["sent", "delivered", "read"],
            "status_delay": 0.05,
            "shuffle_statuses": False,
            "duplicate_statuses": False,
            "latency": 0.0,
        }
        self.webhooks_sent = 0

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def wamid(self) -> str:
        return f"wamid.FAKE{int(time.time() * 1000)}{next(self._ids):08d}"

    # -- outbound (business → user) ------------------------------------------------------------
    def check(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """An error answer for a request Meta would refuse, or None."""
        if self.fail_next:
            code = self.fail_next.pop(0)
            return error(
                code, "Injected failure", status=500 if code in SERVER_ERROR_CODES else 400
            )
        if body.get("messaging_product") != "whatsapp" or not body.get("to"):
            return error(100, "Invalid parameter: messaging_product and to are required")
        kind = body.get("type", "text")
        if kind == "text":
            text = (body.get("text") or {}).get("body") or ""
            if not text:
                return error(100, "Param text['body'] is required")
            if len(text) > TEXT_LIMIT:
                return error(
                    100, f"Param text['body'] must be at most {TEXT_LIMIT} characters long"
                )
        elif kind == "interactive":
            buttons = (((body.get("interactive") or {}).get("action") or {}).get("buttons")) or []
            if not 1 <= len(buttons) <= BUTTON_LIMIT:
                return error(131009, f"Parameter value is not valid: 1 to {BUTTON_LIMIT} buttons")
            for button in buttons:
                title = ((button or {}).get("reply") or {}).get("title") or ""
                if not title or len(title) > BUTTON_TITLE_LIMIT:
                    return error(131009, f"Button title length invalid: {title!r}")
        elif kind == "template":
            template = body.get("template") or {}
            approved = all_template_names()
            if template.get("name") not in approved:
                return error(
                    132001,
                    f"Template name does not exist in the translation: {template.get('name')}",
                )
            params = [
                p for c in template.get("components") or [] for p in c.get("parameters") or []
            ]
            if len(params) != approved[template["name"]]:
                return error(
                    132000, "Number of parameters does not match the expected number of params"
                )
        else:
            return error(100, f"Unsupported message type {kind}")
        now = time.monotonic()
        while self.sent_times and now - self.sent_times[0] > 1.0:
            self.sent_times.popleft()
        if len(self.sent_times) >= self.config["rate_per_second"]:
            return error(130429, "Rate limit hit", status=400)
        recent = self.recipient_times[body["to"]]
        while recent and now - recent[0] > 6.0:
            recent.popleft()
        if len(recent) >= self.config["recipient_burst"]:
            return error(131056, "(Business Account, Consumer Account) pair rate limit hit")
        if (
            kind != "template"
            and not self.window_open(body["to"])
            and self.config["window_mode"] == "sync"
        ):
            return error(131047, "Re-engagement message")
        return None

    def window_open(self, wa_id: str) -> bool:
        last = self.last_inbound.get(wa_id)
        return last is not None and self.now() - last < WINDOW

    def accept(self, body: dict[str, Any]) -> str:
        wamid = self.wamid()
        now = time.monotonic()
        self.sent_times.append(now)
        self.recipient_times[body["to"]].append(now)
        kind = body.get("type", "text")
        late_failure = kind != "template" and not self.window_open(body["to"])
        self.messages.append(
            {
                "id": wamid,
                "to": body["to"],
                "type": kind,
                "text": (body.get("text") or {}).get("body")
                or ((body.get("interactive") or {}).get("body") or {}).get("text"),
                "buttons": [
                    b["reply"]["title"]
                    for b in (
                        ((body.get("interactive") or {}).get("action") or {}).get("buttons") or []
                    )
                ],
                "template": (body.get("template") or {}).get("name"),
                "template_params": [
                    p.get("text")
                    for c in (body.get("template") or {}).get("components") or []
                    for p in c.get("parameters") or []
                ],
                "at": self.now().isoformat(),
                "window_open": not late_failure,
            }
        )
        return wamid

    def statuses_for(self, wamid: str, wa_id: str, late_failure: bool) -> list[dict[str, Any]]:
        ts = str(int(self.now().timestamp()))
        if late_failure:
            return [
                {
                    "id": wamid,
                    "status": "failed",
                    "timestamp": ts,
                    "recipient_id": wa_id,
                    "errors": [{"code": 131047, "title": "Re-engagement message"}],
                }
            ]
        items = [
            {"id": wamid, "status": s, "timestamp": ts, "recipient_id": wa_id}
            for s in self.config["statuses"]
        ]
        if self.config["shuffle_statuses"]:
            random.shuffle(items)
        if self.config["duplicate_statuses"]:
            items = items + items
        return items

    # -- inbound (user → business) ---------------------------------------------------------------
    def inbound_payload(self, message: dict[str, Any], name: str | None) -> dict[str, Any]:
        contact = {"profile": {"name": name or "WhatsApp user"}, "wa_id": message["from"]}
        return self._envelope({"contacts": [contact], "messages": [message]})

    def status_payload(self, statuses: list[dict[str, Any]]) -> dict[str, Any]:
        return self._envelope({"statuses": statuses})

    def _envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        """A webhook body as Meta sends it: one entry, one change of field `messages`."""
        metadata = {
            "display_phone_number": "9779800000000",
            "phone_number_id": self.phone_number_id,
        }
        change = {
            "field": "messages",
            "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA_FAKE", "changes": [change]}],
        }

    async def post_webhook(self, client: httpx.AsyncClient, payload: dict[str, Any]) -> int:
        raw = json.dumps(payload).encode()
        answer = await client.post(
            self.webhook_url,
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sign(raw, self.app_secret),
            },
        )
        self.webhooks_sent += 1
        return answer.status_code


def error(code: int, message: str, status: int = 400) -> tuple[int, dict[str, Any]]:
    return status, {
        "error": {
            "message": f"({code}) {message}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": message},
            "fbtrace_id": "FAKE",
        }
    }


def create_fake_app(fake: FakeMeta) -> Sanic:
    app = Sanic(f"fake_graph_{id(fake)}")
    app.ctx.fake = fake

    @app.before_server_start
    async def open_client(app: Sanic) -> None:
        app.ctx.http = httpx.AsyncClient(timeout=10)

    @app.after_server_stop
    async def close_client(app: Sanic) -> None:
        await app.ctx.http.aclose()

    async def deliver_statuses(wamid: str, wa_id: str, late_failure: bool) -> None:
        for status in fake.statuses_for(wamid, wa_id, late_failure):
            await asyncio.sleep(fake.config["status_delay"])
            # Meta would retry a failed delivery; the fake does not need to.
            with contextlib.suppress(httpx.HTTPError):
                await fake.post_webhook(app.ctx.http, fake.status_payload([status]))

    @app.post("/<version:str>/<phone_number_id:str>/messages")
    async def messages(request: Request, version: str, phone_number_id: str):  # type: ignore[no-untyped-def]
        if request.headers.get("authorization") != f"Bearer {fake.access_token}":
            status, body = error(190, "Invalid OAuth access token", status=401)
            return response.json(body, status=status)
        if phone_number_id != fake.phone_number_id:
            status, body = error(
                100, f"Unsupported post request. Object with ID '{phone_number_id}' does not exist"
            )
            return response.json(body, status=status)
        if fake.config["latency"]:
            await asyncio.sleep(fake.config["latency"])
        body = request.json or {}
        refused = fake.check(body)
        if refused is not None:
            return response.json(refused[1], status=refused[0])
        late_failure = body.get("type", "text") != "template" and not fake.window_open(body["to"])
        wamid = fake.accept(body)
        asyncio.get_running_loop().create_task(deliver_statuses(wamid, body["to"], late_failure))
        return response.json(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": wamid}],
            }
        )

    @app.post("/_fake/inbound")
    async def inbound(request: Request):  # type: ignore[no-untyped-def]
        data = request.json or {}
        wa_id = str(data["from"]).lstrip("+")
        message: dict[str, Any] = {
            "from": wa_id,
            "id": data.get("id") or fake.wamid(),
            "timestamp": str(int(fake.now().timestamp())),
            "type": data.get("type", "text"),
        }
        if message["type"] == "text":
            message["text"] = {"body": data.get("text", "")}
        elif message["type"] == "interactive":
            message["interactive"] = {
                "type": "button_reply",
                "button_reply": {
                    "id": data.get("payload") or data.get("text"),
                    "title": data.get("text"),
                },
            }
        else:
            message[message["type"]] = data.get("content") or {}
        fake.last_inbound[wa_id] = fake.now()
        status = await fake.post_webhook(
            app.ctx.http, fake.inbound_payload(message, data.get("name"))
        )
        return response.json({"wamid": message["id"], "webhook_status": status})

    @app.get("/_fake/messages")
    async def list_messages(request: Request):  # type: ignore[no-untyped-def]
        to = (request.args.get("to") or "").lstrip("+")
        since = int(request.args.get("since", 0))
        found = [m for m in fake.messages[since:] if not to or m["to"] == to]
        return response.json({"messages": found, "total": len(fake.messages)})

    @app.post("/_fake/config")
    async def configure(request: Request):  # type: ignore[no-untyped-def]
        data = request.json or {}
        fake.fail_next.extend(int(c) for c in data.pop("fail_next", []))
        fake.config.update(data)
        return response.json({"config": fake.config, "fail_next": fake.fail_next})

    @app.post("/_fake/clock")
    async def clock(request: Request):  # type: ignore[no-untyped-def]
        fake.offset += timedelta(hours=float((request.json or {}).get("advance_hours", 0)))
        return response.json({"now": fake.now().isoformat()})

    @app.post("/_fake/reset")
    async def reset(request: Request):  # type: ignore[no-untyped-def]
        fake.reset()
        return response.json({"ok": True})

    @app.get("/_fake/health")
    async def health(request: Request):  # type: ignore[no-untyped-def]
        return response.json({"ok": True, "messages": len(fake.messages)})

    return app


def main() -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(
        description="A fake WhatsApp Cloud API (Graph API) for tests and the demo"
    )
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument(
        "--webhook-url", default=f"http://127.0.0.1:{settings.backend_port}/webhooks/whatsapp"
    )
    args = parser.parse_args()
    fake = FakeMeta(
        webhook_url=args.webhook_url,
        app_secret=settings.whatsapp_app_secret,
        access_token=settings.whatsapp_access_token,
        phone_number_id=settings.whatsapp_phone_number_id,
    )
    create_fake_app(fake).run(
        host="127.0.0.1", port=args.port, single_process=True, access_log=False, motd=False
    )


if __name__ == "__main__":
    main()
