"""The media fetcher: downloads what people sent (photos, voice notes, documents) into the
media store, with its type, size and checksum.

Meta keeps a media file for a while and hands out a URL that works for minutes, so each
attempt asks for a fresh URL (`GET /{media-id}`) and then the bytes, both with the access
token. A failed attempt (Meta down, the URL expired in between, a checksum that does not
match) is retried with back-off; after `MEDIA_MAX_ATTEMPTS` the row is FAILED and its
incident page says so. The message itself was stored when it arrived, so nothing is lost.

The store is a folder by default (`MEDIA_DIR`); `MediaStore` is the one seam for an object
store.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from backend import clock, queue
from backend.config import Settings, get_settings
from backend.db import transaction
from backend.models import MediaAttachment
from backend.services import papers_photos
from backend.services.media import FAILED, PENDING, SEALED, STORED
from backend.whatsapp.client import GraphClient, MediaUrlRefused
from backend.workers import run_until_stopped

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=3)
BATCH = 4


class MediaStore:
    """A folder of files named by key; writes are atomic (temp file, then rename)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"media key {key!r} leaves the store")
        return path

    def put(self, key: str, content: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(path.suffix + ".part")
        temporary.write_bytes(content)
        os.replace(temporary, path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()


def store_for(settings: Settings | None = None) -> MediaStore:
    return MediaStore((settings or get_settings()).media_dir)


def key_for(attachment: MediaAttachment, mime: str | None) -> str:
    """`2026/12/<id>.jpg`: by month, named by the row's id (never by what the sender chose)."""
    extension = mimetypes.guess_extension((mime or "").split(";")[0].strip()) or ".bin"
    created = attachment.created_at
    return f"{created:%Y/%m}/{attachment.id}{extension}"


def backoff(attempts: int) -> timedelta:
    """At least 10 seconds, then doubling, at most an hour."""
    return queue.backoff(attempts, floor=10.0, ceiling=3600.0)


def _host_matches(host: str, pattern: str) -> bool:
    pattern = pattern.strip().lower()
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])  # subdomains only: "*.fbsbx.com" ≠ "fbsbx.com"
    return bool(pattern) and host == pattern


def media_url_refusal(url: str, settings: Settings) -> str | None:
    """Why the WhatsApp access token must not go to `url` (None: it may). Only Meta's media
    hosts (MEDIA_HOSTS), over https in production; in development also the Graph API's own
    host (WHATSAPP_API_BASE_URL: the fake Graph API of the demo and the tests)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return "the media URL is not a URL"
    if settings.is_production and parts.scheme != "https":
        return f"the media URL is not https ({parts.scheme or 'no scheme'}://{host})"
    if parts.scheme not in ("https", "http"):
        return f"the media URL's scheme {parts.scheme!r} is not http(s)"
    if any(_host_matches(host, p) for p in settings.media_hosts.split(",")):
        return None
    if not settings.is_production:
        api = urlsplit(settings.whatsapp_api_base_url)
        if (api.hostname or "").lower() == host and api.port == port:
            return None
    return f"the media URL's host {host} is not in MEDIA_HOSTS: the token was not sent"


class MediaFetcher:
    def __init__(self, graph: GraphClient, settings: Settings | None = None) -> None:
        self.graph = graph
        self.settings = settings or get_settings()
        self.store = store_for(self.settings)
        self.stored = 0

    async def run(self, stop: asyncio.Event, idle_sleep: float = 1.0) -> None:
        await run_until_stopped("media fetcher", self.run_once, stop, idle_sleep)

    async def run_once(self) -> int:
        claimed, token = await asyncio.to_thread(self._claim)
        for attachment_id, media_id in claimed:
            try:
                content, mime = await self.graph.download_media(
                    media_id,
                    self.settings.media_max_bytes,
                    url_refusal=lambda url: media_url_refusal(url, self.settings),
                )
            except MediaUrlRefused as exc:
                # Asking again gets the same kind of URL: failed now, the reason kept.
                await asyncio.to_thread(self._failed, attachment_id, token, str(exc), True)
                continue
            except Exception as exc:  # every failure is kept and retried
                await asyncio.to_thread(self._failed, attachment_id, token, str(exc))
                continue
            await asyncio.to_thread(self._stored, attachment_id, token, content, mime)
        return len(claimed)

    def _claim(self) -> tuple[list[tuple[str, str]], str]:
        now = clock.now()
        with transaction() as session:
            rows = list(
                session.scalars(
                    select(MediaAttachment)
                    .where(
                        MediaAttachment.status == PENDING,
                        (MediaAttachment.next_attempt_at.is_(None))
                        | (MediaAttachment.next_attempt_at <= now),
                    )
                    .order_by(MediaAttachment.created_at)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            token = queue.lease(rows, now, LEASE)
            for row in rows:
                row.attempts += 1
            return [(r.id, r.media_id or "") for r in rows], token

    def _held(self, session, attachment_id: str, token: str) -> MediaAttachment | None:
        row = session.get(MediaAttachment, attachment_id, with_for_update=True)
        if row is None or row.lease_token != token or row.status != PENDING:
            return None  # the lease ran out and someone else has it now
        return row

    def _stored(self, attachment_id: str, token: str, content: bytes, mime: str | None) -> None:
        with transaction() as session:
            row = self._held(session, attachment_id, token)
            if row is None:
                return
            mime = mime or row.mime_type
            # A passport photo goes sealed into the traveller file, never here in the clear.
            sealed = papers_photos.claim_stored(session, row, content)
            if not sealed:
                key = key_for(row, mime)
                self.store.put(key, content)
                row.storage_key = key
            row.mime_type = mime
            row.size_bytes = len(content)
            row.sha256 = hashlib.sha256(content).hexdigest()
            row.status = SEALED if sealed else STORED
            row.stored_at = clock.now()
            row.lease_token = None
            row.next_attempt_at = None
            row.last_error = None
            self.stored += 1

    def _failed(self, attachment_id: str, token: str, error: str, final: bool = False) -> None:
        with transaction() as session:
            row = self._held(session, attachment_id, token)
            if row is None:
                return
            row.last_error = error[:2000]
            row.lease_token = None
            if final or row.attempts >= self.settings.media_max_attempts:
                row.status = FAILED
                row.next_attempt_at = None
                logger.warning(
                    "media %s: gave up after %s attempts: %s", row.id, row.attempts, error
                )
            else:
                row.next_attempt_at = clock.now() + backoff(row.attempts)
                logger.info("media %s: attempt %s failed, retried: %s", row.id, row.attempts, error)
