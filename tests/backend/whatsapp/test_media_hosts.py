"""The media downloader sends the WhatsApp access token only to Meta's media hosts
(MEDIA_HOSTS), over https in production; in development also to the Graph API's own host (the
fake Graph API). A media URL elsewhere is refused, nothing is sent there, and the download is
recorded as failed with the reason.

Two tiny local servers stand in: a Graph API whose step-1 answer names a URL on the second,
"another host" (`localhost`, where the Graph API is `127.0.0.1`), which records what reaches it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from backend import clock
from backend.config import Settings
from backend.db import transaction
from backend.models import InboundMessage, MediaAttachment
from backend.services.media import FAILED, PENDING, STORED
from backend.whatsapp.client import GraphClient
from backend.whatsapp.media import MediaFetcher, media_url_refusal

PHOTO = b"\xff\xd8\xff a photo of the landslide"
TOKEN = "dev-access-token"


class _Recorder(BaseHTTPRequestHandler):
    """Answers GET with the server's `answer(path)`; keeps each request's Authorization."""

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Authorization")))  # type: ignore[attr-defined]
        status, content_type, body = self.server.answer(self.path)  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(answer) -> Iterator[ThreadingHTTPServer]:  # type: ignore[no-untyped-def]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []  # type: ignore[attr-defined]
    server.answer = answer  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def elsewhere() -> Iterator[ThreadingHTTPServer]:
    """'Another host': serves the photo to anyone, and records who asked with what token."""
    yield from _serve(lambda path: (200, "image/jpeg", PHOTO))


@pytest.fixture
def graph(elsewhere) -> Iterator[ThreadingHTTPServer]:  # type: ignore[no-untyped-def]
    """A Graph API: `/v23.0/<id>` names a URL on its own host (`own-…`) or elsewhere."""

    def answer(path: str) -> tuple[int, str, bytes]:
        if path.startswith("/v23.0/own-"):
            url = f"http://127.0.0.1:{server.server_port}/file"
        else:
            url = f"http://localhost:{elsewhere.server_port}/file"
        if path == "/file":
            return 200, "image/jpeg", PHOTO
        body = {
            "url": url,
            "mime_type": "image/jpeg",
            "sha256": hashlib.sha256(PHOTO).hexdigest(),
            "file_size": len(PHOTO),
        }
        return 200, "application/json", json.dumps(body).encode()

    for server in _serve(answer):
        yield server


def _pending(media_id: str) -> str:
    with transaction() as s:
        message = InboundMessage(
            wamid=f"wamid.{media_id}",
            from_phone="+9779841000001",
            message_type="image",
            payload={},
            stored_at=clock.now(),
        )
        s.add(message)
        s.flush()
        attachment = MediaAttachment(
            inbound_message_id=message.id,
            from_phone=message.from_phone,
            kind="image",
            media_id=media_id,
            status=PENDING,
            attempts=0,
        )
        s.add(attachment)
        s.flush()
        return attachment.id


def _fetch(settings: Settings) -> None:
    async def go() -> None:
        client = GraphClient(
            settings.whatsapp_api_base_url, settings.whatsapp_phone_number_id, TOKEN
        )
        try:
            await MediaFetcher(client, settings).run_once()
        finally:
            await client.aclose()

    asyncio.run(go())


def _row(attachment_id: str) -> MediaAttachment:
    with transaction() as s:
        row = s.scalar(select(MediaAttachment).where(MediaAttachment.id == attachment_id))
        assert row is not None
        s.expunge(row)
        return row


@pytest.fixture
def settings(graph, pg_db_url, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return replace(
        Settings(),
        environment="development",
        whatsapp_api_base_url=f"http://127.0.0.1:{graph.server_port}/v23.0",
        media_dir=str(tmp_path / "media"),
    )


def test_a_media_url_on_another_host_gets_no_token_and_fails_with_the_reason(
    settings, graph, elsewhere
):
    attachment_id = _pending("photo-1")
    _fetch(settings)
    row = _row(attachment_id)
    assert row.status == FAILED  # at once: asking again would name the same kind of URL
    assert row.last_error and "localhost is not in MEDIA_HOSTS" in row.last_error
    assert elsewhere.seen == []  # nothing at all was sent there, least of all the token
    assert graph.seen == [("/v23.0/photo-1", f"Bearer {TOKEN}")]


def test_development_fetches_from_the_graph_apis_own_host(settings, graph):
    attachment_id = _pending("own-photo-2")
    _fetch(settings)
    row = _row(attachment_id)
    assert row.status == STORED and row.size_bytes == len(PHOTO)
    assert ("/file", f"Bearer {TOKEN}") in graph.seen


def test_a_host_in_media_hosts_gets_the_token(settings, elsewhere):
    attachment_id = _pending("photo-3")
    _fetch(replace(settings, media_hosts="lookaside.fbsbx.com,localhost"))
    assert _row(attachment_id).status == STORED
    assert elsewhere.seen == [("/file", f"Bearer {TOKEN}")]


@pytest.mark.parametrize(
    ("environment", "url", "refused"),
    [
        ("production", "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1", None),
        ("production", "https://scontent.xx.fbcdn.net/v/t1/photo.jpg", None),
        ("production", "https://mmg.whatsapp.net/d/f/x.enc", None),
        ("production", "http://lookaside.fbsbx.com/x", "not https"),
        ("production", "https://graph.facebook.com.evil.example/x", "not in MEDIA_HOSTS"),
        ("production", "https://fbcdn.net.evil.example/x", "not in MEDIA_HOSTS"),
        ("production", "https://evilfbcdn.net/x", "not in MEDIA_HOSTS"),
        ("production", "https://127.0.0.1:8900/_fake/media/x", "not in MEDIA_HOSTS"),
        ("development", "http://127.0.0.1:8900/_fake/media/x", None),  # the fake Graph API
        ("development", "http://127.0.0.1:9999/_fake/media/x", "not in MEDIA_HOSTS"),
        ("development", "ftp://lookaside.fbsbx.com/x", "not http(s)"),
    ],
)
def test_which_media_urls_may_have_the_token(environment, url, refused):
    settings = replace(
        Settings(),
        environment=environment,
        whatsapp_api_base_url="http://127.0.0.1:8900/v23.0",
        media_hosts="lookaside.fbsbx.com,*.fbsbx.com,*.fbcdn.net,*.whatsapp.net",
    )
    reason = media_url_refusal(url, settings)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason
