"""`make setup` fails when an install fails, and then writes no "done" stamp: a broken
environment is never mistaken for a built one."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from tests.processes import ROOT

# A Python whose pip always fails and whose import checks always pass: only the install's own
# exit status can tell setup that something went wrong.
FAKE_PYTHON = """#!/usr/bin/env bash
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  echo "ERROR: No matching distribution found for no-such-package-of-tms" >&2
  exit 1
fi
exit 0
"""


def test_a_failed_install_fails_setup_and_writes_no_stamp(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    (project / "requirements").mkdir()
    for script in ("setup.sh", "install-system-deps.sh"):
        shutil.copy(ROOT / "scripts" / script, project / "scripts" / script)
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    (project / "requirements" / "backend.lock").write_text("no-such-package-of-tms==1.0.0\n")
    python = project / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    result = subprocess.run(
        ["bash", "scripts/setup.sh"],
        cwd=project,
        env={**os.environ, "SKIP_RASA_ENV": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0, result.stdout + result.stderr
    assert "installing .venv failed" in result.stderr
    assert not (project / ".venv" / ".setup-stamp").exists()
