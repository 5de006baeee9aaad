"""The backend with its workers and the fake Graph API (no Rasa), for tests that need messages
to really go out on WhatsApp and be read back from the fake, as a person reads them on their
phone: the console's sign-in codes, consent replies.

Its backend's sender works the test database's outbox: while the workflows' session-wide
stack (tests/workflows) is up, that stack's sender would take these messages too, so these
modules run before it (pytest's default order: tests/backend before tests/workflows)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import load_demo_world
from tests.processes import free_port, start_backend, start_fake_graph


@dataclass
class Console:
    url: str
    fake_url: str
    tokens: dict[str, str] = field(default_factory=dict)
    media_dir: Path | None = None

    def total(self) -> int:
        return int(httpx.get(f"{self.fake_url}/_fake/messages").json()["total"])

    def code_sent_to(self, phone: str, since: int, wait: float = 30.0) -> str:
        """The sign-in code in the last WhatsApp message to `phone` after `since`."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            found = httpx.get(
                f"{self.fake_url}/_fake/messages", params={"to": phone, "since": since}
            ).json()["messages"]
            for message in reversed(found):
                shown = message["text"] if message["type"] != "template" else message["rendered"]
                code = re.search(r"sign-in code is (\d{6})\b", shown or "")
                if code:
                    return code.group(1)
            time.sleep(0.1)
        raise AssertionError(f"no sign-in code reached {phone}")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)

    def sign_in(self, phone: str) -> httpx.Client:
        """A browser-like client signed in with a WhatsApp code."""
        browser = self.client()
        form = browser.get("/console/sign-in")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        since = self.total()
        browser.post("/console/sign-in", data={"csrf": csrf, "phone": phone})
        code = self.code_sent_to(phone, since)
        done = browser.post(
            "/console/sign-in/code", data={"csrf": csrf, "phone": phone, "code": code}
        )
        assert done.status_code == 303, done.text
        return browser


def serve_console(pg_migrated: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """The backend with its workers and the fake Graph API, until the generator is closed."""
    logs = tmp_path_factory.mktemp("console-logs")
    port = free_port()
    fake, fake_port = start_fake_graph(f"http://127.0.0.1:{port}/webhooks/whatsapp", logs)
    backend, _ = start_backend(
        pg_migrated,
        logs,
        workers=True,
        port=port,
        extra_env={
            "WHATSAPP_API_BASE_URL": f"http://127.0.0.1:{fake_port}/v23.0",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "RECIPIENT_BURST": "30",
            "MEDIA_DIR": str(logs / "media"),
        },
    )
    try:
        fake.wait_ready(60)
        backend.wait_ready(60)
        yield Console(
            f"http://127.0.0.1:{port}", f"http://127.0.0.1:{fake_port}", media_dir=logs / "media"
        )
    finally:
        backend.stop()
        fake.stop()


@pytest.fixture(scope="module")
def console_server(pg_migrated, tmp_path_factory):
    """Per module; tests/backend/console shares one for its package (its conftest)."""
    yield from serve_console(pg_migrated, tmp_path_factory)


@pytest.fixture
def console(console_server, pg_db_url, story_clock):
    """The demo world, fresh, on the story's morning."""
    httpx.post(f"{console_server.fake_url}/_fake/reset").raise_for_status()
    world = load_demo_world(pg_db_url)
    console_server.tokens = dict(world.staff_tokens)
    return console_server
