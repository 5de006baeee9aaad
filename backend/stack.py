"""`tms serve`: the whole stack in the foreground, stopped together.

Starts the action server, the Rasa server, the fake Graph API (unless a real
WHATSAPP_API_BASE_URL is configured, and never in production) and the backend service; waits
until each answers; stops all of them on Ctrl-C (exit 0). A part that fails to start ends it
(non-zero: a refused configuration would only fail again). Once the stack is up, a part that
dies is restarted alone, with back-off, while the others keep running; the supervisor's state
is kept in `var/run/stack.json` for /healthz (`restart_report`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from backend import clock
from backend.config import PROJECT_ROOT, get_settings, var_dir
from backend.supervision import status_file

LOCAL_SMTP_PORT = 8025

# A part that died is restarted after 1 s, then 2, 4 … at most 30 s while it keeps dying; a part
# that ran this long before dying starts again from 1 s (it was not crash-looping).
RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 30.0
STABLE_SECONDS = 60.0
# The status file is rewritten at least this often, so a reader can tell it is current.
STATUS_REFRESH_SECONDS = 5.0


@dataclass
class Part:
    name: str
    argv: list[str]
    ready_url: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    # The supervisor's view: starting | running | restarting | stopped.
    state: str = "stopped"
    restarts: int = 0
    last_exit_code: int | None = None
    last_restart_at: datetime | None = None
    started_at: float = 0.0  # monotonic
    deaths_in_a_row: int = 0  # deaths without a stable run between them: sets the back-off
    restart_due: float = 0.0  # monotonic
    log_file: Path | None = None

    def status(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "restarts": self.restarts,
            "last_exit_code": self.last_exit_code,
            "last_restart_at": self.last_restart_at.isoformat() if self.last_restart_at else None,
        }

    # -- one way to start a process: `tms serve`, the demo, the tests and the benchmarks -------
    def log_path(self, log_dir: Path) -> Path:
        return log_dir / f"{self.name}.log"

    def spawn(self, log_dir: Path) -> None:
        """Start the process in a session of its own (stopped with its children), its output
        appended to `<log_dir>/<name>.log`."""
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_file = self.log_path(log_dir)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=PROJECT_ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.state = "starting"
        self.started_at = time.monotonic()

    def wait_ready(self, timeout: float) -> None:
        """Until the part answers on `ready_url`; RuntimeError (with its log's tail) if it
        exits or does not answer in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.tail()}"
                )
            if answers(self.ready_url):
                self.state = "running"
                return
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        if self.log_file is None or not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, grace: float = 20) -> None:
        """SIGTERM to its process group, SIGKILL after `grace` seconds."""
        if self.process is not None:
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.state = "stopped"


def restart_delay(deaths_in_a_row: int) -> float:
    """Seconds before the restart that follows the `deaths_in_a_row`-th death (1, 2, 3 …)."""
    return min(RESTART_FIRST_DELAY * 2 ** max(deaths_in_a_row - 1, 0), RESTART_MAX_DELAY)


# Whether a variable was set at all is a question for the environment itself: the settings
# always hold a value (a default when it is not set).
def uses_local_smtp() -> bool:
    """No SMTP server configured: the stack runs the local one that keeps what it receives.
    Never in production, where mail must reach people."""
    if get_settings().is_production:
        return False
    return os.environ.get("SMTP_URL", "") in ("", "smtp://127.0.0.1:8025")


def uses_fake_graph() -> bool:
    """No Graph API configured: the stack runs the fake one. Never in production, where
    messages must reach WhatsApp."""
    if get_settings().is_production:
        return False
    return os.environ.get("WHATSAPP_API_BASE_URL", "") in (
        "",
        f"http://127.0.0.1:{get_settings().fake_graph_port}/v23.0",
    )


@dataclass(frozen=True)
class Ports:
    actions: int
    rasa: int
    backend: int
    fake_graph: int | None  # None: a real Graph API is configured
    smtp: int | None = None  # the local SMTP server's port; None: a real one is configured


PYTHON = str(PROJECT_ROOT / ".venv/bin/python")


def action_server_part(
    port: int, env: dict[str, str] | None = None, *, name: str = "action-server"
) -> Part:
    host = get_settings().action_server_host
    return Part(
        name,
        [PYTHON, "-m", "actions.server", "--port", str(port)],
        f"http://{host}:{port}/health",
        dict(env or {}),
    )


def rasa_part(
    model: Path,
    port: int,
    env: dict[str, str] | None = None,
    *,
    name: str = "rasa",
    enable_api: bool = False,
) -> Part:
    """Rasa's HTTP API (trackers, models) stays off unless asked (tests read trackers): the
    backend needs only the REST channel."""
    host = get_settings().rasa_host
    argv = ["bash", "scripts/rasa.sh", "run", "--model", str(model), "--port", str(port)]
    argv += ["--interface", host] + (["--enable-api"] if enable_api else [])
    return Part(name, argv, f"http://{host}:{port}/", dict(env or {}))


