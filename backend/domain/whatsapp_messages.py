"""Typed builders for outgoing messages that know Meta's limits, and the request bodies.

A builder refuses what Meta would refuse, before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.domain.whatsapp_ids import is_bsuid

TEXT_LIMIT = 4096
BUTTON_LIMIT = 3
BUTTON_TITLE_LIMIT = 20
BUTTON_BODY_LIMIT = 1024
LIST_ROW_LIMIT = 10
LIST_ROW_TITLE_LIMIT = 24
LIST_ROW_DESCRIPTION_LIMIT = 72
LIST_ROW_ID_LIMIT = 200
LIST_BUTTON_LIMIT = 20  # the label of the button that opens the list
FLOW_CTA_LIMIT = 20  # the label of the button that opens a Flow (no emoji)
FLOW_MESSAGE_VERSION = "3"


class MessageLimitError(ValueError):
    """The message breaks one of WhatsApp's limits."""


@dataclass(frozen=True)
class Text:
    body: str

    def __post_init__(self) -> None:
        if not self.body.strip():
            raise MessageLimitError("text is empty")
        if len(self.body) > TEXT_LIMIT:
            raise MessageLimitError(
                f"text is {len(self.body)} characters; the limit is {TEXT_LIMIT}"
            )

    def payload(self) -> dict[str, Any]:
        return {"type": "text", "text": {"preview_url": False, "body": self.body}}


@dataclass(frozen=True)
class Button:
    id: str
    title: str


@dataclass(frozen=True)
class Buttons:
    body: str
    buttons: tuple[Button, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.buttons) <= BUTTON_LIMIT:
            raise MessageLimitError(
                f"{len(self.buttons)} buttons; WhatsApp allows 1 to {BUTTON_LIMIT}"
            )
        for button in self.buttons:
            if not button.title or len(button.title) > BUTTON_TITLE_LIMIT:
                raise MessageLimitError(
                    f"button title {button.title!r} must be 1 to {BUTTON_TITLE_LIMIT} characters"
                )
        if len(self.body) > BUTTON_BODY_LIMIT:
            raise MessageLimitError(f"button message body is over {BUTTON_BODY_LIMIT} characters")

    def payload(self) -> dict[str, Any]:
        return {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": self.body},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": b.id[:256], "title": b.title}}
                        for b in self.buttons
                    ]
                },
            },
        }


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class ListMessage:
    """An interactive list: one section of up to 10 rows behind a button."""

    body: str
    button: str
    rows: tuple[Row, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.rows) <= LIST_ROW_LIMIT:
            raise MessageLimitError(f"{len(self.rows)} rows; WhatsApp allows 1 to {LIST_ROW_LIMIT}")
        for row in self.rows:
            if not row.title or len(row.title) > LIST_ROW_TITLE_LIMIT:
                raise MessageLimitError(
                    f"row title {row.title!r} must be 1 to {LIST_ROW_TITLE_LIMIT} characters"
                )
            if not row.id or len(row.id) > LIST_ROW_ID_LIMIT:
                raise MessageLimitError(f"row id must be 1 to {LIST_ROW_ID_LIMIT} characters")
            if len(row.description) > LIST_ROW_DESCRIPTION_LIMIT:
                raise MessageLimitError(
                    f"row description is over {LIST_ROW_DESCRIPTION_LIMIT} characters"
                )
        if not self.button or len(self.button) > LIST_BUTTON_LIMIT:
            raise MessageLimitError(f"list button must be 1 to {LIST_BUTTON_LIMIT} characters")
        if not self.body.strip() or len(self.body) > BUTTON_BODY_LIMIT:
            raise MessageLimitError(f"list body must be 1 to {BUTTON_BODY_LIMIT} characters")

    def payload(self) -> dict[str, Any]:
        rows = []
        for row in self.rows:
            item = {"id": row.id, "title": row.title}
            if row.description:
                item["description"] = row.description
            rows.append(item)
        return {
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": self.body},
                "action": {"button": self.button, "sections": [{"title": "Options", "rows": rows}]},
            },
        }


def shorten(text: str, limit: int) -> str:
    """A title cut to WhatsApp's limit with an ellipsis (the payload still says what it is)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    parameters: tuple[str, ...] = field(default_factory=tuple)
    # The payloads of the template's quick-reply buttons, in the approved order.
    quick_replies: tuple[str, ...] = field(default_factory=tuple)

    def payload(self) -> dict[str, Any]:
        template: dict[str, Any] = {"name": self.name, "language": {"code": self.language}}
        components: list[dict[str, Any]] = []
        if self.parameters:
            components.append(
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": p} for p in self.parameters],
                }
            )
        for index, reply in enumerate(self.quick_replies):
            components.append(
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": str(index),
                    "parameters": [{"type": "payload", "payload": reply}],
                }
            )
        if components:
            template["components"] = components
        return {"type": "template", "template": template}


def has_emoji(text: str) -> bool:
    """Characters Meta counts as emoji (pictographs, symbols, their joiners and selectors)."""
    return any(
        ord(ch) >= 0x1F000 or 0x2600 <= ord(ch) <= 0x27BF or ch in "\u200d\ufe0f" for ch in text
    )


@dataclass(frozen=True)
class FlowMessage:
    """An interactive `flow` message: a button opening a published WhatsApp Flow at `screen`
    with `data`; the answer comes back as an `nfm_reply` carrying `flow_token`."""

    body: str
    flow_id: str
    flow_token: str
    cta: str
    screen: str
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.body.strip() or len(self.body) > BUTTON_BODY_LIMIT:
            raise MessageLimitError(f"flow body must be 1 to {BUTTON_BODY_LIMIT} characters")
        if not self.cta or len(self.cta) > FLOW_CTA_LIMIT or has_emoji(self.cta):
            raise MessageLimitError(
                f"flow button {self.cta!r} must be 1 to {FLOW_CTA_LIMIT} characters, no emoji"
            )
        if not self.flow_id or not self.flow_token or not self.screen:
            raise MessageLimitError("a flow needs its id, a token and the first screen")

    def payload(self) -> dict[str, Any]:
        navigate: dict[str, Any] = {"screen": self.screen}
        if self.data:
            navigate["data"] = self.data
        return {
            "type": "interactive",
            "interactive": {
                "type": "flow",
                "body": {"text": self.body},
                "action": {
                    "name": "flow",
                    "parameters": {
                        "flow_message_version": FLOW_MESSAGE_VERSION,
                        "flow_token": self.flow_token,
                        "flow_id": self.flow_id,
                        "flow_cta": self.cta,
                        "flow_action": "navigate",
                        "flow_action_payload": navigate,
                    },
                },
            },
        }


WireMessage = Text | Buttons | ListMessage | FlowMessage | Template


def request_body(to_wa_id: str, message: WireMessage) -> dict[str, Any]:
    """Meta's request: `to` for a phone number (its wa_id), `recipient` for a business-scoped
    user ID when no phone is known (docs/whatsapp.md, "Usernames and BSUIDs")."""
    field_name = "recipient" if is_bsuid(to_wa_id) else "to"
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        field_name: to_wa_id,
        **message.payload(),
    }
