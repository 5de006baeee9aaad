"""Starting the project's real servers for tests: the Rasa server, the action server, and
(later) the backend. Each is a child process on a free loopback port, stopped at the end."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from backend.stack import free_port

ROOT = Path(__file__).resolve().parent.parent


class Server:
    def __init__(
        self, name: str, argv: list[str], env: Mapping[str, str], ready_url: str, log_dir: Path
    ) -> None:
        self.name = name
        self.ready_url = ready_url
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.tail()}"
                )
            try:
                if httpx.get(self.ready_url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self._log.close()


def train_model() -> Path:
    """The trained model (trains only when the data changed)."""
    result = subprocess.run(
        ["bash", "scripts/train.sh"], cwd=ROOT, capture_output=True, text=True, timeout=1800
    )
    if result.returncode != 0:
        raise RuntimeError(f"training failed:\n{result.stderr[-4000:]}")
    return ROOT / result.stdout.strip().splitlines()[-1]


def start_action_server(
    database_url: str,
    log_dir: Path,
    *,
    port: int | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> tuple[Server, int]:
    port = port or free_port()
    server = Server(
        f"action-server-{port}-{time.monotonic_ns()}",
        [str(ROOT / ".venv/bin/python"), "-m", "actions.server", "--port", str(port)],
        {"DATABASE_URL": database_url, **(extra_env or {})},
        f"http://127.0.0.1:{port}/health",
        log_dir,
    )
    return server, port


def start_rasa(
    model: Path,
    action_port: int,
    tracker_url: str,
    log_dir: Path,
    *,
    name: str = "rasa",
    extra_env: Mapping[str, str] | None = None,
) -> tuple[Server, int]:
    """A Rasa server; `extra_env` may choose another tracker store (TRACKER_DIALECT) or a
    lock store (REDIS_URL)."""
    port = free_port()
    server = Server(
        name,
        [
            "bash",
            "scripts/rasa.sh",
            "run",
            "--model",
            str(model),
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
            "--enable-api",
        ],
        {
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
            "TRACKER_DIALECT": "sqlite",
            "TRACKER_STORE_URL": tracker_url,
            **(extra_env or {}),
        },
        f"http://127.0.0.1:{port}/status",
        log_dir,
    )
    return server, port


def start_backend(
    database_url: str,
    log_dir: Path,
    *,
    workers: bool,
    extra_env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> tuple[Server, int]:
    port = port or free_port()
    server = Server(
        f"backend-{port}",
        [str(ROOT / ".venv/bin/python"), "-m", "backend.service"],
        {
            "DATABASE_URL": database_url,
            "BACKEND_PORT": str(port),
            "TMS_WORKERS": "1" if workers else "0",
            "LOG_LEVEL": "WARNING",
            "PAYMENT_PROVIDER": "local",
            # Nothing listens there: e-mails stay queued unless a test gives its own server.
            "SMTP_URL": "smtp://127.0.0.1:9",
            **(extra_env or {}),
        },
        f"http://127.0.0.1:{port}/webhooks/whatsapp?hub.mode=x",
        log_dir,
    )
    return server, port


def start_fake_graph(webhook_url: str, log_dir: Path) -> tuple[Server, int]:
    port = free_port()
    server = Server(
        f"fake-graph-{port}",
        [
            str(ROOT / ".venv/bin/python"),
            "-m",
            "backend.whatsapp.fake_graph",
            "--port",
            str(port),
            "--webhook-url",
            webhook_url,
        ],
        {},
        f"http://127.0.0.1:{port}/_fake/health",
        log_dir,
    )
    return server, port