def fake_graph_part(
    port: int, webhook_url: str, env: dict[str, str] | None = None, *, name: str = "fake-graph"
) -> Part:
    argv = [PYTHON, "-m", "devkit.fake_graph", "--port", str(port)]
    return Part(
        name,
        [*argv, "--webhook-url", webhook_url],
        f"http://127.0.0.1:{port}/_fake/health",
        dict(env or {}),
    )


def mail_part(port: int, env: dict[str, str] | None = None) -> Part:
    return Part(
        "mail",
        [PYTHON, "-m", "devkit.local_smtp", "--port", str(port)],
        f"tcp://127.0.0.1:{port}",
        dict(env or {}),
    )


def backend_part(port: int, env: dict[str, str] | None = None, *, name: str = "backend") -> Part:
    return Part(
        name,
        [PYTHON, "-m", "backend.server"],
        f"http://127.0.0.1:{port}/webhooks/whatsapp?hub.mode=ping",
        {**(env or {}), "BACKEND_PORT": str(port)},
    )


def product_parts(
    model: Path,
    ports: Ports,
    *,
    env: dict[str, str] | None = None,
    tracker_url: str | None = None,
    backend_env: dict[str, str] | None = None,
) -> list[Part]:
    """The product's processes wired to each other: action server, Rasa, (the fake Graph
    API,) backend. `env` goes to every part; `backend_env` to the backend only."""
    settings = get_settings()
    # One secret for the action server and the Rasa that calls it, one for Rasa's channel and
    # the backend that calls it.
    env = {
        "ACTION_SERVER_SECRET": settings.action_server_secret,
        "RASA_CHANNEL_SECRET": settings.rasa_channel_secret,
        **(env or {}),
    }
    rasa_env = {
        "ACTION_ENDPOINT_URL": f"http://{settings.action_server_host}:{ports.actions}/webhook",
        **env,
    }
    if tracker_url:
        rasa_env["TRACKER_STORE_URL"] = tracker_url
    parts = [action_server_part(ports.actions, env), rasa_part(model, ports.rasa, rasa_env)]
    backend = {
        **env,
        "RASA_URL": f"http://{settings.rasa_host}:{ports.rasa}",
        "ACTION_SERVER_URL": f"http://{settings.action_server_host}:{ports.actions}",
        **(backend_env or {}),
    }
    if ports.fake_graph is not None:
        webhook = f"http://127.0.0.1:{ports.backend}/webhooks/whatsapp"
        parts.append(fake_graph_part(ports.fake_graph, webhook, env))
        backend["WHATSAPP_API_BASE_URL"] = f"http://127.0.0.1:{ports.fake_graph}/v23.0"
    if ports.smtp is not None:
        parts.append(mail_part(ports.smtp, env))
        backend["SMTP_URL"] = f"smtp://127.0.0.1:{ports.smtp}"
    parts.append(backend_part(ports.backend, backend))
    return parts


