"""A fake of Meta's Graph API for tests and the demo, strict the way Meta is.

`python -m devkit.fake_graph --port 8900 --webhook-url http://127.0.0.1:8000/webhooks/whatsapp`

- `POST /{version}/{phone_number_id}/messages`: checks the Bearer token and the phone number
  id; enforces the limits (text ≤ 4096; 1-3 reply buttons with titles ≤ 20 characters and
  distinct ids ≤ 256; lists of 1-10 rows with titles ≤ 24, descriptions ≤ 72, ids ≤ 200 and a
  button label ≤ 20; interactive bodies ≤ 1024; approved templates with the right number of
  parameters and only their approved quick-reply buttons), the 24-hour window (free-form to
  someone who has not written in 24 h: 131047, at once or later as a `failed` status), the
  business number's rate (130429) and a per-recipient burst (131056). Returns a wamid, then
  sends signed `sent` / `delivered` / `read` status webhooks back.
- `GET /{version}/{media-id}` and the URL it gives (expiring after `media_url_seconds`): the
  two-step media download, both with the Bearer token.
- Interactive `flow` messages are checked as Meta does (version "3", a token, one published
  Flow by id or name (`config.flows`), a call to action ≤ 20 characters without emoji, the
  navigate payload's screen); a phone completes one with `inbound` `type: flow_reply`
  (`flow_token`, `response`, `context_id`): Meta's `nfm_reply` with its `response_json`.
- Message templates (Meta's "Get templates" and template webhooks): the business account's
  templates, seeded from backend/whatsapp/templates.yml (English, APPROVED), served by
  `GET /{version}/{WABA-ID}/message_templates` (`data`, `paging` with cursors and `next`). A
  template message must name a template and language that exist and are APPROVED: 132001
  ("Template name does not exist in the translation") otherwise, 132015 when it is PAUSED,
  132016 when DISABLED. `POST /_fake/templates` adds or changes one (a language, its status,
  quality or category) and, unless `notify` is false, posts Meta's webhook for each change:
  `message_template_status_update`, `message_template_quality_update`,
  `template_category_update` (`impending: true`: the 24-hours-ahead notice instead).
- Test controls under `/_fake/`: `inbound` (a customer writes: a signed webhook to the
  backend), `media` (a phone uploads a file: its media id for an inbound message),
  `messages` (what was received), `wait` (a long poll for the messages to one recipient),
  `config`, `clock` (move time), `reset`, `change_number` (a user changes number: Meta's
  `system` message `user_changed_number`, or `user_changed_user_id` for a username user),
  `messaging_limit` (a tier change, or `event` FLAGGED / UNFLAGGED: Meta's
  phone_number_quality_update).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import random
import re
import time
from collections import defaultdict, deque
from datetime import datetime, timedelta
from typing import Any

import httpx
import phonenumbers
from sanic import Request, Sanic, response

from backend import clock
from backend.config import get_settings
from backend.domain.messaging_limits import limit_of, tier_of
from backend.domain.whatsapp_messages import (
    BUTTON_BODY_LIMIT,
    BUTTON_LIMIT,
    BUTTON_TITLE_LIMIT,
    FLOW_CTA_LIMIT,
    FLOW_MESSAGE_VERSION,
    LIST_BUTTON_LIMIT,
    LIST_ROW_DESCRIPTION_LIMIT,
    LIST_ROW_ID_LIMIT,
    LIST_ROW_LIMIT,
    LIST_ROW_TITLE_LIMIT,
    TEXT_LIMIT,
    has_emoji,
)
from backend.whatsapp.signature import sign
from backend.whatsapp.templates import approved, seeds

WINDOW = timedelta(hours=24)
SERVER_ERROR_CODES = {1, 2, 131000}  # Meta's "unknown"/"service unavailable" errors, as HTTP 500
# phone_number_quality_update events that flag the number's quality without changing its tier.
QUALITY_FLAGS = ("FLAGGED", "UNFLAGGED")


class FakeMeta:
    def __init__(
        self,
        *,
        webhook_url: str,
        app_secret: str,
        access_token: str,
        phone_number_id: str,
        waba_id: str = "WABA_FAKE",
    ) -> None:
        self.waba_id = waba_id
        self.webhook_url = webhook_url
        self.app_secret = app_secret
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self._ids = itertools.count(1)
        self._turns = itertools.count()
        self.reset()

    def reset(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.last_inbound: dict[str, datetime] = {}
        # Business-scoped user IDs: every user has one (wa_id → BSUID); users who adopted a
        # username and share no phone (their wa_id, kept here only to play their phone).
        self.user_ids: dict[str, str] = {}
        self.usernames: dict[str, str] = {}
        self.offset = timedelta(0)
        self.sent_times: deque[float] = deque()
        # What the business number's limit saw: the most messages accepted within one second,
        # and how many were refused for the rate (130429) or one recipient's pace (131056).
        self.busiest_second = 0
        self.refused = {130429: 0, 131056: 0}
        self.refused_spans: list[float] = []
        self.recipient_times: dict[str, deque[float]] = defaultdict(deque)
        self.fail_next: list[int] = []
        # Uploaded media (what phones send): id → (bytes, mime type); downloads served so far.
        self.media: dict[str, tuple[bytes, str]] = {}
        self.media_downloads = 0
        self.config: dict[str, Any] = {
            "media_url_seconds": 300,  # how long a media URL works (Meta: five minutes)
            "media_fail_next": 0,  # the next N byte downloads answer 500
            "window_mode": "async",  # 131047 as a later failed status (like Meta), or "sync"
            "rate_per_second": 80,
            "recipient_burst": 45,  # more than this within 6 s to one recipient: 131056
            "statuses": ["sent", "delivered", "read"],
            "status_delay": 0.05,
            "shuffle_statuses": False,
            "duplicate_statuses": False,
            "latency": 0.0,
            # The WhatsApp Flows published on this business account (their ids).
            "flows": ["demo-papers-flow"],
            # The portfolio's messaging limit (Meta's tier names; a new portfolio: 250).
            "messaging_limit_tier": "TIER_250",
        }
        # Users messaged outside their customer service window: wa_id → when (the limit counts
        # unique users over a moving 24 hours); how many messages the limit refused (131048).
        self.initiated: dict[str, datetime] = {}
        self.limit_refused = 0
        self.webhooks_sent = 0
        # The account's message templates by (name, language code), as Meta holds them.
        self.templates: dict[tuple[str, str], dict[str, Any]] = {
            (spec.name, spec.language): {
                "id": str(1_000_000_000_000 + index),
                "name": spec.name,
                "language": spec.language,
                "status": "APPROVED",
                "category": spec.category,
                "quality": "UNKNOWN",
                "body": spec.body,
                "params": spec.params,
                "quick_replies": list(spec.quick_replies),
            }
            for index, spec in enumerate(seeds())
        }

    def now(self) -> datetime:
        # Meta's clock is the stack's clock: the tests and the demo may move it for everyone.
        return clock.now() + self.offset

    def wamid(self) -> str:
        return f"wamid.FAKE{int(time.time() * 1000)}{next(self._ids):08d}"

    # -- business-scoped user IDs -----------------------------------------------------------------
    def user_id_of(self, wa_id: str) -> str:
        """The user's BSUID (Meta: an ISO country code, a period, up to 128 alphanumerics)."""
        if wa_id not in self.user_ids:
            try:
                region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + wa_id))
            except phonenumbers.NumberParseException:
                region = None
            digits = int(hashlib.sha256(wa_id.encode()).hexdigest()[:16], 16)
            self.user_ids[wa_id] = f"{region or 'US'}.{digits}"
        return self.user_ids[wa_id]

    def wa_id_of_user(self, user_id: str) -> str | None:
        return next((w for w, u in self.user_ids.items() if u == user_id), None)

    def addressed(self, body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """Meta's two ways to name the user: `to` (a phone) or `recipient` (a BSUID); `to`
        wins when both are there. The body as the fake keeps it (`to` = the user's wa_id) and
        the BSUID it was sent to, if any. An unknown BSUID stays unaddressed (refused)."""
        if body.get("to") or not body.get("recipient"):
            return body, None
        user_id = str(body["recipient"])
        wa_id = self.wa_id_of_user(user_id)
        return ({**body, "to": wa_id} if wa_id else body), user_id

    def contact_of(self, wa_id: str, name: str | None) -> dict[str, Any]:
        """`contacts[]` of a messages webhook: `user_id` always, `wa_id` only when the user
        shares their phone, `profile.username` when they have one."""
        profile: dict[str, Any] = {"name": name or "WhatsApp user"}
        if wa_id in self.usernames:
            profile["username"] = self.usernames[wa_id]
        contact: dict[str, Any] = {"profile": profile, "user_id": self.user_id_of(wa_id)}
        if wa_id not in self.usernames:
            contact["wa_id"] = wa_id
        return contact

    def status_user(self, status: dict[str, Any], wa_id: str, by_user_id: bool) -> None:
        """A status names its user by `recipient_id` (the phone, unless sent to a BSUID of a
        user who shares none) and `recipient_user_id` (omitted for a failed message sent to a
        phone number)."""
        if status["status"] != "failed" or by_user_id:
            status["recipient_user_id"] = self.user_id_of(wa_id)
        if by_user_id and wa_id in self.usernames:
            status.pop("recipient_id", None)

    def change_number(
        self, wa_id: str, new_wa_id: str | None, name: str | None = None
    ) -> dict[str, Any]:
        """A user changed their phone number: Meta gives them a new BSUID and tells the
        business by a `system` message on the `messages` field (no `contacts[]`; Meta's system
        messages webhook reference): `user_changed_number` with the new number
        (`system.wa_id`) when it can be shared, else `user_changed_user_id` (the BSUID
        alone); `system.user_id` is the new BSUID, `previous_user_id` the old one, and
        `from` the old number when the user shared it."""
        previous = self.user_id_of(wa_id)
        self.user_ids.pop(wa_id)
        current = f"{previous.split('.')[0]}.{int(previous.split('.')[-1]) + 1}"
        target = new_wa_id or wa_id
        self.user_ids[target] = current
        shared = wa_id not in self.usernames
        if new_wa_id and wa_id in self.usernames:
            self.usernames[new_wa_id] = self.usernames.pop(wa_id)
        if new_wa_id and wa_id in self.last_inbound:
            self.last_inbound[new_wa_id] = self.last_inbound.pop(wa_id)
        who = name or "WhatsApp user"
        message: dict[str, Any] = {
            "id": self.wamid(),
            "timestamp": str(int(self.now().timestamp())),
            "type": "system",
        }
        if shared:
            message["from"] = wa_id
            message["system"] = {
                "body": f"User {who} changed from {wa_id} to {target}",
                "wa_id": target,
                "type": "user_changed_number",
                "user_id": current,
                "previous_user_id": previous,
            }
        else:
            message["system"] = {
                "body": f"User {who} changed their business-scoped user ID",
                "type": "user_changed_user_id",
                "user_id": current,
                "previous_user_id": previous,
            }
        return self._envelope({"messages": [message]})

    # -- outbound (business → user) ------------------------------------------------------------
    def check(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """An error answer for a request Meta would refuse, or None."""
        if self.fail_next:
            code = self.fail_next.pop(0)
            return error(
                code, "Injected failure", status=500 if code in SERVER_ERROR_CODES else 400
            )
        if body.get("messaging_product") != "whatsapp" or not body.get("to"):
            return error(100, "Invalid parameter: messaging_product and to are required")
        kind = body.get("type", "text")
        if kind == "text":
            text = (body.get("text") or {}).get("body") or ""
            if not text:
                return error(100, "Param text['body'] is required")
            if len(text) > TEXT_LIMIT:
                return error(
                    100, f"Param text['body'] must be at most {TEXT_LIMIT} characters long"
                )
        elif kind == "interactive":
            refused = check_interactive(
                body.get("interactive") or {}, published_flows=self.config["flows"]
            )
            if refused is not None:
                return error(131009, f"Parameter value is not valid: {refused}")
        elif kind == "template":
            template = body.get("template") or {}
            found = self.template_of(body)
            # Meta's error codes: a template (in that language) that does not exist or is not
            # approved, 132001; paused, 132015; disabled, 132016.
            if found is None or found["status"] not in ("APPROVED", "PAUSED", "DISABLED"):
                return error(
                    132001,
                    "Template name does not exist in the translation: "
                    f"{template.get('name')} ({(template.get('language') or {}).get('code')})",
                )
            if found["status"] == "PAUSED":
                return error(132015, f"Template is Paused: {found['name']}")
            if found["status"] == "DISABLED":
                return error(132016, f"Template is Disabled: {found['name']}")
            components = template.get("components") or []
            params = [
                p for c in components if c.get("type") == "body" for p in c.get("parameters") or []
            ]
            if len(params) != found["params"]:
                return error(
                    132000, "Number of parameters does not match the expected number of params"
                )
            replies = [c for c in components if c.get("type") == "button"]
            allowed = len(found["quick_replies"])
            for reply in replies:
                index = str(reply.get("index", ""))
                payloads = reply.get("parameters") or []
                if (
                    reply.get("sub_type") != "quick_reply"
                    or not index.isdigit()
                    or int(index) >= allowed
                    or len(payloads) != 1
                    or payloads[0].get("type") != "payload"
                    or not str(payloads[0].get("payload") or "")
                ):
                    return error(
                        132018, f"Template {template['name']}: button {index!r} does not match"
                    )
        else:
            return error(100, f"Unsupported message type {kind}")
        now = time.monotonic()
        while self.sent_times and now - self.sent_times[0] > 1.0:
            self.sent_times.popleft()
        if len(self.sent_times) >= self.config["rate_per_second"]:
            self.refused[130429] += 1
            # How close together the window's messages arrived (bunched by a late sender, or
            # by this process getting no CPU for a while).
            self.refused_spans.append(round(now - self.sent_times[0], 3))
            return error(130429, "Rate limit hit", status=400)
        recent = self.recipient_times[body["to"]]
        while recent and now - recent[0] > 6.0:
            recent.popleft()
        if len(recent) >= self.config["recipient_burst"]:
            self.refused[131056] += 1
            return error(131056, "(Business Account, Consumer Account) pair rate limit hit")
        if (
            kind != "template"
            and not self.window_open(body["to"])
            and self.config["window_mode"] == "sync"
        ):
            return error(131047, "Re-engagement message")
        if kind == "template" and not self.window_open(body["to"]) and self.over_limit(body["to"]):
            self.limit_refused += 1
            return error(
                131048,
                "Spam rate limit hit: Message failed to send because there are restrictions on "
                "how many messages can be sent from this phone number.",
            )
        return None

    def initiated_users(self) -> dict[str, datetime]:
        """The users messaged outside their window within the last 24 hours."""
        since = self.now() - WINDOW
        self.initiated = {w: at for w, at in self.initiated.items() if at > since}
        return self.initiated

    def over_limit(self, wa_id: str) -> bool:
        """Whether one more user outside their window would pass the portfolio's limit (a
        user already counted in the 24 hours costs nothing more)."""
        tier = tier_of(self.config["messaging_limit_tier"])
        limit = limit_of(tier) if tier else None
        users = self.initiated_users()
        return limit is not None and wa_id not in users and len(users) >= limit

    def quality_flag(self, event: str) -> dict[str, Any]:
        """Meta's phone_number_quality_update for a quality flag (`FLAGGED`: the number's
        quality is low and its limit will be lowered unless it improves; `UNFLAGGED`: it
        recovered): the tier stays, and `old_limit` is only in a messaging limit change."""
        tier = self.config["messaging_limit_tier"]
        return self._account_change(
            "phone_number_quality_update",
            {
                "display_phone_number": get_settings().whatsapp_business_phone.lstrip("+"),
                "event": event,
                "current_limit": tier,
                "max_daily_conversations_per_business": tier,
            },
        )

    def limit_change(self, tier: str) -> dict[str, Any]:
        """Set the portfolio's tier; Meta's phone_number_quality_update webhook body for it."""
        old = self.config["messaging_limit_tier"]
        self.config["messaging_limit_tier"] = tier
        old_limit, new_limit = (limit_of(tier_of(t) or "TIER_UNLIMITED") for t in (old, tier))
        upgrade = new_limit is None or (old_limit is not None and new_limit > old_limit)
        return self._account_change(
            "phone_number_quality_update",
            {
                "display_phone_number": get_settings().whatsapp_business_phone.lstrip("+"),
                "event": "UPGRADE" if upgrade else "DOWNGRADE",
                "old_limit": old,
                "current_limit": tier,
                "max_daily_conversations_per_business": tier,
            },
        )

    def template_of(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The account's template a template message names (by name and language code)."""
        template = body.get("template") or {}
        code = (template.get("language") or {}).get("code")
        return self.templates.get((str(template.get("name")), str(code)))

    def listed_template(self, found: dict[str, Any]) -> dict[str, Any]:
        """One template as Meta's message_templates lists it."""
        components: list[dict[str, Any]] = [{"type": "BODY", "text": found["body"]}]
        if found["quick_replies"]:
            components.append(
                {
                    "type": "BUTTONS",
                    "buttons": [{"type": "QUICK_REPLY", "text": t} for t in found["quick_replies"]],
                }
            )
        return {
            "name": found["name"],
            "language": found["language"],
            "status": found["status"],
            "category": found["category"],
            "quality_score": {"score": found["quality"]},
            "components": components,
            "id": found["id"],
        }

    def change_template(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """Add or change a template (`name`, `language`; `status`, `quality`, `category`,
        `body`, `quick_replies`, `reason`, `impending`); returns Meta's webhook bodies for what
        changed (a new template: its status)."""
        key = (str(data["name"]), str(data.get("language") or "en"))
        found = self.templates.get(key)
        new = found is None
        if found is None:
            sibling = next((t for (n, _), t in self.templates.items() if n == key[0]), None)
            found = {
                "id": str(1_000_000_000_000 + len(self.templates) + next(self._ids)),
                "name": key[0],
                "language": key[1],
                "status": "PENDING",
                "category": (sibling or {}).get("category", "UTILITY"),
                "quality": "UNKNOWN",
                "body": (sibling or {}).get("body", ""),
                "params": (sibling or {}).get("params", 0),
                "quick_replies": list((sibling or {}).get("quick_replies", [])),
            }
            self.templates[key] = found
        if "body" in data:
            found["body"] = str(data["body"])
            found["params"] = len(set(re.findall(r"\{\{(\d+)\}\}", found["body"])))
        if "quick_replies" in data:
            found["quick_replies"] = list(data["quick_replies"])
        webhooks = []
        ts = int(self.now().timestamp())
        base = {
            "message_template_id": int(found["id"]),
            "message_template_name": found["name"],
            "message_template_language": found["language"],
        }
        category = str(data.get("category") or found["category"]).upper()
        if category != found["category"]:
            if data.get("impending"):
                value = {
                    **base,
                    "correct_category": category,
                    "new_category": found["category"],
                    "category_update_timestamp": ts + 24 * 3600,
                }
            else:
                value = {**base, "previous_category": found["category"], "new_category": category}
                found["category"] = category
            webhooks.append(self._account_change("template_category_update", value))
        quality = str(data.get("quality") or found["quality"]).upper()
        if quality != found["quality"]:
            value = {
                "previous_quality_score": found["quality"],
                "new_quality_score": quality,
                **base,
            }
            found["quality"] = quality
            webhooks.append(self._account_change("message_template_quality_update", value))
        status = str(data.get("status") or found["status"]).upper()
        if status != found["status"] or (new and data.get("status")):
            found["status"] = status
            value = {
                "event": status,
                **base,
                "reason": str(data.get("reason") or "NONE"),
                "message_template_category": found["category"],
            }
            if status == "DISABLED":
                value["disable_info"] = {"disable_date": ts}
            webhooks.append(self._account_change("message_template_status_update", value))
        return webhooks

    def _account_change(self, field: str, value: dict[str, Any]) -> dict[str, Any]:
        """A webhook about the business account (no phone number's metadata), as Meta sends
        template updates."""
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": self.waba_id,
                    "time": int(self.now().timestamp()),
                    "changes": [{"field": field, "value": value}],
                }
            ],
        }

    def window_open(self, wa_id: str) -> bool:
        last = self.last_inbound.get(wa_id)
        return last is not None and self.now() - last < WINDOW

    def accept(self, body: dict[str, Any]) -> str:
        wamid = self.wamid()
        now = time.monotonic()
        self.sent_times.append(now)
        self.busiest_second = max(self.busiest_second, len(self.sent_times))
        self.recipient_times[body["to"]].append(now)
        kind = body.get("type", "text")
        late_failure = kind != "template" and not self.window_open(body["to"])
        if kind == "template" and not self.window_open(body["to"]):
            self.initiated[body["to"]] = self.now()
        params = [
            p.get("text")
            for c in (body.get("template") or {}).get("components") or []
            if c.get("type") == "body"
            for p in c.get("parameters") or []
        ]
        found = self.template_of(body) if kind == "template" else None
        choices = message_choices(body, found)
        self.messages.append(
            {
                "id": wamid,
                "to": body["to"],
                "type": kind,
                "text": (body.get("text") or {}).get("body")
                or ((body.get("interactive") or {}).get("body") or {}).get("text"),
                "buttons": [c["title"] for c in choices],
                "choices": choices,
                "interactive": (body.get("interactive") or {}).get("type"),
                "template": (body.get("template") or {}).get("name"),
                "template_language": ((body.get("template") or {}).get("language") or {}).get(
                    "code"
                ),
                "template_params": params,
                # A Flow's parameters (its token answers it: `inbound` type `flow_reply`).
                "flow": ((body.get("interactive") or {}).get("action") or {}).get("parameters")
                if (body.get("interactive") or {}).get("type") == "flow"
                else None,
                # What the phone shows: the approved body with the parameters filled in.
                "rendered": re.sub(
                    r"\{\{(\d+)\}\}", lambda m: str(params[int(m.group(1)) - 1]), found["body"]
                )
                if found
                else None,
                "at": self.now().isoformat(),
                "window_open": not late_failure,
            }
        )
        return wamid

    def statuses_for(self, wamid: str, wa_id: str, late_failure: bool) -> list[dict[str, Any]]:
        """The status webhooks of an accepted message, each with Meta's per-message `pricing`
        (PMP): free-form messages are free service messages; a utility template inside the
        customer service window is free (`free_customer_service`); marketing, authentication
        and utility outside the window are billed (`regular`). A marketing template to a number
        in `config["marketing_refusals"]` (wa_id → 131050 the user stopped marketing, or 131049
        Meta's per-user marketing limit) fails as Meta reports it: a `failed` status."""
        ts = str(int(self.now().timestamp()))
        if late_failure:
            return [
                {
                    "id": wamid,
                    "status": "failed",
                    "timestamp": ts,
                    "recipient_id": wa_id,
                    "errors": [{"code": 131047, "title": "Re-engagement message"}],
                }
            ]
        sent: dict[str, Any] = next((m for m in reversed(self.messages) if m["id"] == wamid), {})
        category = "service"
        if sent.get("type") == "template":
            # Meta bills the category it holds for the template (after any reclassification).
            held = self.templates.get(
                (str(sent.get("template")), str(sent.get("template_language")))
            )
            category = str(
                (self.config.get("template_categories") or {}).get(sent.get("template"))
                or (held or {}).get("category")
                or "utility"
            ).lower()
        refusal = (self.config.get("marketing_refusals") or {}).get(wa_id)
        if category == "marketing" and refusal:
            title = {
                131050: "Unable to deliver message: the user stopped marketing messages",
                131049: "This message was not delivered to maintain healthy ecosystem engagement",
            }
            return [
                {
                    "id": wamid,
                    "status": "failed",
                    "timestamp": ts,
                    "recipient_id": wa_id,
                    "errors": [
                        {
                            "code": int(refusal),
                            "title": title.get(
                                int(refusal), "Message failed to send because of an unknown error"
                            ),
                        }
                    ],
                }
            ]
        free = category == "service" or (category == "utility" and self.window_open(wa_id))
        pricing = {
            "billable": not free,
            "pricing_model": "PMP",
            "category": category,
            "type": "free_customer_service" if free else "regular",
        }
        items = [
            {"id": wamid, "status": s, "timestamp": ts, "recipient_id": wa_id, "pricing": pricing}
            for s in self.config["statuses"]
        ]
        if self.config["shuffle_statuses"]:
            random.shuffle(items)
        if self.config["duplicate_statuses"]:
            items = items + items
        return items

    # -- inbound (user → business) ---------------------------------------------------------------
    def inbound_payload(self, message: dict[str, Any], name: str | None) -> dict[str, Any]:
        wa_id = message.get("from") or self.wa_id_of_user(message["from_user_id"]) or ""
        contact = self.contact_of(wa_id, name)
        return self._envelope({"contacts": [contact], "messages": [message]})

    def status_payload(self, statuses: list[dict[str, Any]]) -> dict[str, Any]:
        return self._envelope({"statuses": statuses})

    def _envelope(self, value: dict[str, Any], field: str = "messages") -> dict[str, Any]:
        """A webhook body as Meta sends it: one entry, one change (of field `messages`)."""
        metadata = {
            "display_phone_number": "9779800000000",
            "phone_number_id": self.phone_number_id,
        }
        change = {
            "field": field,
            "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA_FAKE", "changes": [change]}],
        }

    async def post_webhook(self, client: httpx.AsyncClient, payload: dict[str, Any]) -> int:
        """Deliver a webhook. Several webhook URLs (separated by commas) are several backend
        processes behind a load balancer: each delivery goes to the next one, and to the one
        after while a process does not answer (as a balancer's health check would)."""
        raw = json.dumps(payload).encode()
        urls = [url for url in self.webhook_url.split(",") if url]
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(raw, self.app_secret),
        }
        start = next(self._turns)
        for attempt in range(len(urls)):
            url = urls[(start + attempt) % len(urls)]
            try:
                answer = await client.post(url, content=raw, headers=headers)
            except httpx.TransportError:
                if attempt == len(urls) - 1:
                    raise
                continue
            if answer.status_code < 500 or attempt == len(urls) - 1:
                self.webhooks_sent += 1
                return answer.status_code
        raise AssertionError("unreachable")


