"""A real SMTP server on loopback that keeps every message it receives as an `.eml` file:
the demo's and the tests' mail server (`aiosmtpd`). `tms mail list` reads what it caught.

    python -m devkit.local_smtp --port 8025 --dir var/mail
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from backend.config import var_dir


def capture_dir() -> Path:
    return Path(os.environ.get("MAIL_CAPTURE_DIR", str(var_dir() / "mail")))


class CaptureHandler:
    """Writes each accepted message to `<dir>/<time>-<n>.eml` (write, then rename: a reader
    never sees half a message)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._numbers = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{time.time_ns()}-{next(self._numbers):04d}"
        envelope_to = ", ".join(envelope.rcpt_tos)
        data = f"X-Envelope-To: {envelope_to}\r\n".encode() + envelope.original_content
        partial = self.directory / f".{name}.part"
        partial.write_bytes(data)
        partial.rename(self.directory / f"{name}.eml")
        return "250 Message accepted for delivery"


def start(port: int, directory: Path, host: str = "127.0.0.1") -> Controller:
    controller = Controller(CaptureHandler(directory), hostname=host, port=port)
    controller.start()
    return controller


@dataclass(frozen=True)
class CapturedMail:
    path: Path
    to: str
    subject: str
    message_id: str
    date: str
    attachments: list[tuple[str, str, int]]  # (filename, content type, bytes)
    message: EmailMessage

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""

    def attachment(self, filename: str) -> bytes:
        for part in self.message.iter_attachments():
            if part.get_filename() == filename:
                return bytes(part.get_payload(decode=True) or b"")
        raise KeyError(filename)


def captured(directory: Path | None = None) -> list[CapturedMail]:
    """The messages the local server caught, oldest first."""
    directory = directory or capture_dir()
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob("*.eml")):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert isinstance(message, EmailMessage)
        found.append(
            CapturedMail(
                path=path,
                to=str(message.get("To", "")),
                subject=str(message.get("Subject", "")),
                message_id=str(message.get("Message-ID", "")),
                date=str(message.get("Date", "")),
                attachments=[
                    (
                        part.get_filename() or "",
                        part.get_content_type(),
                        len(part.get_payload(decode=True) or b""),
                    )
                    for part in message.iter_attachments()
                ],
                message=message,
            )
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    directory = args.dir or capture_dir()
    controller = start(args.port, directory, args.host)
    print(f"local SMTP server on {args.host}:{args.port}, keeping mail in {directory}", flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()


if __name__ == "__main__":
    main()
