"""Rasa's calls to the action server, without two costs Rasa 3.6 pays on every call.

Measured with bench/dialogue_bench.py (py-spy on a Rasa process under load), every custom
action Rasa runs

- validates the action server's answer with `jsonschema.validate`, which checks the schema
  itself and builds a new validator each time (the events schema is large): the biggest single
  cost of a turn after the policies;
- opens a new HTTP connection (`EndpointConfig.request` makes an aiohttp session per call and
  closes it): a TCP handshake and a fresh Sanic connection on the action server per action.

`install()` swaps both for the same work done once: one validator for the response schema
(same checks, same error message) and one pooled aiohttp session per endpoint and event loop,
whose idle connections are dropped before the action server's keep-alive timeout closes them
(Sanic's is 5 s), so a reused connection is never one the server has already closed. Called
by addons/secure_channel.py, which every `rasa run` of the product loads.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import aiohttp
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

# Below the action server's keep-alive timeout (Sanic's default, 5 s).
IDLE_SECONDS = 2.0
# Connections per endpoint: more than Rasa ever has calls in flight to one action server.
POOL_SIZE = 32

_validator: Any = None
# One session per event loop and endpoint: a session belongs to the loop that made it.
_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], Any]] = (
    weakref.WeakKeyDictionary()
)


def response_validator() -> Any:
    """The action response schema's validator, checked and built once."""
    global _validator
    if _validator is None:
        schema = RemoteAction.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema)
    return _validator


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with the validator built once."""
    try:
        response_validator().validate(result)
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise e
    return True


class _Borrowed:
    """`async with` over a pooled session that leaves it open (Rasa's code closes the session
    it gets from `EndpointConfig.session()` at the end of every request)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *_: object) -> None:
        return None


def pooled_session(self: EndpointConfig) -> Any:
    """EndpointConfig.session: the endpoint's pooled session on this event loop."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no loop (called outside one): Rasa's own, closed after use
        return _stock_session(self)
    key = (
        tuple(sorted((self.headers or {}).items())),
        tuple(sorted((self.basic_auth or {}).items())),
    )
    sessions = _sessions.setdefault(loop, {})
    session = sessions.get(key)
    if session is None or session.closed:
        auth = None
        if self.basic_auth:
            auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
        session = aiohttp.ClientSession(
            headers=self.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(limit=POOL_SIZE, keepalive_timeout=IDLE_SECONDS),
        )
        sessions[key] = session
    return _Borrowed(session)


async def close_sessions() -> None:
    """Close this event loop's pooled sessions (at server stop)."""
    sessions = _sessions.pop(asyncio.get_running_loop(), {})
    for session in sessions.values():
        await session.close()


_stock_session = EndpointConfig.session
_stock_validate = RemoteAction._validate_action_result


def install() -> None:
    """Use the validator built once and the pooled sessions (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    EndpointConfig.session = pooled_session  # type: ignore[method-assign]


def uninstall() -> None:
    """Rasa's own behaviour again (for comparisons)."""
    RemoteAction._validate_action_result = _stock_validate  # type: ignore[method-assign]
    EndpointConfig.session = _stock_session  # type: ignore[method-assign]
