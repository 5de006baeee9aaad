"""Scoring the NLU on an evaluation file through the running Rasa server (`/model/parse`, the
pipeline `rasa test nlu` runs, without loading the model again for each file): the intent per
message, and for the retrieval intent `faq` the topic its ResponseSelector chose."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

# "[EBC](trek)", '[Annapurna-Runde]{"entity": "trek", "value": "ANN"}': the words only.
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    text: str
    intent: str  # "faq" for every FAQ topic
    topic: str | None  # "visas" for faq/visas


@dataclass(frozen=True)
class Parsed:
    example: Example
    intent: str
    topic: str | None
    topic_confidence: float


def examples(path: Path) -> list[Example]:
    found = []
    for block in yaml.safe_load(path.read_text())["nlu"]:
        if "intent" not in block:
            continue
        intent, _, topic = str(block["intent"]).partition("/")
        for line in str(block["examples"]).splitlines():
            text = line.strip()
            if text.startswith("- "):
                found.append(
                    Example(_ANNOTATION.sub(r"\1", text[2:]).strip(), intent, topic or None)
                )
    return found


def parse_all(rasa_url: str, wanted: list[Example]) -> list[Parsed]:
    with httpx.Client(base_url=rasa_url, timeout=60) as client:

        def parse(example: Example) -> Parsed:
            answer = client.post("/model/parse", json={"text": example.text})
            answer.raise_for_status()
            parsed = answer.json()
            selected = ((parsed.get("response_selector") or {}).get("faq") or {}).get(
                "response"
            ) or {}
            key = str(selected.get("intent_response_key") or "")
            return Parsed(
                example,
                str((parsed.get("intent") or {}).get("name") or ""),
                key.split("/", 1)[1] if "/" in key else None,
                float(selected.get("confidence") or 0.0),
            )

        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(parse, wanted))


@dataclass(frozen=True)
class IntentScore:
    precision: float
    recall: float  # this intent's accuracy
    f1: float
    support: int


def per_intent(parsed: list[Parsed]) -> dict[str, IntentScore]:
    support = Counter(p.example.intent for p in parsed)
    predicted = Counter(p.intent for p in parsed)
    right = Counter(p.intent for p in parsed if p.intent == p.example.intent)
    scores = {}
    for intent, n in support.items():
        precision = right[intent] / predicted[intent] if predicted[intent] else 0.0
        recall = right[intent] / n
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[intent] = IntentScore(precision, recall, f1, n)
    return scores


def accuracy(parsed: list[Parsed]) -> float:
    return sum(p.intent == p.example.intent for p in parsed) / max(len(parsed), 1)