def plan(model: Path) -> list[Part]:
    """What `tms serve` runs: the usual ports, the fake Graph API unless a real one is set."""
    settings = get_settings()
    ports = Ports(
        actions=settings.action_server_port,
        rasa=settings.rasa_port,
        backend=settings.backend_port,
        fake_graph=settings.fake_graph_port if uses_fake_graph() else None,
        smtp=LOCAL_SMTP_PORT if uses_local_smtp() else None,
    )
    env: dict[str, str] = {}
    if (
        ports.fake_graph is not None
        and not settings.is_production
        and not settings.payment_provider
    ):
        env["PAYMENT_PROVIDER"] = "local"  # the fake stack's customers pay on the local pages
    return product_parts(model, ports, env=env)


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, never one this process handed out before: the parts start
    one after another, and the operating system may offer the same free port twice."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def answers(url: str) -> bool:
    """The part at `url` is up: an HTTP answer below 500, or (tcp://host:port) a connection."""
    if url.startswith("tcp://"):
        host, _, port = url.removeprefix("tcp://").rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=2):
                return True
        except OSError:
            return False
    try:
        return httpx.get(url, timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


class Stack:
    def __init__(self, parts: list[Part], log_dir: Path, status_path: Path | None = None) -> None:
        self.parts = parts
        self.log_dir = log_dir
        self.status_path = status_path
        self._status_written = 0.0

    def _spawn(self, part: Part) -> None:
        part.spawn(self.log_dir)

    def start(self, timeout: float = 300) -> None:
        for part in self.parts:
            self._spawn(part)
            print(
                f"  starting {part.name:<14} (log: {self.log_dir / (part.name + '.log')})",
                flush=True,
            )
        deadline = time.monotonic() + timeout
        for part in self.parts:
            while True:
                self.check_alive()
                if answers(part.ready_url):
                    part.state = "running"
                    print(f"  ready    {part.name}", flush=True)
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{part.name} did not become ready in {timeout:.0f}s")
                time.sleep(0.5)
        self.write_status()

    def check_alive(self) -> None:
        """Raise if a part has died (while starting, and for the demo, which stops then)."""
        for part in self.parts:
            if part.process is not None and part.process.poll() is not None:
                raise RuntimeError(
                    f"{part.name} exited with code {part.process.returncode}; "
                    f"see {self.log_dir / (part.name + '.log')}"
                )

    def supervise(self) -> None:
        """One look at every part: a part that died is restarted alone, after its back-off;
        a restarted part is running again once it answers. The others are left alone."""
        now = time.monotonic()
        changed = False
        for part in self.parts:
            code = part.process.poll() if part.process is not None else None
            if part.state in ("starting", "running") and code is not None:
                ran = now - part.started_at
                if ran >= STABLE_SECONDS:
                    part.deaths_in_a_row = 0
                part.deaths_in_a_row += 1
                delay = restart_delay(part.deaths_in_a_row)
                part.state = "restarting"
                part.last_exit_code = code
                part.restart_due = now + delay
                self.say(
                    f"{part.name} exited with code {code} after {ran:.0f} s; restarting it in "
                    f"{delay:.0f} s (the other parts keep running; see "
                    f"{self.log_dir / (part.name + '.log')})"
                )
                changed = True
            elif part.state == "restarting" and now >= part.restart_due:
                self._spawn(part)
                part.restarts += 1
                part.last_restart_at = clock.now()
                self.say(f"{part.name} restarted (restart {part.restarts})")
                changed = True
            elif part.state == "starting" and answers(part.ready_url):
                part.state = "running"
                self.say(f"{part.name} is ready again")
                changed = True
        if changed or time.monotonic() - self._status_written >= STATUS_REFRESH_SECONDS:
            self.write_status()

    def run(self, stop: threading.Event, every: float = 0.5) -> None:
        """Supervise until `stop` is set."""
        while not stop.is_set():
            self.supervise()
            stop.wait(every)

    def say(self, line: str) -> None:
        """A line in the terminal and in the stack's own log (logs/stack.log)."""
        stamped = f"{clock.now().isoformat(timespec='seconds')} stack: {line}"
        print(stamped, flush=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / "stack.log").open("a") as log:
            log.write(stamped + "\n")

    def write_status(self) -> None:
        """The supervisor's state, replaced atomically (a reader never sees half a file)."""
        self._status_written = time.monotonic()
        if self.status_path is None:
            return
        self.status_path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "pid": os.getpid(),
            "updated_at": clock.now().isoformat(),
            "parts": {part.name: part.status() for part in self.parts},
        }
        partial = self.status_path.with_name(f".{self.status_path.name}.{os.getpid()}")
        partial.write_text(json.dumps(data, indent=1))
        os.replace(partial, self.status_path)

    def stop(self) -> None:
        for part in reversed(self.parts):
            if part.process is not None and part.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(part.process.pid, signal.SIGTERM)
        for part in self.parts:
            part.stop()
        if self.status_path is not None:
            self.status_path.unlink(missing_ok=True)  # no supervisor: nothing to report


def trained_model(*, quiet: bool = False) -> Path:
    """The trained model (scripts/train.sh trains only when the data changed); `quiet` keeps
    training's output out of the terminal (the tests), and in the error if it fails."""
    result = subprocess.run(
        ["bash", "scripts/train.sh"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if quiet else None,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0:
        raise RuntimeError(f"training failed:\n{(result.stderr or '')[-4000:]}")
    return PROJECT_ROOT / result.stdout.strip().splitlines()[-1]


def serve() -> int:
    from backend import migrate

    settings = get_settings()
    migrate.upgrade()
    log_dir = var_dir() / "logs"
    stack = Stack(plan(trained_model()), log_dir, status_file())
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
        fake = (
            f" · fake Graph API: http://127.0.0.1:{settings.fake_graph_port}"
            if uses_fake_graph()
            else ""
        )
        print(
            f"\nThe stack is up. Webhook: http://127.0.0.1:{settings.backend_port}/webhooks/whatsapp{fake}"
        )
        print(
            "Chat as a customer or guide:  .venv/bin/tms chat --phone +61412000001   (Ctrl-C stops everything)"
        )
        stack.run(stopping)
        return 0
    except RuntimeError as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
