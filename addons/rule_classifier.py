"""What the project's rule-based NLU components share: loading a grammar from
`backend/domain/` by its path (this Python environment has Rasa, not the backend's
dependencies), and setting an intent with full confidence plus one entity on a message,
whatever the statistical classifier guessed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message


def load_domain_module(filename: str) -> Any:
    """`backend/domain/<filename>` by its path: plain Python shared with the actions."""
    path = Path(__file__).resolve().parent.parent / "backend" / "domain" / filename
    name = f"tms_domain_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class RuleClassifier(GraphComponent, IntentClassifier):
    """Subclasses say what a text means (`classify`): an intent and, optionally, one entity
    (type, value, (start, end)) that replaces any other of its type (a value of None only
    removes them); None leaves the message as the classifier had it."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RuleClassifier:
        return cls()

    def classify(
        self, text: str | None
    ) -> tuple[str, tuple[str, str | None, tuple[int, int] | None] | None] | None:
        raise NotImplementedError

    def applies_to(self, metadata: dict[str, Any]) -> bool:
        """Whether the rule reads this message at all (its channel metadata: who wrote it)."""
        return True

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if not self.applies_to(message.get("metadata") or {}):
                continue
            found = self.classify(message.get(TEXT))
            if found is None:
                continue
            intent_name, entity = found
            intent = {INTENT_NAME_KEY: intent_name, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
            if entity is None:
                continue
            kind, value, span = entity
            entities = [
                e for e in message.get(ENTITIES, []) if e.get(ENTITY_ATTRIBUTE_TYPE) != kind
            ]
            if value is not None and span is not None:
                entities.append(
                    {
                        ENTITY_ATTRIBUTE_TYPE: kind,
                        ENTITY_ATTRIBUTE_VALUE: value,
                        ENTITY_ATTRIBUTE_START: span[0],
                        ENTITY_ATTRIBUTE_END: span[1],
                        EXTRACTOR: self.__class__.__name__,
                    }
                )
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
