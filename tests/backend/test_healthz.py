"""/healthz tells what `tms serve`'s supervisor restarted, part by part, and nothing more (no
exit codes, no error text); without a supervisor it says nothing of parts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx

from tests.processes import start_backend


def test_healthz_reports_the_parts_tms_serve_restarted(tmp_path: Path, pg_migrated: str) -> None:
    var = tmp_path / "var"
    (var / "run").mkdir(parents=True)
    server, port = start_backend(
        pg_migrated, tmp_path, workers=False, extra_env={"TMS_VAR_DIR": str(var)}
    )
    try:
        server.wait_ready(60)
        alone = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).json()
        assert "parts" not in alone  # started some other way: no supervisor to speak for
        # The supervisor's file, as `tms serve` writes it (this test process stands in for it).
        (var / "run" / "stack.json").write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "updated_at": "2030-01-01T00:00:00+00:00",
                    "parts": {
                        "rasa": {
                            "state": "restarting",
                            "restarts": 2,
                            "last_exit_code": -9,
                            "last_restart_at": "2030-01-01T00:00:00+00:00",
                        },
                        "action-server": {"state": "running", "restarts": 0},
                    },
                }
            )
        )
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).json()
        assert health["parts"] == {
            "rasa": {"state": "restarting", "restarts": 2},
            "action-server": {"state": "running", "restarts": 0},
        }
    finally:
        server.stop()
