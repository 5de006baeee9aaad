"""The action server answers only our Rasa (the shared secret) and listens on loopback: a caller
on the network cannot run a guide's CHECKOUT as any phone."""

from __future__ import annotations

import socket
import subprocess

import httpx
import pytest
from sqlalchemy import func, select

from backend.db import transaction
from backend.models import TimelineEvent
from backend.stack import Ports, product_parts
from tests.processes import start_action_server

SECRET = "dev-action-secret"  # the development default that Rasa sends (scripts/rasa.sh)


def action_call(action: str, sender: str) -> dict:  # type: ignore[type-arg]
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {},
            "latest_message": {
                "text": "what can you do?",
                "intent": {"name": "out_of_scope", "confidence": 0.9},
                "entities": [],
            },
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


@pytest.fixture(scope="module")
def action_server(pg_migrated, tmp_path_factory):
    server, port = start_action_server(pg_migrated, tmp_path_factory.mktemp("action-server"))
    try:
        server.wait_ready(90)
        yield f"http://127.0.0.1:{port}", port
    finally:
        server.stop()


def events(url: str) -> int:
    with transaction(url) as session:
        return int(session.scalar(select(func.count()).select_from(TimelineEvent)) or 0)


def test_a_call_without_the_secret_is_refused_and_runs_nothing(action_server, pg_db_url):
    url, _ = action_server
    call = action_call("action_help", "+61499700001")
    for headers in (
        {},
        {"X-TMS-Action-Secret": "guess"},
        {"X-TMS-Action-Secret": "ünïcode".encode("latin-1")},
    ):
        answer = httpx.post(f"{url}/webhook", json=call, headers=headers, timeout=30)
        assert answer.status_code == 403, answer.text
    assert httpx.get(f"{url}/actions", timeout=10).status_code == 403
    assert events(pg_db_url) == 0  # nothing ran: no contact, no timeline


def test_our_rasa_with_the_secret_is_answered(action_server, pg_db_url):
    url, _ = action_server
    answer = httpx.post(
        f"{url}/webhook",
        json=action_call("action_help", "+61499700002"),
        headers={"X-TMS-Action-Secret": SECRET},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["responses"][0]["text"].startswith("I'm the booking assistant")
    assert httpx.get(f"{url}/health", timeout=10).json() == {"status": "ok"}


def _outside_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_it_listens_on_loopback_only(action_server):
    _, port = action_server
    address = _outside_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{address}:{port}/health", timeout=5)
    listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True)
    if listening.returncode == 0:  # the local address column: loopback, not 0.0.0.0
        assert [line.split()[3] for line in listening.stdout.splitlines()] == [f"127.0.0.1:{port}"]


def test_the_stack_binds_rasa_and_the_action_server_to_loopback_with_one_secret(tmp_path):
    parts = {p.name: p for p in product_parts(tmp_path / "model.tar.gz", Ports(1, 2, 3, None))}
    rasa = parts["rasa"].argv
    assert rasa[rasa.index("--interface") + 1] == "127.0.0.1" and "--enable-api" not in rasa
    assert parts["action-server"].argv[1:3] == ["-m", "actions.server"]
    assert (
        parts["rasa"].env["ACTION_SERVER_SECRET"]
        == parts["action-server"].env["ACTION_SERVER_SECRET"]
    )
    assert parts["rasa"].env["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:1/webhook"
