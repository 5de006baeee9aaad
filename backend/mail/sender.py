"""The mail worker: sends queued e-mails over SMTP (`aiosmtplib`), oldest first.

An e-mail is claimed under a lease (status `sending`, a token) in one transaction, sent, and
its outcome recorded by the lease's holder only. A refused connection or a 4xx answer is
retried with back-off (the SMTP server being down at first loses nothing); a 5xx answer, or
`MAIL_MAX_ATTEMPTS` failed attempts, fails it for good and tells operations.

Never twice: a worker that dies between handing the message to the SMTP server and recording
it leaves the row `sending` with a lapsed lease. Nobody can know whether that one went out,
so it is not resent on its own: it is marked failed with that reason, and `tms mail retry`
sends it again when staff decide to. (Its Message-ID is fixed, so a receiving server that
deduplicates sees the same message.)
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit

import aiosmtplib
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import clock, queue, texts
from backend.config import Settings, get_settings
from backend.db import transaction
from backend.domain.actor import Actor
from backend.domain.enums import EmailStatus, ObjectType, Role, Source
from backend.models import OutboundEmail
from backend.services import emails, notifications, timeline
from backend.workers import run_until_stopped

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
SMTP_TIMEOUT = 30.0
INTERRUPTED = "the sender stopped while handing it to the SMTP server: it may have gone out"


@dataclass(frozen=True)
class SmtpTarget:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None  # None: when the server offers it

    @classmethod
    def from_url(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtps", "smtp+starttls"):
            raise ValueError(f"SMTP_URL: unknown scheme {scheme!r}")
        return cls(
            hostname=parts.hostname or "127.0.0.1",
            port=parts.port or (465 if scheme == "smtps" else 587 if scheme != "smtp" else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=scheme == "smtps",
            start_tls=True if scheme == "smtp+starttls" else None,
        )


@dataclass(frozen=True)
class Claimed:
    email_id: int
    token: str
    recipient: str
    message: EmailMessage


def build_message(session: Session, row: OutboundEmail, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = format_datetime(clock.now())
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    for filename, data in emails.attachment_files(session, row):
        message.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    return message


def _retryable(exc: Exception) -> bool:
    """Worth another attempt: the server was unreachable, or said "try later" (4xx)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(400 <= r.code < 500 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 400 <= exc.code < 500
    return isinstance(exc, (aiosmtplib.SMTPException, OSError, TimeoutError))


class MailSender:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.target = SmtpTarget.from_url(self.settings.smtp_url)
        self.sent = 0
        self.failed = 0

    async def run_once(self, limit: int = 20) -> int:
        """Send what is due now; returns how many e-mails were handled."""
        await asyncio.to_thread(self._sweep_interrupted)
        claimed = await asyncio.to_thread(self._claim, limit)
        for item in claimed:
            error: Exception | None = None
            try:
                await aiosmtplib.send(
                    item.message,
                    hostname=self.target.hostname,
                    port=self.target.port,
                    username=self.target.username,
                    password=self.target.password,
                    use_tls=self.target.use_tls,
                    start_tls=self.target.start_tls,
                    timeout=SMTP_TIMEOUT,
                    tls_context=ssl.create_default_context(),
                )
            except Exception as exc:
                error = exc
            await asyncio.to_thread(self._record, item, error)
        return len(claimed)

    async def run(
        self, stop: asyncio.Event, idle_sleep: float = 1.0, wakeup: asyncio.Event | None = None
    ) -> None:
        await run_until_stopped("mail sender", self.run_once, stop, idle_sleep, wakeup)

    def _claim(self, limit: int) -> list[Claimed]:
        now = clock.now()
        claimed: list[Claimed] = []
        with transaction() as session:
            rows = list(
                session.scalars(
                    select(OutboundEmail)
                    .where(
                        queue.due_or_lapsed(
                            OutboundEmail, now, waiting=EmailStatus.QUEUED, working=None
                        )
                    )
                    .order_by(OutboundEmail.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            for row in rows:
                token = queue.lease([row], now, LEASE)
                row.status = EmailStatus.SENDING
                row.attempts += 1
                try:
                    message = build_message(session, row, self.settings)
                except Exception as exc:  # a template or data problem: no use retrying
                    logger.exception("mail %s could not be built", row.id)
                    self._fail(session, row, f"could not be built: {exc}")
                    continue
                claimed.append(Claimed(row.id, token, row.recipient, message))
        return claimed

    def _record(self, item: Claimed, error: Exception | None) -> None:
        with transaction() as session:
            row = queue.held_rows(session, OutboundEmail, [item.email_id], item.token).get(
                item.email_id
            )
            if row is None or row.status != EmailStatus.SENDING:
                logger.warning("mail %s: lease passed on, outcome not recorded", item.email_id)
                return
            row.lease_token = None
            if error is None:
                row.status = EmailStatus.SENT
                row.sent_at = clock.now()
                row.next_attempt_at = None
                row.last_error = None
                self.sent += 1
                self._log(session, row, "EMAIL_SENT", "tms.email.sent")
                return
            detail = f"{type(error).__name__}: {error}"[:2000]
            if _retryable(error) and row.attempts < self.settings.mail_max_attempts:
                row.status = EmailStatus.QUEUED
                row.last_error = detail
                row.next_attempt_at = clock.now() + queue.backoff(
                    row.attempts, floor=5.0, ceiling=1800.0
                )
                logger.info("mail %s to retry at %s: %s", row.id, row.next_attempt_at, detail)
                return
            self._fail(session, row, detail)

    def _sweep_interrupted(self) -> None:
        """Rows left `sending` by a worker that died mid-send: failed, never resent blind."""
        with transaction() as session:
            rows = session.scalars(
                select(OutboundEmail)
                .where(
                    OutboundEmail.status == EmailStatus.SENDING,
                    OutboundEmail.next_attempt_at <= clock.now(),
                )
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                self._fail(session, row, INTERRUPTED)

    def _fail(self, session: Session, row: OutboundEmail, detail: str) -> None:
        row.status = EmailStatus.FAILED
        row.failed_at = clock.now()
        row.last_error = detail[:2000]
        row.next_attempt_at = None
        row.lease_token = None
        self.failed += 1
        logger.warning("mail %s to %s failed: %s", row.id, row.recipient, detail)
        self._log(session, row, "EMAIL_FAILED", "tms.email.failed")
        notifications.coalesced_alert(
            session,
            Role.OPS,
            "mail-failed",
            lambda: texts.ops_mail_failed(
                int(
                    session.scalar(
                        select(func.count())
                        .select_from(OutboundEmail)
                        .where(OutboundEmail.status == EmailStatus.FAILED)
                    )
                    or 0
                ),
                row.recipient,
                row.subject,
                detail,
            ),
        )

    @staticmethod
    def _log(session: Session, row: OutboundEmail, event_type: str, action: str) -> None:
        timeline.record(
            session,
            object_type=row.object_type or ObjectType.OUTBOUND_EMAIL,
            object_id=str(row.object_id or row.id),
            event_type=event_type,
            action=action,
            actor=Actor(Source.SYSTEM),
            content={
                "emailId": row.id,
                "to": row.recipient,
                "subject": row.subject,
                "messageId": row.message_id,
                "attempts": row.attempts,
                "error": row.last_error,
            },
        )