def check_interactive(
    interactive: dict[str, Any], published_flows: list[str] | tuple[str, ...] = ()
) -> str | None:
    """What Meta would refuse in an interactive message (reply buttons, a list or a Flow), or
    None."""
    body = ((interactive.get("body") or {}).get("text")) or ""
    if not body or len(body) > BUTTON_BODY_LIMIT:
        return f"body text must be 1 to {BUTTON_BODY_LIMIT} characters"
    action = interactive.get("action") or {}
    if interactive.get("type") == "flow":
        return check_flow(action, published_flows)
    if interactive.get("type") == "button":
        buttons = action.get("buttons") or []
        if not 1 <= len(buttons) <= BUTTON_LIMIT:
            return f"1 to {BUTTON_LIMIT} buttons"
        ids = set()
        for button in buttons:
            reply = (button or {}).get("reply") or {}
            title, reply_id = reply.get("title") or "", reply.get("id") or ""
            if not title or len(title) > BUTTON_TITLE_LIMIT:
                return f"Button title length invalid: {title!r}"
            if not reply_id or len(reply_id) > 256 or reply_id in ids:
                return f"Button id invalid or repeated: {reply_id[:40]!r}"
            ids.add(reply_id)
        return None
    if interactive.get("type") == "list":
        label = action.get("button") or ""
        if not label or len(label) > LIST_BUTTON_LIMIT:
            return f"List button label length invalid: {label!r}"
        rows = [r for section in action.get("sections") or [] for r in section.get("rows") or []]
        if not 1 <= len(rows) <= LIST_ROW_LIMIT:
            return f"1 to {LIST_ROW_LIMIT} rows in all"
        ids = set()
        for row in rows:
            title, row_id = row.get("title") or "", row.get("id") or ""
            if not title or len(title) > LIST_ROW_TITLE_LIMIT:
                return f"Row title length invalid: {title!r}"
            if len(row.get("description") or "") > LIST_ROW_DESCRIPTION_LIMIT:
                return "Row description too long"
            if not row_id or len(row_id) > LIST_ROW_ID_LIMIT or row_id in ids:
                return f"Row id invalid or repeated: {row_id[:40]!r}"
            ids.add(row_id)
        return None
    return f"Unsupported interactive type {interactive.get('type')!r}"


