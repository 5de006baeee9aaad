"""What `tms serve`'s supervisor (backend/stack.py) tells the rest of the product: its state,
part by part, in a small JSON file under the var dir that /healthz reads. Kept apart from the
supervisor so that the backend service reads it without importing the process starter."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from backend.config import var_dir


def status_file() -> Path:
    """Where `tms serve` keeps its supervisor's state (read by `restart_report`)."""
    return var_dir() / "run" / "stack.json"


def _supervisor_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process by that id: alive
    return True


def restart_report(path: Path | None = None) -> dict[str, Any] | None:
    """What `tms serve`'s supervisor says about each part, for /healthz, or None when no
    supervisor runs (the backend was started some other way, or the file is stale):

        {"updated_at": "<ISO 8601>",
         "parts": {"<part>": {"state": "running" | "starting" | "restarting",
                              "restarts": <int>, "last_exit_code": <int | None>,
                              "last_restart_at": "<ISO 8601>" | None}, ...}}
    """
    try:
        data = json.loads((path or status_file()).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("parts"), dict):
        return None
    if not _supervisor_alive(data.get("pid")):
        return None
    return {"updated_at": data.get("updated_at"), "parts": data["parts"]}
