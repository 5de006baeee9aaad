"""Rasa's own checks: the data validates, the conversation tests pass, the NLU is good enough
on examples it never saw in training."""

from __future__ import annotations

import subprocess

import pytest

from tests.assistant import nlu_eval
from tests.processes import ROOT

pytestmark = pytest.mark.rasa

CONTRACT_INTENTS = {
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "enquire_trip",
    "request_hold",
    "choose_option",
    "join_waitlist",
    "ask_dates",
    "ask_price",
    "ask_inclusions",
    "ask_payment",
    "booking_status",
    "cancel_booking",
    "inform",
    "human_handoff",
    "give_feedback",
    "give_email",
    "out_of_scope",
    "guide_checkin",
    "guide_issue",
    "guide_update",
    "guide_checkout",
}
MIN_ACCURACY = 0.85
HOLDOUT = ROOT / "tests" / "nlu_holdout.yml"
FAQ_HOLDOUT = ROOT / "tests" / "nlu_faq_holdout.yml"
MIN_INTENT_F1 = 0.6


def rasa(*args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/rasa.sh", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_rasa_data_validate_is_clean():
    result = rasa(
        "data", "validate", "--domain", "domain.yml", "--data", "data", "--fail-on-warnings"
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_conversation_tests_pass(trained_model, results_dir):
    out = results_dir / "core"
    result = rasa(
        "test",
        "core",
        "--model",
        str(trained_model),
        "--stories",
        "tests",
        "--fail-on-prediction-errors",
        "--out",
        str(out),
    )
    failed = out / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, detail[-4000:] + result.stderr[-3000:]


def test_nlu_on_the_held_out_set(assistant_stack):
    parsed = nlu_eval.parse_all(assistant_stack["rasa_url"], nlu_eval.examples(HOLDOUT))
    rows = nlu_eval.per_intent(parsed)
    accuracy = nlu_eval.accuracy(parsed)
    print(f"\nNLU on tests/nlu_holdout.yml: accuracy {accuracy:.3f}")
    print(f"{'intent':<16}{'precision':>10}{'recall':>8}{'f1':>7}{'n':>5}")
    for intent in sorted(rows):
        r = rows[intent]
        print(f"{intent:<16}{r.precision:>10.2f}{r.recall:>8.2f}{r.f1:>7.2f}{r.support:>5}")
    assert set(rows) >= CONTRACT_INTENTS, (
        f"missing from the held-out set: {CONTRACT_INTENTS - set(rows)}"
    )
    assert accuracy >= MIN_ACCURACY
    weak = {k: round(v.f1, 2) for k, v in rows.items() if v.f1 < MIN_INTENT_F1}
    assert not weak, f"intents below F1 {MIN_INTENT_F1}: {weak}"


# Issue 16's target, as the product answers (0.933 on the model of this training data; the
# selector alone 0.857).
MIN_FAQ_ACCURACY = 0.9


def test_faq_topics_on_their_held_out_set(assistant_stack):
    """Which practical question it is, on questions never trained on, reported per topic: the
    ResponseSelector alone, and as the product answers (the one topic the words name, else the
    selector when it is sure, else the team: actions/knowledge.py)."""
    from actions.knowledge import decide_topic
    from backend.services.knowledge import topics

    seen = nlu_eval.parse_all(assistant_stack["rasa_url"], nlu_eval.examples(FAQ_HOLDOUT))
    per_topic: dict[str, list[tuple[bool, bool]]] = {}
    for example in seen:
        wanted = example.example.topic
        assert wanted is not None
        answered = decide_topic(example.example.text, example.topic, example.topic_confidence)
        per_topic.setdefault(wanted, []).append((example.topic == wanted, answered == wanted))
    selector_accuracy = sum(s for r in per_topic.values() for s, _ in r) / len(seen)
    product_accuracy = sum(a for r in per_topic.values() for _, a in r) / len(seen)
    print(
        f"\nFAQ topics on tests/nlu_faq_holdout.yml ({len(seen)} questions): "
        f"selector {selector_accuracy:.3f}, as answered {product_accuracy:.3f}"
    )
    print(f"{'topic':<24}{'selector':>9}{'answered':>9}{'n':>4}")
    for topic in sorted(per_topic):
        rows = per_topic[topic]
        print(
            f"{topic:<24}{sum(s for s, _ in rows) / len(rows):>9.2f}"
            f"{sum(a for _, a in rows) / len(rows):>9.2f}{len(rows):>4}"
        )
    assert len(per_topic) >= 20 and set(per_topic) <= set(topics())
    assert product_accuracy >= MIN_FAQ_ACCURACY