def check_flow(action: dict[str, Any], published_flows: list[str] | tuple[str, ...]) -> str | None:
    """What Meta refuses in a `flow` message's action (Flows: "Sending a Flow")."""
    parameters = action.get("parameters") or {}
    if action.get("name") != "flow":
        return "action.name must be 'flow'"
    if parameters.get("flow_message_version") != FLOW_MESSAGE_VERSION:
        return f"flow_message_version must be {FLOW_MESSAGE_VERSION!r}"
    if not parameters.get("flow_token"):
        return "flow_token is required"
    flow_id, flow_name = parameters.get("flow_id"), parameters.get("flow_name")
    if bool(flow_id) == bool(flow_name):
        return "exactly one of flow_id and flow_name"
    if (flow_id or flow_name) not in published_flows and parameters.get("mode") != "draft":
        return f"Flow {flow_id or flow_name!r} is not published on this account"
    cta = parameters.get("flow_cta") or ""
    if not cta or len(cta) > FLOW_CTA_LIMIT or has_emoji(cta):
        return f"flow_cta must be 1 to {FLOW_CTA_LIMIT} characters without emoji: {cta!r}"
    flow_action = parameters.get("flow_action", "navigate")
    payload = parameters.get("flow_action_payload")
    if flow_action == "navigate":
        if not isinstance(payload, dict) or not payload.get("screen"):
            return "flow_action_payload.screen is required with navigate"
        if "data" in payload and not (isinstance(payload["data"], dict) and payload["data"]):
            return "flow_action_payload.data must be a non-empty object"
    elif flow_action == "data_exchange":
        if payload is not None:
            return "flow_action_payload must be left out with data_exchange"
    else:
        return f"flow_action must be navigate or data_exchange, not {flow_action!r}"
    return None


