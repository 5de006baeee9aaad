"""Graph API errors as named exceptions, so the sender decides by type (pywa `errors.py`)."""

from __future__ import annotations

from typing import Any


class GraphError(Exception):
    """An error answer from the Graph API. `retryable` says whether trying later can help."""

    code: int = 0
    retryable = False

    def __init__(
        self, message: str, *, code: int | None = None, details: str | None = None
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.details = details


class TransportError(GraphError):
    """The request did not get an answer (connection refused, timeout)."""

    retryable = True


class ServerError(GraphError):
    """Meta answered 5xx."""

    retryable = True


class RateLimitHit(GraphError):
    """130429: the business number's throughput was exceeded."""

    code = 130429
    retryable = True


class PairRateLimitHit(GraphError):
    """131056: too many messages to one recipient in a short time."""

    code = 131056
    retryable = True


class ReEngagementMessage(GraphError):
    """131047: more than 24 h since the customer last wrote; only a template may be sent."""

    code = 131047


class MarketingStopped(GraphError):
    """131050: the user stopped marketing messages from this business (in WhatsApp). Not
    retried: marketing to them is suppressed until they opt in again; utility messages go."""

    code = 131050


class MarketingLimitHit(GraphError):
    """131049: Meta's per-user marketing limit ("healthy ecosystem engagement"): the user got
    too many marketing messages lately, from any business. Not retried now (the same answer
    comes back): marketing to them pauses for a while; utility messages go."""

    code = 131049


# The refusals that are about marketing to one user, not about the message or the network.
MARKETING_REFUSALS: tuple[type[GraphError], ...] = (MarketingStopped, MarketingLimitHit)


class MessagingLimitHit(GraphError):
    """131048: Meta refused the message for the number's limits ("restrictions on how many
    messages can be sent from this phone number"), as when a business-initiated message
    would go past the portfolio's messaging limit. Retried later: the limit is a moving 24
    hours. The sender's own rule (backend/services/messaging_limits.py) keeps us under it."""

    code = 131048
    retryable = True


class RecipientNotOnWhatsApp(GraphError):
    """131026: the message could not be delivered to this number."""

    code = 131026


class TemplateParamsMismatch(GraphError):
    """132000: the template's parameters do not match its definition."""

    code = 132000


class TemplateRefused(GraphError):
    """132001 / 132015 / 132016: Meta will not send this template now (it does not exist in
    that language or is not approved, is paused, is disabled). `status` is what it says."""

    status = "MISSING"


class TemplateMissing(TemplateRefused):
    code = 132001


class TemplatePaused(TemplateRefused):
    code = 132015
    status = "PAUSED"


class TemplateDisabled(TemplateRefused):
    code = 132016
    status = "DISABLED"


class InvalidParameter(GraphError):
    """100 / 131009: the request broke a limit (text too long, too many buttons, ...)."""

    code = 100


_BY_CODE: dict[int, type[GraphError]] = {
    130429: RateLimitHit,
    131056: PairRateLimitHit,
    131047: ReEngagementMessage,
    131050: MarketingStopped,
    131049: MarketingLimitHit,
    131026: RecipientNotOnWhatsApp,
    131048: MessagingLimitHit,
    132000: TemplateParamsMismatch,
    132001: TemplateMissing,
    132015: TemplatePaused,
    132016: TemplateDisabled,
    100: InvalidParameter,
    131009: InvalidParameter,
}


def from_response(status: int, body: Any) -> GraphError:
    """The exception for an error answer `{"error": {"code": ..., "message": ...}}`."""
    error = body.get("error", {}) if isinstance(body, dict) else {}
    code = int(error.get("code") or 0)
    message = str(error.get("message") or f"HTTP {status}")
    details = (error.get("error_data") or {}).get("details")
    if code in _BY_CODE:
        return _BY_CODE[code](message, code=code, details=details)
    if status >= 500:
        return ServerError(message, code=code or status, details=details)
    return GraphError(message, code=code or status, details=details)
