"""The only way in to the assistant: Rasa's REST channel behind a shared secret.

Rasa's stock REST channel takes the sender's phone from the request body and asks no
credentials, so anyone who could reach Rasa could speak as any customer or guide (a guide's
CHECKOUT writes payroll). This channel (`/webhooks/tms/webhook`) answers only requests that
carry `X-TMS-Channel-Secret` (`RASA_CHANNEL_SECRET`), which only the backend's inbox worker
sends; `credentials.yml` enables it and nothing else.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from addons import action_calls

# Every `rasa run` of the product loads this channel: its calls to the action server go through
# one validator and pooled connections from here on (addons/action_calls.py), unless
# TMS_RASA_ACTION_CALLS=stock asks for Rasa's own (to compare, or after a Rasa upgrade).
if os.environ.get("TMS_RASA_ACTION_CALLS", "pooled") != "stock":
    action_calls.install()

SECRET_HEADER = "X-TMS-Channel-Secret"


class SecureRestInput(RestInput):
    """The REST channel, answering only callers that know the channel's secret."""

    @classmethod
    def name(cls) -> str:
        return "tms"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SecureRestInput:
        secret = str((credentials or {}).get("secret") or "")
        if not secret:
            raise ValueError("credentials.yml: the tms channel needs a `secret`")
        return cls(secret)

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode("utf-8", "replace")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def only_the_backend(request: Request) -> HTTPResponse | None:
            given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
            if request.path.rstrip("/").endswith("/webhooks/tms") and request.method == "GET":
                return None  # the channel's own health check says nothing
            if not hmac.compare_digest(given, self.secret):
                return response.json({"error": "this channel answers only the backend"}, 403)
            return None

        @webhook.listener("before_server_stop")
        async def close_pooled_sessions(*_: Any) -> None:
            await action_calls.close_sessions()

        return webhook
