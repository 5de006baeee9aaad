"""`tms chat`: a person chats as a customer through the running stack."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.processes import ROOT

pytestmark = pytest.mark.rasa


def test_tms_chat_sends_a_line_and_prints_the_reply(stack):
    env = {**os.environ, "FAKE_GRAPH_URL": stack.fake_url}
    result = subprocess.run(
        [
            str(ROOT / ".venv/bin/tms"),
            "chat",
            "--phone",
            "+61499600001",
            "--say",
            "what's included in the Everest Base Camp trek?",
            "--wait",
            "60",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "you> what's included in the Everest Base Camp trek?" in result.stdout
    assert "bot> Everest Base Camp Trek includes:" in result.stdout
