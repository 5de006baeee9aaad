"""The NLU on the sealed sets (tests/sealed/): messages written by someone who never read the
training data, from the intents, the FAQ topics and the catalogue only (docs/understanding.md
says how they were made). Only the scores are printed and kept, per intent and per topic: the
messages and the errors are never shown, so that no one tunes to them.

Set A is scored here on every run. Set B is kept for the end of the work (to confirm A was not
overfitted): `TMS_SCORE_SEALED_B=1` scores it too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.assistant import nlu_eval
from tests.processes import ROOT

pytestmark = pytest.mark.rasa

SEALED = ROOT / "tests" / "sealed"

# Ratchets at the scores measured on set A when it was written (docs/understanding.md's table),
# a little under them: a change that loses understanding fails here. Issue 25's targets (0.92
# overall, every intent 0.80, out_of_scope 0.85, FAQ answered 0.92) replace them as they are met.
FLOORS = {"accuracy": 0.9, "every_intent": 0.5, "faq_answered": 0.92}


@dataclass(frozen=True)
class Scores:
    accuracy: float
    per_intent: dict[str, tuple[float, int]]  # recall (this intent's accuracy), support
    faq_selector: float
    faq_answered: float
    per_topic: dict[str, tuple[float, float, int]]  # selector, as answered, support


def score(rasa_url: str, sealed: Path) -> Scores:
    """Every message of a sealed file through the running Rasa; nothing of them is kept."""
    from actions.knowledge import decide_topic

    parsed = nlu_eval.parse_all(rasa_url, nlu_eval.examples(sealed))
    per_topic_rows: dict[str, list[tuple[bool, bool]]] = {}
    for p in parsed:
        if p.example.topic is None:
            continue
        answered = decide_topic(p.example.text, p.topic, p.topic_confidence)
        per_topic_rows.setdefault(p.example.topic, []).append(
            (p.topic == p.example.topic, answered == p.example.topic)
        )
    flat = [r for rows in per_topic_rows.values() for r in rows]
    return Scores(
        accuracy=nlu_eval.accuracy(parsed),
        per_intent={k: (v.recall, v.support) for k, v in nlu_eval.per_intent(parsed).items()},
        faq_selector=sum(s for s, _ in flat) / max(len(flat), 1),
        faq_answered=sum(a for _, a in flat) / max(len(flat), 1),
        per_topic={
            topic: (
                sum(s for s, _ in rows) / len(rows),
                sum(a for _, a in rows) / len(rows),
                len(rows),
            )
            for topic, rows in per_topic_rows.items()
        },
    )


def report(name: str, scores: Scores, results_dir: Path) -> None:
    lines = [
        f"sealed set {name}: intent accuracy {scores.accuracy:.3f}; FAQ topic: selector "
        f"{scores.faq_selector:.3f}, as answered {scores.faq_answered:.3f}",
        f"{'intent':<20}{'accuracy':>9}{'n':>5}",
        *(
            f"{intent:<20}{recall:>9.2f}{n:>5}"
            for intent, (recall, n) in sorted(scores.per_intent.items())
        ),
        f"{'FAQ topic':<24}{'selector':>9}{'answered':>9}{'n':>4}",
        *(
            f"{topic:<24}{s:>9.2f}{a:>9.2f}{n:>4}"
            for topic, (s, a, n) in sorted(scores.per_topic.items())
        ),
    ]
    text = "\n".join(lines)
    print("\n" + text)
    (results_dir / f"sealed-{name}-scores.txt").write_text(text + "\n")


@pytest.mark.parametrize(
    "name",
    [
        "a",
        pytest.param(
            "b",
            marks=pytest.mark.skipif(
                os.environ.get("TMS_SCORE_SEALED_B") != "1",
                reason="set B is scored at the end of the work (TMS_SCORE_SEALED_B=1)",
            ),
        ),
    ],
)
def test_the_sealed_set_is_understood(name, assistant_stack, results_dir):
    scores = score(assistant_stack["rasa_url"], SEALED / f"nlu_sealed_{name}.yml")
    report(name, scores, results_dir)
    assert len(scores.per_intent) >= 22 and len(scores.per_topic) >= 20
    assert scores.accuracy >= FLOORS["accuracy"]
    weakest = min(recall for recall, _ in scores.per_intent.values())
    assert weakest >= FLOORS["every_intent"]
    assert scores.faq_answered >= FLOORS["faq_answered"]
