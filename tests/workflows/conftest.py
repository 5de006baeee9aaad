"""The whole stack for the workflow tests: action server, Rasa, the fake Graph API and the
backend service with its workers, all on the PostgreSQL test database. Customers and guides
write through the fake Graph API (signed webhooks), staff use the admin API, the payment
gateway posts signed webhooks."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.payments.provider import payment_event, post_payment_webhook
from devkit import local_smtp
from devkit.chat import tap_for
from tests.conftest import StoryClock, load_demo_world
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
    # Every process's clock, on the workflows' calendar: tests move it as the story moves.
    clock: StoryClock | None = None
    mail_dir: Path | None = None

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

    def tap(
        self, phone: str, title: str, *, expect: int = 1, wait: float = 60.0
    ) -> list[dict[str, Any]]:
        """Tap the button, list row or template quick reply titled `title` on the latest
        message that shows it: the phone sends back its payload."""
        tap = tap_for(title, self.messages_to(phone))
        assert tap is not None, f"no [{title}] was shown to {phone}"
        before = self.total()
        self.transcript.append(f"{phone}: [{title}]")
        answer = httpx.post(
            f"{self.fake_url}/_fake/inbound", json={"from": phone, "name": "Test", **tap}
        )
        assert answer.json()["webhook_status"] == 200
        return self.wait_for(phone, since=before, expect=expect, wait=wait)

    def send_photo(self, phone: str, path: Path, caption: str) -> str:
        """A phone uploads a JPEG and sends it (the message carries the media id); its wamid."""
        uploaded = httpx.post(
            f"{self.fake_url}/_fake/media",
            json={
                "content_base64": base64.b64encode(path.read_bytes()).decode(),
                "mime_type": "image/jpeg",
            },
        ).json()
        answer = httpx.post(
            f"{self.fake_url}/_fake/inbound",
            json={
                "from": phone,
                "name": "Test",
                "type": "image",
                "content": {"id": uploaded["id"], "mime_type": "image/jpeg", "caption": caption},
            },
        ).json()
        assert answer["webhook_status"] == 200
        return str(answer["wamid"])

    def answer(
        self, by: str, phone: str, *, typed: str, tapped: str, expect: int = 1
    ) -> list[dict[str, Any]]:
        """The same choice typed or tapped, as the test is parametrised."""
        if by == "typed":
            return self.say(phone, typed, expect=expect)
        return self.tap(phone, tapped, expect=expect)

    def total(self) -> int:
        return int(httpx.get(f"{self.fake_url}/_fake/messages").json()["total"])

    def messages_to(self, phone: str, since: int = 0) -> list[dict[str, Any]]:
        return httpx.get(
            f"{self.fake_url}/_fake/messages", params={"to": phone, "since": since}
        ).json()["messages"]

    def wait_for(
        self,
        phone: str,
        *,
        since: int,
        expect: int = 1,
        wait: float = 60.0,
        until: Callable[[list[dict[str, Any]]], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """The messages to `phone` after `since`, once `expect` arrived (and, with `until`,
        once they show what it looks for: other messages, a reminder the clock's jump made
        due, may come first)."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            found = self.messages_to(phone, since)
            if len(found) >= expect and (until is None or until(found)):
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

    def open_link(
        self, text: str, purpose: str, form: dict[str, str] | None = None
    ) -> httpx.Response:
        """Follow the `purpose` link in a message the way a customer's phone does (GET, or the
        page's form posted), redirects followed."""
        found = re.search(rf"https?://\S+?/{purpose}/[A-Za-z0-9_.\-]+", text)
        assert found, f"no {purpose} link in {text!r}"
        if form is None:
            return httpx.get(found.group(0), timeout=30)
        return httpx.post(found.group(0), data=form, timeout=60, follow_redirects=True)

    def mail_to(self, address: str, *, expect: int = 1, wait: float = 30.0) -> list[Any]:
        """The e-mails the local SMTP server received for `address`, once `expect` arrived."""
        assert self.mail_dir is not None
        deadline = time.monotonic() + wait
        while True:
            found = [m for m in local_smtp.captured(self.mail_dir) if address in m.to]
            if len(found) >= expect or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

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
    return message["text"] if message["type"] != "template" else message["rendered"]


@pytest.fixture(scope="session")
def full_stack(trained_model, pg_migrated, tmp_path_factory):
    logs = tmp_path_factory.mktemp("stack-logs")
    backend_port, smtp_port = free_port(), free_port()
    # The links the assistant's replies carry open this stack's own pages.
    actions, action_port = start_action_server(
        pg_migrated, logs, extra_env={"PUBLIC_BASE_URL": f"http://127.0.0.1:{backend_port}"}
    )
    rasa, rasa_port = start_rasa(
        trained_model, action_port, f"sqlite:///{logs / 'tracker.sqlite3'}", logs
    )
    # A real SMTP server (aiosmtpd) keeps what the product mails, for the tests to read.
    mail_dir = logs / "mail"
    smtp = local_smtp.start(smtp_port, mail_dir)
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
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{backend_port}",
            "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "MEDIA_DIR": str(logs / "media"),
        },
    )
    servers = [backend, fake, rasa, actions]
    try:
        for server in (actions, fake, backend):
            server.wait_ready(90)
        rasa.wait_ready(300)
        yield Stack(
            f"http://127.0.0.1:{backend_port}", f"http://127.0.0.1:{fake_port}", mail_dir=mail_dir
        )
    finally:
        for server in servers:
            server.stop()
        smtp.stop()


@pytest.fixture
def stack(full_stack, pg_db_url, story_clock):
    """The stack with a fresh demo world and staff tokens."""
    httpx.post(f"{full_stack.fake_url}/_fake/reset").raise_for_status()
    if full_stack.mail_dir is not None:
        for old in full_stack.mail_dir.glob("*.eml"):
            old.unlink()
    world = load_demo_world(pg_db_url)
    full_stack.tokens = {
        "sales": world.staff_tokens["Sarah Gurung"],
        "ops": world.staff_tokens["Priya Thapa"],
        "guide": world.staff_tokens["Rajesh Kumar"],
        "admin": world.staff_tokens["Anil Admin"],
    }
    full_stack.transcript = []
    full_stack.clock = story_clock
    return full_stack
