"""The incident rules read guides' messages as operations would.

The contract is the table in `incident_messages.yml`: one test per row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from backend.domain.enums import Severity
from backend.domain.severity import (
    PHRASE_LISTS,
    RULES_FILE,
    SEVERITY_LEVELS,
    WORD_SETS,
    RulesError,
    UpdateVerdict,
    assess_update,
    classify_severity,
    load_rules,
    says_resolved,
)

TABLE = Path(__file__).with_name("incident_messages.yml")
ROW_KEYS = {"text", "verdict", "severity", "note"}


def _rows() -> list[dict[str, Any]]:
    return yaml.safe_load(TABLE.read_text(encoding="utf-8"))["messages"]


ROWS = _rows()


def _row_id(index: int, row: dict[str, Any]) -> str:
    words = "-".join(str(row.get("text", "")).split()[:6])
    return f"{index:03d}-{words}"


@pytest.mark.parametrize("row", ROWS, ids=[_row_id(i, row) for i, row in enumerate(ROWS)])
def test_message_is_read_as_the_table_says(row: dict[str, Any]) -> None:
    expected = {key: row[key] for key in ("verdict", "severity") if key in row}
    read = {}
    if "verdict" in row:
        read["verdict"] = str(assess_update(row["text"]))
    if "severity" in row:
        read["severity"] = str(classify_severity(row["text"]))
    assert read == expected


def test_the_table_is_well_formed() -> None:
    verdicts = {str(v) for v in UpdateVerdict}
    severities = {str(s) for s in Severity}
    for row in ROWS:
        assert set(row) <= ROW_KEYS, row
        assert isinstance(row.get("text"), str), row
        assert "verdict" in row or "severity" in row, row
        assert row.get("verdict", "RESOLVED") in verdicts, row
        assert row.get("severity", "LOW") in severities, row


def test_says_resolved_is_assess_update_resolved() -> None:
    for row in ROWS:
        if "verdict" in row:
            assert says_resolved(row["text"]) is (row["verdict"] == "RESOLVED"), row["text"]


def test_rules_file_loads_with_every_list_filled() -> None:
    raw = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    assert set(raw["severity"]) == {str(level) for level in SEVERITY_LEVELS[1:]}
    for level, words in raw["severity"].items():
        assert words, level
    for section in (*PHRASE_LISTS, *WORD_SETS, "misspellings"):
        assert raw[section], section

    rules = load_rules()
    assert all(rules.severity[level] for level in SEVERITY_LEVELS[1:])
    assert all(rules.phrases[kind] for kind in PHRASE_LISTS)
    assert rules.clause_breaks and rules.filler and rules.not_typos and rules.misspellings
    # `no` is a word in these lists, not YAML's boolean false.
    assert ("no",) in rules.phrases["negation"]


def test_a_rules_file_with_an_empty_list_is_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    raw["resolved"] = []
    broken = tmp_path / "incident_rules.yml"
    broken.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RulesError, match="resolved"):
        load_rules(broken)
