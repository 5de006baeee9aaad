"""Starting the project's real servers for tests: the Rasa server, the action server, the
fake Graph API and the backend, each a child process on a free loopback port, stopped at the
end. They are the parts `tms serve` runs (`backend.stack`), started the same way: the tests
add only their own settings (a database, a log level, a test payment provider)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from backend.stack import (
    Part,
    action_server_part,
    backend_part,
    fake_graph_part,
    free_port,
    rasa_part,
    trained_model,
)

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["ROOT", "Part", "free_port", "start", "train_model"]


def start(part: Part, log_dir: Path) -> Part:
    """`part` started, its log in `log_dir` (the caller waits for it: `part.wait_ready`)."""
    part.spawn(log_dir)
    return part


def train_model() -> Path:
    """The trained model (trains only when the data changed)."""
    return trained_model(quiet=True)


def start_action_server(
    database_url: str,
    log_dir: Path,
    *,
    port: int | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> tuple[Part, int]:
    port = port or free_port()
    env = {"DATABASE_URL": database_url, **(extra_env or {})}
    name = f"action-server-{port}-{time.monotonic_ns()}"
    return start(action_server_part(port, env, name=name), log_dir), port


def start_rasa(
    model: Path,
    action_port: int,
    tracker_url: str,
    log_dir: Path,
    *,
    name: str = "rasa",
    extra_env: Mapping[str, str] | None = None,
) -> tuple[Part, int]:
    """A Rasa server with its HTTP API on (tests read trackers); `extra_env` may choose
    another tracker store (TRACKER_DIALECT) or a lock store (REDIS_URL)."""
    port = free_port()
    env = {
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "TRACKER_DIALECT": "sqlite",
        "TRACKER_STORE_URL": tracker_url,
        **(extra_env or {}),
    }
    return start(rasa_part(model, port, env, name=name, enable_api=True), log_dir), port


def start_backend(
    database_url: str,
    log_dir: Path,
    *,
    workers: bool,
    extra_env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> tuple[Part, int]:
    port = port or free_port()
    env = {
        "DATABASE_URL": database_url,
        "TMS_WORKERS": "1" if workers else "0",
        "LOG_LEVEL": "WARNING",
        "PAYMENT_PROVIDER": "local",
        # Nothing listens there: e-mails stay queued unless a test gives its own server.
        "SMTP_URL": "smtp://127.0.0.1:9",
        **(extra_env or {}),
    }
    return start(backend_part(port, env, name=f"backend-{port}"), log_dir), port


def start_fake_graph(webhook_url: str, log_dir: Path) -> tuple[Part, int]:
    port = free_port()
    return start(fake_graph_part(port, webhook_url, name=f"fake-graph-{port}"), log_dir), port
