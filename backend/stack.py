"""`tms serve`: the whole stack in the foreground, stopped together.

Starts the action server, the Rasa server, the fake Graph API (unless a real
WHATSAPP_API_BASE_URL is configured) and the backend service; waits until each answers;
stops all of them on Ctrl-C (exit 0) and exits non-zero as soon as one of them dies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from backend.config import PROJECT_ROOT, get_settings

FAKE_GRAPH_PORT = int(os.environ.get("FAKE_GRAPH_PORT", "8900"))


@dataclass
class Part:
    name: str
    argv: list[str]
    ready_url: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None


def uses_fake_graph() -> bool:
    return os.environ.get("WHATSAPP_API_BASE_URL", "") in (
        "",
        f"http://127.0.0.1:{FAKE_GRAPH_PORT}/v23.0",
    )


def plan(model: Path, log_dir: Path) -> list[Part]:
    settings = get_settings()
    python = str(PROJECT_ROOT / ".venv/bin/python")
    action_port = int(os.environ.get("ACTION_PORT", "5055"))
    rasa_port = int(os.environ.get("RASA_PORT", "5005"))
    parts = [
        Part(
            "action-server",
            [python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
            f"http://127.0.0.1:{action_port}/health",
        ),
        Part(
            "rasa",
            [
                "bash",
                "scripts/rasa.sh",
                "run",
                "--model",
                str(model),
                "--port",
                str(rasa_port),
                "--interface",
                "127.0.0.1",
                "--enable-api",
            ],
            f"http://127.0.0.1:{rasa_port}/status",
            {"ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook"},
        ),
    ]
    backend_env = {
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}",
    }
    if uses_fake_graph():
        parts.append(
            Part(
                "fake-graph",
                [
                    python,
                    "-m",
                    "backend.whatsapp.fake_graph",
                    "--port",
                    str(FAKE_GRAPH_PORT),
                    "--webhook-url",
                    f"http://127.0.0.1:{settings.backend_port}/webhooks/whatsapp",
                ],
                f"http://127.0.0.1:{FAKE_GRAPH_PORT}/_fake/health",
            )
        )
        backend_env["WHATSAPP_API_BASE_URL"] = f"http://127.0.0.1:{FAKE_GRAPH_PORT}/v23.0"
    parts.append(
        Part(
            "backend",
            [python, "-m", "backend.service"],
            f"http://127.0.0.1:{settings.backend_port}/webhooks/whatsapp?hub.mode=ping",
            backend_env,
        )
    )
    return parts


class Stack:
    def __init__(self, parts: list[Part], log_dir: Path) -> None:
        self.parts = parts
        self.log_dir = log_dir

    def start(self, timeout: float = 300) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for part in self.parts:
            log = (self.log_dir / f"{part.name}.log").open("ab")
            part.process = subprocess.Popen(
                part.argv,
                cwd=PROJECT_ROOT,
                env={**os.environ, **part.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            print(
                f"  starting {part.name:<14} (log: {self.log_dir / (part.name + '.log')})",
                flush=True,
            )
        deadline = time.monotonic() + timeout
        for part in self.parts:
            while True:
                self.check_alive()
                try:
                    if httpx.get(part.ready_url, timeout=2).status_code < 500:
                        print(f"  ready    {part.name}", flush=True)
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{part.name} did not become ready in {timeout:.0f}s")
                time.sleep(0.5)

    def check_alive(self) -> None:
        for part in self.parts:
            if part.process is not None and part.process.poll() is not None:
                raise RuntimeError(
                    f"{part.name} exited with code {part.process.returncode}; "
                    f"see {self.log_dir / (part.name + '.log')}"
                )

    def stop(self) -> None:
        for part in reversed(self.parts):
            if part.process is not None and part.process.poll() is None:
                os.killpg(part.process.pid, signal.SIGTERM)
        for part in self.parts:
            if part.process is not None:
                try:
                    part.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(part.process.pid, signal.SIGKILL)


def trained_model() -> Path:
    result = subprocess.run(
        ["bash", "scripts/train.sh"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return PROJECT_ROOT / result.stdout.strip().splitlines()[-1]


def serve() -> int:
    from backend import migrate

    settings = get_settings()
    migrate.upgrade()
    log_dir = Path(os.environ.get("TMS_VAR_DIR", PROJECT_ROOT / "var")) / "logs"
    stack = Stack(plan(trained_model(), log_dir), log_dir)
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
        fake = f" · fake Graph API: http://127.0.0.1:{FAKE_GRAPH_PORT}" if uses_fake_graph() else ""
        print(
            f"\nThe stack is up. Webhook: http://127.0.0.1:{settings.backend_port}/webhooks/whatsapp{fake}"
        )
        print(
            "Chat as a customer or guide:  .venv/bin/tms chat --phone +61412000001   (Ctrl-C stops everything)"
        )
        while not stopping:
            stack.check_alive()
            time.sleep(0.5)
        return 0
    except RuntimeError as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
