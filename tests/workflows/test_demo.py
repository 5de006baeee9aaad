"""`make demo`'s command, as a new user runs it: the three workflows through the real stack on
the embedded defaults (a fresh SQLite file, the fake Graph API, the local payment provider)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.processes import ROOT

pytestmark = pytest.mark.rasa


def test_the_demo_plays_the_three_workflows(trained_model, tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL",)}
    env["TMS_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [str(ROOT / ".venv/bin/tms"), "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    for line in (
        "Workflow 1: Customer Enquiry → Booking → Trip Completion",
        "I've created your enquiry (Ref: EBC",
        "Early bird discount (book before Jan 31): $6,840",
        "1. Pay deposit: $2,052 (30%)",
        "🎉 Booking Confirmed!",
        "💳 Reminder: the balance for EBC-",
        "is due in 7 days.",
        "Hi! Your EBC Trek starts in 14 days! 🏔️",
        "Pre-departure checklist:",
        "Balance: fully paid ✓",
        "✓ Assignment confirmed!",
        "✓ Checked in to EBC Trek",
        "Severity: Medium",
        "Payroll: $800 added.",
        "Workflow 2: Slot Full → Waitlist → Auto-Confirm",
        "Position: #3 on waitlist",
        "🎉 SPOT AVAILABLE!",
        "Your patience paid off! 🎉",
        "Workflow 3: Guide Reports Issue → Ops Resolution → Customer Notification",
        "Severity: High",
        "✓ RESOLVED",
        "✅ All Set!",
        "Booking EBC-",
        "timers waiting in the job store",
    ):
        assert line in out, f"missing from the demo transcript: {line!r}"
    assert "COMPLETED, payments FULL_PAID" in out and "TRP" in out and ": ENDED" in out
    assert (tmp_path / "demo" / "demo.sqlite3").exists()
