"""The bounded tracker store (addons/stores/bounded_tracker_store.py) against Rasa's stock SQL
tracker store, on PostgreSQL, in Rasa's own environment (tracker_store_probe.py): after every
turn of long conversations the bounded tracker has the same slots, form, pause and last
dialogue states as the whole session replayed, every event is stored once, and a turn loads a
bounded number of events however long the conversation is. Also the lock store's choice
(addons/stores/lock_store.py) that scripts/rasa.sh makes from REDIS_URL."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest
import yaml

from addons.stores.lock_store import (
    LOCK_STORE_CLASS,
    endpoints_with_lock_store,
    lock_store_config,
)
from tests.assistant.backing_services import (
    REDIS_URL,
    fresh_tracker_database,
    rasa_probe,
    redis_problem,
)
from tests.processes import ROOT

pytestmark = pytest.mark.rasa

WINDOW = 5  # turns, the default of scripts/rasa.sh
# A probe turn has at most 7 events (user, slot, action, two more, bot, listen). A turn loads
# the window's turns, the listen before them and the carried state (a SlotSet per slot, a
# form, a pause): never more than this, however long the conversation.
MOST_EVENTS_LOADED = (WINDOW + 1) * 7 + 12


@pytest.fixture(scope="module")
def probe() -> dict[str, Any]:
    database = fresh_tracker_database("tracker_probe")
    findings, stderr = rasa_probe(
        "tracker_store_probe", database.rasa_url, "all", str(WINDOW), timeout=1200
    )
    return {**findings, "stderr": stderr}


def test_a_long_conversation_keeps_its_state_and_loads_a_bounded_window(probe):
    seen = probe["long_conversation"]
    assert seen["mismatches"] == [], "the bounded tracker differs from the whole session"
    assert seen["slots"] == {
        "trek": "EBC",
        "group_size": "3 people",
        "pending_question": "full_options",
    }
    assert seen["stored"] == seen["appended"], "every event is stored exactly once"
    assert seen["stored_user_turns"] == seen["turns"] == 302
    assert max(seen["loaded"]) <= MOST_EVENTS_LOADED
    # The stock store loads every event of the session, so its turns keep growing.
    assert seen["stock_loaded"][-1] >= 1200


def test_a_form_left_open_holds_the_window_for_four_windows_at_most(probe):
    seen = probe["open_form"]
    assert seen["stored"] == seen["appended"]
    # While the window can still start before the form, the tracker is exactly the session's;
    # past four windows it starts inside the form (the form and slots are still carried).
    assert seen["first_mismatch_turn"] is None or seen["first_mismatch_turn"] > 4 * WINDOW
    assert all("last states" in m for m in seen["mismatches"]), seen["mismatches"]
    assert max(seen["loaded"]) <= (4 * WINDOW + 1) * 7
    assert max(seen["loaded"][4 * WINDOW + 2 :]) <= MOST_EVENTS_LOADED


def test_a_new_session_starts_the_window_as_the_stock_store_starts_its_load(probe):
    seen = probe["new_session"]
    assert seen["mismatches"] == []
    assert seen["same_events_as_stock"] == [True, True, True]


def test_a_conversation_stored_by_the_stock_store_is_windowed_after_one_turn(probe):
    seen = probe["legacy_conversation"]
    assert seen["mismatches"] == []
    assert seen["stored"] == seen["appended"]
    assert seen["loaded"][0] > 200  # the whole session, once
    assert max(seen["loaded"][1:]) <= MOST_EVENTS_LOADED


def test_two_writers_without_a_shared_lock_lose_no_event(probe):
    # The stock store would skip as many events of the second save as the first one wrote.
    seen = probe["unshared_lock"]
    assert seen["stored"] == seen["appended"]
    assert seen["user_texts"][:2] == ["first", "second"]
    assert "is the lock store shared by every Rasa process?" in probe["stderr"]
    assert seen["mismatches"] == []  # the turn after it is rebuilt from the whole session


# -- the lock store ------------------------------------------------------------------------------
def test_redis_urls_become_rasas_lock_store_section():
    assert lock_store_config("redis://127.0.0.1:6379") == {
        "type": LOCK_STORE_CLASS,
        "url": "127.0.0.1",
        "port": 6379,
        "db": 0,
    }
    assert lock_store_config("rediss://tms:p%40ss@redis.internal:6380/3") == {
        "type": LOCK_STORE_CLASS,
        "url": "redis.internal",
        "port": 6380,
        "db": 3,
        "username": "tms",
        "password": "p@ss",
        "use_ssl": True,
    }
    with pytest.raises(ValueError):
        lock_store_config("http://127.0.0.1:6379")
    endpoints = (ROOT / "endpoints.yml").read_text()
    merged = yaml.safe_load(endpoints_with_lock_store(endpoints, "redis://:secret@127.0.0.1/2"))
    assert merged["lock_store"] == {
        "type": LOCK_STORE_CLASS,
        "url": "127.0.0.1",
        "port": 6379,
        "db": 2,
        "password": "secret",
    }
    assert merged["tracker_store"] == yaml.safe_load(endpoints)["tracker_store"]


def _rasa_sh(env: dict[str, str], tmp_path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/rasa.sh", "run", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TMS_VAR_DIR": str(tmp_path), **env},
    )


def test_a_production_rasa_refuses_to_start_when_its_redis_does_not_answer(tmp_path):
    result = _rasa_sh(
        {
            "TMS_ENV": "production",
            "ACTION_SERVER_SECRET": "s1",
            "RASA_CHANNEL_SECRET": "s2",
            "REDIS_URL": "redis://127.0.0.1:9/0",
        },
        tmp_path,
    )
    assert result.returncode == 2
    assert "REDIS_URL is set but Redis at 127.0.0.1:9 does not answer" in result.stderr
    assert not (tmp_path / "endpoints.redis.yml").exists()


def test_without_redis_the_lock_store_stays_in_memory(tmp_path):
    # Development: a Redis that does not answer is reported, and Rasa runs on endpoints.yml.
    result = subprocess.run(
        [
            str(ROOT / ".venv-rasa/bin/python"),
            "-m",
            "addons.stores.lock_store",
            "endpoints.yml",
            str(tmp_path / "endpoints.redis.yml"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TMS_ENV": "development", "REDIS_URL": "redis://127.0.0.1:9/0"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "endpoints.yml"
    assert "using the in-memory lock store, so run only one Rasa process" in result.stderr
    assert not (tmp_path / "endpoints.redis.yml").exists()


def _lock_probe(kind: str) -> dict[str, Any]:
    return rasa_probe("lock_store_probe", REDIS_URL, kind, "4", "25")[0]


def test_the_redis_lock_lets_one_process_at_a_time_into_a_conversation():
    problem = redis_problem()
    if problem:
        pytest.skip(f"the Redis lock store needs Redis: {problem}")
    # Four processes take one conversation's lock at the same moment, 25 times each.
    ours = _lock_probe("atomic")
    assert ours == {"kind": "atomic", "turns": 100, "overlaps": 0, "lock_errors": 0}
    # Rasa's own RedisLockStore (GET then SET) lets two of them in together most runs here
    # (67 of 100 turns when measured), but a race is not something a test can count on: the
    # probe prints it for whoever wants the comparison
    # (.venv-rasa/bin/python -m tests.assistant.lock_store_probe redis://… rasa 4 25).


def test_a_wrong_redis_url_is_refused_without_printing_its_password():
    with pytest.raises(ValueError) as refused:
        lock_store_config("http://tms:s3cret-pass@redis.internal:6379/0")
    assert "s3cret-pass" not in str(refused.value) and "REDIS_URL" in str(refused.value)
