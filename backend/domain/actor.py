"""Who caused a change, as the timeline records it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from backend.domain.enums import Source


@dataclass(frozen=True)
class Actor:
    source: Source
    phone: str | None = None
    staff_id: str | None = None
    conversation_id: str | None = None

    def in_conversation(self, conversation_id: str | None) -> Actor:
        return replace(self, conversation_id=conversation_id)


SYSTEM = Actor(Source.SYSTEM)
SCHEDULER = Actor(Source.SCHEDULER)
