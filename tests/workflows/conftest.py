"""The whole stack for the workflow tests: action server, Rasa, the fake Graph API and the
backend service with its workers, all on the PostgreSQL test database. Customers and guides
write through the fake Graph API (signed webhooks), staff use the admin API, the payment
gateway posts signed webhooks."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from backend.db import transaction
from backend.demo_data import load
from backend.payments.provider import payment_event, post_payment_webhook
from tests.processes import (
    free_port,
    start_action_server,
    start_backend,
    start_fake_graph,
    start_rasa,
)

pytestmark = pytest.mark.rasa


@dataclass
class Stack:
    backend_url: str
    fake_url: str
    tokens: dict[str, str] = field(default_factory=dict)
    transcript: list[str] = field(default_factory=list)

    def say(
        self, phone: str, text: str, *, expect: int = 1, wait: float = 60.0
    ) -> list[dict[str, Any]]:
        """A customer or guide writes; returns the messages the product sent to them after it,
        waiting until at least `expect` arrived."""
        before = self.total()
        self.transcript.append(f"{phone}: {text}")
        answer = httpx.post(
            f"{self.fake_url}/_fake/inbound", json={"from": phone, "text": text, "name": "Test"}
        )
        assert answer.json()["webhook_status"] == 200
        return self.wait_for(phone, since=before, expect=expect, wait=wait)

    def total(self) -> int:
        return int(httpx.get(f"{self.fake_url}/_fake/messages").json()["total"])

    def messages_to(self, phone: str, since: int = 0) -> list[dict[str, Any]]:
        return httpx.get(
            f"{self.fake_url}/_fake/messages", params={"to": phone, "since": since}
        ).json()["messages"]

    def wait_for(
        self, phone: str, *, since: int, expect: int = 1, wait: float = 60.0
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            found = self.messages_to(phone, since)
            if len(found) >= expect:
                time.sleep(0.3)
                return self.messages_to(phone, since)
            time.sleep(0.1)
        raise AssertionError(f"no message to {phone} within {wait}s")

    def api(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.backend_url}{path}",
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
            timeout=30,
            **kwargs,
        )

    def pay(
        self, reference: str, amount_minor: int, kind: str, currency: str = "USD"
    ) -> dict[str, Any]:
        answer = post_payment_webhook(
            self.backend_url, payment_event(reference, amount_minor, currency, kind)
        )
        assert answer.status_code == 200, answer.text
        return answer.json()


def body(message: dict[str, Any]) -> str:
    """What the person reads: the text, or a template's parameters."""
    return (
        message["text"] if message["type"] != "template" else " | ".join(message["template_params"])
    )


@pytest.fixture(scope="session")
def full_stack(trained_model, pg_migrated, tmp_path_factory):
    logs = tmp_path_factory.mktemp("stack-logs")
    actions, action_port = start_action_server(pg_migrated, logs)
    rasa, rasa_port = start_rasa(
        trained_model, action_port, f"sqlite:///{logs / 'tracker.sqlite3'}", logs
    )
    backend_port = free_port()
    fake, fake_port = start_fake_graph(f"http://127.0.0.1:{backend_port}/webhooks/whatsapp", logs)
    backend, _ = start_backend(
        pg_migrated,
        logs,
        workers=True,
        port=backend_port,
        extra_env={
            "RASA_URL": f"http://127.0.0.1:{rasa_port}",
            "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}",
            "WHATSAPP_API_BASE_URL": f"http://127.0.0.1:{fake_port}/v23.0",
            "RECIPIENT_BURST": "30",
        },
    )
    servers = [backend, fake, rasa, actions]
    try:
        for server in (actions, fake, backend):
            server.wait_ready(90)
        rasa.wait_ready(300)
        yield Stack(f"http://127.0.0.1:{backend_port}", f"http://127.0.0.1:{fake_port}")
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def stack(full_stack, pg_db_url):
    """The stack with a fresh demo world and staff tokens."""
    httpx.post(f"{full_stack.fake_url}/_fake/reset").raise_for_status()
    with transaction(pg_db_url) as session:
        world = load(session)
    full_stack.tokens = {
        "sales": world.staff_tokens["Sarah Gurung"],
        "ops": world.staff_tokens["Priya Thapa"],
        "guide": world.staff_tokens["Rajesh Kumar"],
        "admin": world.staff_tokens["Anil Admin"],
    }
    full_stack.transcript = []
    return full_stack
