"""`tms serve`'s supervisor: a part that dies is restarted alone, with back-off, and says so
(terminal, logs/stack.log, the status file /healthz reads); production never runs the fakes."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backend import stack
from backend.config import get_settings
from backend.stack import Part, Stack, free_port, plan, restart_delay
from backend.supervision import restart_report

PYTHON = sys.executable


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def http_part(name: str) -> Part:
    """A small process that answers HTTP, as the product's parts do."""
    port = free_port()
    return Part(
        name,
        [PYTHON, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        f"http://127.0.0.1:{port}/",
    )


@pytest.fixture
def two_parts(tmp_path: Path) -> Iterator[Stack]:
    parts = [http_part("alpha"), http_part("beta")]
    supervisor = Stack(parts, tmp_path / "logs", tmp_path / "run" / "stack.json")
    try:
        supervisor.start(timeout=30)
        yield supervisor
    finally:
        supervisor.stop()


def supervise_until(supervisor: Stack, condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, [p.status() for p in supervisor.parts]
        supervisor.supervise()
        time.sleep(0.05)


def test_a_part_that_dies_is_restarted_alone_and_says_so(two_parts: Stack) -> None:
    alpha, beta = two_parts.parts
    assert alpha.process is not None and beta.process is not None
    beta_pid, alpha_pid = beta.process.pid, alpha.process.pid
    os.killpg(alpha_pid, signal.SIGKILL)
    alpha.process.wait()

    supervise_until(two_parts, lambda: alpha.state == "restarting", 10)
    # The back-off's first step: one second, not at once and not the whole stack down.
    assert 0.5 < alpha.restart_due - time.monotonic() <= 1.0
    supervise_until(two_parts, lambda: alpha.state == "running", 20)

    assert alpha.process.pid != alpha_pid and alpha.process.poll() is None
    assert beta.process.pid == beta_pid and beta.process.poll() is None  # left alone
    assert beta.state == "running" and beta.restarts == 0
    assert stack.answers(alpha.ready_url)

    report = restart_report(two_parts.status_path)
    assert report is not None
    assert report["parts"]["alpha"]["state"] == "running"
    assert report["parts"]["alpha"]["restarts"] == 1
    assert report["parts"]["alpha"]["last_exit_code"] == -signal.SIGKILL
    assert report["parts"]["alpha"]["last_restart_at"]
    assert report["parts"]["beta"] == {
        "state": "running",
        "restarts": 0,
        "last_exit_code": None,
        "last_restart_at": None,
    }
    log = (two_parts.log_dir / "stack.log").read_text()
    assert "alpha exited with code -9" in log and "restarting it in 1 s" in log
    assert "alpha restarted (restart 1)" in log and "alpha is ready again" in log
    assert "beta" not in log


def test_a_part_that_keeps_dying_waits_longer_each_time_until_it_runs_stably(
    tmp_path: Path,
) -> None:
    crashing = Part("crashing", [PYTHON, "-c", "raise SystemExit(3)"], "tcp://127.0.0.1:9")
    supervisor = Stack([crashing], tmp_path / "logs", tmp_path / "stack.json")
    delays = []
    try:
        supervisor._spawn(crashing)
        for _ in range(7):
            assert crashing.process is not None
            crashing.process.wait()
            supervisor.supervise()
            assert crashing.state == "restarting" and crashing.last_exit_code == 3
            delays.append(round(crashing.restart_due - time.monotonic()))
            crashing.restart_due = 0  # the test does not sit through the back-off
            supervisor.supervise()
            assert crashing.state == "starting"
        assert delays == [1, 2, 4, 8, 16, 30, 30]
        assert crashing.restarts == 7
        # A part that ran for a while before dying was not crash-looping: back to one second.
        crashing.process.wait()
        crashing.started_at -= stack.STABLE_SECONDS
        supervisor.supervise()
        assert round(crashing.restart_due - time.monotonic()) == 1
    finally:
        supervisor.stop()


def test_the_back_off_doubles_from_one_second_to_thirty() -> None:
    assert [restart_delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]


def test_no_report_without_a_living_supervisor(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    assert restart_report(path) is None  # no file: not started by `tms serve`
    path.write_text("{half a fi")
    assert restart_report(path) is None
    gone = Stack([], tmp_path / "logs", path)
    gone.write_status()
    assert restart_report(path) == {
        "updated_at": json.loads(path.read_text())["updated_at"],
        "parts": {},
    }
    data = json.loads(path.read_text())
    data["pid"] = 2**22 + 12345  # beyond pid_max's default: no such process
    path.write_text(json.dumps(data))
    assert restart_report(path) is None  # a stale file from a supervisor that died
    gone.stop()
    assert not path.exists()


def test_production_never_runs_the_fake_graph_api_or_the_local_smtp_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("WHATSAPP_API_BASE_URL", raising=False)
    monkeypatch.delenv("SMTP_URL", raising=False)
    assert {p.name for p in plan(tmp_path / "model.tar.gz")} >= {"fake-graph", "mail"}

    monkeypatch.setenv("TMS_ENV", "production")
    for graph, smtp in [
        (None, None),
        (f"http://127.0.0.1:{get_settings().fake_graph_port}/v23.0", "smtp://127.0.0.1:8025"),
    ]:
        for name, value in (("WHATSAPP_API_BASE_URL", graph), ("SMTP_URL", smtp)):
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        assert not stack.uses_fake_graph() and not stack.uses_local_smtp()
        names = [p.name for p in plan(tmp_path / "model.tar.gz")]
        assert names == ["action-server", "rasa", "backend"]
