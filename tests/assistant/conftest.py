"""The assistant's tests need the trained model (trained once per data change) and, for the
HTTP tests, a running Rasa server and action server (started once per session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import ROOT, train_model

pytestmark = pytest.mark.rasa


@pytest.fixture(scope="session")
def trained_model() -> Path:
    if not (ROOT / ".venv-rasa/bin/rasa").exists():
        pytest.fail("the Rasa environment is missing: run `make setup`")
    return train_model()


@pytest.fixture(scope="session")
def results_dir() -> Iterator[Path]:
    path = ROOT / "results"
    path.mkdir(exist_ok=True)
    yield path