def message_choices(
    body: dict[str, Any], template_found: dict[str, Any] | None = None
) -> list[dict[str, str]]:
    """The choices a message shows ({"id", "title"}): buttons, list rows, quick replies (of
    `template_found`, the account's template; else the seed's of that name)."""
    interactive = body.get("interactive") or {}
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        return [
            {"id": b["reply"]["id"], "title": b["reply"]["title"]}
            for b in action.get("buttons") or []
        ]
    if interactive.get("type") == "list":
        return [
            {"id": r["id"], "title": r["title"]}
            for section in action.get("sections") or []
            for r in section.get("rows") or []
        ]
    template = body.get("template") or {}
    spec = approved(template.get("name") or "") if template else None
    if spec is None:
        return []
    titles = list(template_found["quick_replies"]) if template_found else list(spec.quick_replies)
    given = {
        int(c["index"]): c["parameters"][0]["payload"]
        for c in template.get("components") or []
        if c.get("type") == "button"
    }
    return [{"id": given.get(i, title), "title": title} for i, title in enumerate(titles)]


def error(code: int, message: str, status: int = 400) -> tuple[int, dict[str, Any]]:
    return status, {
        "error": {
            "message": f"({code}) {message}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": message},
            "fbtrace_id": "FAKE",
        }
    }


def create_fake_app(fake: FakeMeta) -> Sanic:
    app = Sanic(f"fake_graph_{id(fake)}")
    app.ctx.fake = fake
    # The long polls of /_fake/wait: each accepted message wakes them to look again.
    waiting: set[asyncio.Event] = set()

    @app.before_server_start
    async def open_client(app: Sanic) -> None:
        app.ctx.http = httpx.AsyncClient(timeout=10)

    @app.after_server_stop
    async def close_client(app: Sanic) -> None:
        await app.ctx.http.aclose()

    async def deliver_statuses(
        wamid: str, wa_id: str, late_failure: bool, by_user_id: bool = False
    ) -> None:
        for status in fake.statuses_for(wamid, wa_id, late_failure):
            fake.status_user(status, wa_id, by_user_id)
            await asyncio.sleep(fake.config["status_delay"])
            # Meta would retry a failed delivery; the fake does not need to.
            with contextlib.suppress(httpx.HTTPError):
                await fake.post_webhook(app.ctx.http, fake.status_payload([status]))

    @app.post("/<version:str>/<phone_number_id:str>/messages")
    async def messages(request: Request, version: str, phone_number_id: str):
        if request.headers.get("authorization") != f"Bearer {fake.access_token}":
            status, body = error(190, "Invalid OAuth access token", status=401)
            return response.json(body, status=status)
        if phone_number_id != fake.phone_number_id:
            status, body = error(
                100, f"Unsupported post request. Object with ID '{phone_number_id}' does not exist"
            )
            return response.json(body, status=status)
        if fake.config["latency"]:
            await asyncio.sleep(fake.config["latency"])
        body, sent_to_user_id = fake.addressed(request.json or {})
        refused = fake.check(body)
        if refused is not None:
            return response.json(refused[1], status=refused[0])
        late_failure = body.get("type", "text") != "template" and not fake.window_open(body["to"])
        wamid = fake.accept(body)
        if sent_to_user_id:
            fake.messages[-1]["recipient"] = sent_to_user_id
        for event in waiting:
            event.set()
        asyncio.get_running_loop().create_task(
            deliver_statuses(wamid, body["to"], late_failure, bool(sent_to_user_id))
        )
        # Meta answers with what was used: `wa_id` for a phone, `user_id` for a BSUID.
        answered = {"user_id": sent_to_user_id} if sent_to_user_id else {"wa_id": body["to"]}
        return response.json(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": sent_to_user_id or body["to"], **answered}],
                "messages": [{"id": wamid}],
            }
        )

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {fake.access_token}"

    @app.get("/<version:str>/<media_id:str>")
    async def media_url(request: Request, version: str, media_id: str):
        """Step 1 of a media download: a short-lived URL for the bytes, with their checksum."""
        if not authorised(request):
            status, body = error(190, "Invalid OAuth access token", status=401)
            return response.json(body, status=status)
        if media_id == fake.phone_number_id:  # the business phone number's fields
            tier = fake.config["messaging_limit_tier"]
            return response.json(
                {
                    "whatsapp_business_manager_messaging_limit": tier,
                    "messaging_limit_tier": tier,  # deprecated by Meta, still answered
                    "id": media_id,
                }
            )
        if media_id not in fake.media:
            status, body = error(100, f"Object with ID '{media_id}' does not exist")
            return response.json(body, status=status)
        content, mime = fake.media[media_id]
        expires = int(fake.now().timestamp()) + int(fake.config["media_url_seconds"])
        return response.json(
            {
                "messaging_product": "whatsapp",
                "url": f"{request.scheme}://{request.host}/_fake/media/{media_id}?expires={expires}",
                "mime_type": mime,
                "sha256": hashlib.sha256(content).hexdigest(),
                "file_size": len(content),
                "id": media_id,
            }
        )

    @app.get("/<version:str>/<waba_id:str>/message_templates")
    async def message_templates(request: Request, version: str, waba_id: str):
        """Meta's "Get templates": `data` and `paging` (cursors; `next` while more remain)."""
        if not authorised(request):
            status, body = error(190, "Invalid OAuth access token", status=401)
            return response.json(body, status=status)
        if waba_id != fake.waba_id:
            status, body = error(100, f"Object with ID '{waba_id}' does not exist")
            return response.json(body, status=status)
        every = [fake.listed_template(t) for t in fake.templates.values()]
        limit = max(1, min(int(request.args.get("limit", 25)), 100))
        start = int(base64.b64decode(request.args.get("after", "") or "MA==").decode() or 0)
        page = every[start : start + limit]
        cursor = base64.b64encode(str(start + len(page)).encode()).decode()
        paging: dict[str, Any] = {
            "cursors": {"before": base64.b64encode(str(start).encode()).decode(), "after": cursor}
        }
        if start + len(page) < len(every):
            query = {k: request.args.get(k) for k in request.args if k != "after"}
            query["after"] = cursor
            paging["next"] = f"{request.scheme}://{request.host}{request.path}?" + str(
                httpx.QueryParams(query)
            )
        return response.json({"data": page, "paging": paging})

    @app.post("/_fake/templates")
    async def change_template(request: Request):
        """Add or change one template (a test's control); posts Meta's template webhooks
        (unless `notify` is false) and answers the template as listed and their statuses."""
        data = request.json or {}
        webhooks = fake.change_template(data)
        delivered = []
        if data.get("notify", True):
            for payload in webhooks:
                delivered.append(await fake.post_webhook(app.ctx.http, payload))
        key = (str(data["name"]), str(data.get("language") or "en"))
        return response.json(
            {"template": fake.listed_template(fake.templates[key]), "webhooks": delivered}
        )

    @app.get("/_fake/media/<media_id:str>")
    async def media_bytes(request: Request, media_id: str):
        """Step 2: the bytes, with the access token, while the URL has not expired."""
        if not authorised(request):
            return response.text("Unauthorized", status=401)
        expires = request.args.get("expires", "0")
        if media_id not in fake.media or not expires.isdigit():
            return response.text("Not found", status=404)
        if fake.now().timestamp() > int(expires):
            return response.text("URL expired", status=404)
        if fake.config["media_fail_next"]:
            fake.config["media_fail_next"] -= 1
            return response.json({"error": {"code": 131000, "message": "Injected"}}, status=500)
        fake.media_downloads += 1
        content, mime = fake.media[media_id]
        return response.raw(content, content_type=mime)

    @app.post("/_fake/media")
    async def upload_media(request: Request):
        """A phone's upload: base64 content and its type; answers the media id to send."""
        data = request.json or {}
        media_id = f"media.{next(fake._ids)}"
        fake.media[media_id] = (
            base64.b64decode(data.get("content_base64") or ""),
            str(data.get("mime_type") or "application/octet-stream"),
        )
        return response.json({"id": media_id})

    def phone_message(data: dict[str, Any]) -> dict[str, Any]:
        """A message as a phone sends it (`from`, `text` or a tap, `id` to send one again)."""
        wa_id = str(data["from"]).lstrip("+")
        if data.get("username"):  # writes from a username and shares no phone
            fake.usernames[wa_id] = str(data["username"])
        message: dict[str, Any] = {
            **({} if wa_id in fake.usernames else {"from": wa_id}),
            "from_user_id": fake.user_id_of(wa_id),
            "id": data.get("id") or fake.wamid(),
            "timestamp": str(int(fake.now().timestamp())),
            "type": data.get("type", "text"),
        }
        if message["type"] == "text":
            message["text"] = {"body": data.get("text", "")}
        elif message["type"] == "interactive":
            # A tap: a reply button's or a list row's id and title, as the phone sends them.
            kind = "list_reply" if data.get("reply_type") == "list_reply" else "button_reply"
            message["interactive"] = {
                "type": kind,
                kind: {"id": data.get("payload") or data.get("text"), "title": data.get("text")},
            }
        elif message["type"] == "flow_reply":
            # A Flow completed on the phone: Meta's `nfm_reply`, the answers as a JSON string
            # with the flow_token the message carried, in reply (`context`) to that message.
            message["type"] = "interactive"
            answers = {"flow_token": data.get("flow_token"), **(data.get("response") or {})}
            message["interactive"] = {
                "type": "nfm_reply",
                "nfm_reply": {
                    "name": "flow",
                    "body": "Sent",
                    "response_json": json.dumps(answers),
                },
            }
            if data.get("context_id"):
                message["context"] = {"from": fake.phone_number_id, "id": data["context_id"]}
        elif message["type"] == "button":
            # A template's quick reply: its payload and the button's text.
            message["button"] = {
                "payload": data.get("payload") or data.get("text"),
                "text": data.get("text"),
            }
        else:
            message[message["type"]] = data.get("content") or {}
        fake.last_inbound[wa_id] = fake.now()
        return message

    @app.post("/_fake/inbound")
    async def inbound(request: Request):
        data = request.json or {}
        message = phone_message(data)
        status = await fake.post_webhook(
            app.ctx.http, fake.inbound_payload(message, data.get("name"))
        )
        return response.json(
            {"wamid": message["id"], "user_id": message["from_user_id"], "webhook_status": status}
        )

    @app.post("/_fake/inbound/batch")
    async def inbound_batch(request: Request):
        """Several phones' messages in one webhook, as Meta batches them under load."""
        phones = (request.json or {}).get("messages") or []
        messages = [phone_message(data) for data in phones]
        contacts = [
            fake.contact_of(str(data["from"]).lstrip("+"), data.get("name")) for data in phones
        ]
        status = await fake.post_webhook(
            app.ctx.http, fake._envelope({"contacts": contacts, "messages": messages})
        )
        return response.json({"wamids": [m["id"] for m in messages], "webhook_status": status})

    @app.get("/_fake/messages")
    async def list_messages(request: Request):
        to = (request.args.get("to") or "").lstrip("+")
        since = int(request.args.get("since", 0))
        found = [m for m in fake.messages[since:] if not to or to in (m["to"], m.get("recipient"))]
        return response.json({"messages": found, "total": len(fake.messages)})

    @app.post("/_fake/change_number")
    async def change_number(request: Request):
        """The user `from` changes their phone number (to `new_phone`, if given): Meta gives
        them a new BSUID and posts the `system` message (`user_changed_number`, or
        `user_changed_user_id` for a user who shares no phone); answers the new `user_id`
        and the message (`wamid`; `"again": true` posts the same body twice, as a redelivery)."""
        data = request.json or {}
        wa_id = str(data["from"]).lstrip("+")
        new_wa_id = str(data["new_phone"]).lstrip("+") if data.get("new_phone") else None
        payload = fake.change_number(wa_id, new_wa_id, data.get("name"))
        status = await fake.post_webhook(app.ctx.http, payload)
        if data.get("again"):
            status = await fake.post_webhook(app.ctx.http, payload)
        message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        return response.json(
            {
                "user_id": fake.user_id_of(new_wa_id or wa_id),
                "wamid": message["id"],
                "type": message["system"]["type"],
                "webhook_status": status,
            }
        )

    @app.get("/_fake/stats")
    async def stats(request: Request):
        return response.json(
            {
                "messages": len(fake.messages),
                "rate_per_second": fake.config["rate_per_second"],
                "busiest_second": fake.busiest_second,
                "refused_rate": fake.refused[130429],
                "refused_recipient": fake.refused[131056],
                "refused_window_spans": fake.refused_spans[-20:],
            }
        )

    @app.get("/_fake/wait")
    async def wait_messages(request: Request):
        """Read-only long poll: the messages to `to` after index `since` as soon as there are
        `count` of them (or what there is after `timeout` seconds). A benchmark's customers wait
        for their reply here instead of polling /_fake/messages, which would cost the machine
        more than the product being measured."""
        to = (request.args.get("to") or "").lstrip("+")
        since = int(request.args.get("since", 0))
        count = int(request.args.get("count", 1))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(request.args.get("timeout", 30))
        event = asyncio.Event()
        waiting.add(event)
        try:
            while True:
                found = [m for m in fake.messages[since:] if to in (m["to"], m.get("recipient"))]
                remaining = deadline - loop.time()
                if len(found) >= count or remaining <= 0:
                    return response.json({"messages": found, "total": len(fake.messages)})
                event.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            waiting.discard(event)

    @app.post("/_fake/config")
    async def configure(request: Request):
        data = request.json or {}
        fake.fail_next.extend(int(c) for c in data.pop("fail_next", []))
        fake.config.update(data)
        return response.json({"config": fake.config, "fail_next": fake.fail_next})

    @app.post("/_fake/messaging_limit")
    async def messaging_limit(request: Request):
        """Change the portfolio's tier (`tier`: TIER_250, TIER_2K, ...) and post Meta's
        phone_number_quality_update webhook (unless `notify` is false), or, with `event`
        FLAGGED or UNFLAGGED (and no tier), post that quality flag with the tier unchanged;
        answers what the limit counts now."""
        data = request.json or {}
        event = str(data.get("event") or "").upper()
        if event and event not in QUALITY_FLAGS:
            return response.json(
                {"error": f"event must be one of {', '.join(QUALITY_FLAGS)}"}, status=400
            )
        if event and data.get("tier"):
            return response.json({"error": "a tier or a quality flag, not both"}, status=400)
        payload = fake.quality_flag(event) if event else fake.limit_change(str(data["tier"]))
        delivered = (
            await fake.post_webhook(app.ctx.http, payload) if data.get("notify", True) else None
        )
        return response.json(
            {
                "tier": fake.config["messaging_limit_tier"],
                "initiated": len(fake.initiated_users()),
                "refused": fake.limit_refused,
                "webhook": delivered,
            }
        )

    @app.get("/_fake/messaging_limit")
    async def messaging_limit_state(request: Request):
        return response.json(
            {
                "tier": fake.config["messaging_limit_tier"],
                "initiated": len(fake.initiated_users()),
                "refused": fake.limit_refused,
            }
        )

    @app.post("/_fake/clock")
    async def clock(request: Request):
        fake.offset += timedelta(hours=float((request.json or {}).get("advance_hours", 0)))
        return response.json({"now": fake.now().isoformat()})

    @app.post("/_fake/reset")
    async def reset(request: Request):
        fake.reset()
        return response.json({"ok": True})

    @app.get("/_fake/health")
    async def health(request: Request):
        return response.json({"ok": True, "messages": len(fake.messages)})

    return app


def main() -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(
        description="A fake WhatsApp Cloud API (Graph API) for tests and the demo"
    )
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument(
        "--webhook-url", default=f"http://127.0.0.1:{settings.backend_port}/webhooks/whatsapp"
    )
    args = parser.parse_args()
    fake = FakeMeta(
        waba_id=settings.whatsapp_business_account_id,
        webhook_url=args.webhook_url,
        app_secret=settings.whatsapp_app_secret,
        access_token=settings.whatsapp_access_token,
        phone_number_id=settings.whatsapp_phone_number_id,
    )
    create_fake_app(fake).run(
        host="127.0.0.1", port=args.port, single_process=True, access_log=False, motd=False
    )


if __name__ == "__main__":
    main()
