"""deploy/Caddyfile refuses the same request bodies as the backend (backend/web/limits.py):
for a path under every route of BODY_LIMITS, and one under none, the smallest `request_body`
limit whose matcher takes the path is the backend's limit."""

from __future__ import annotations

import fnmatch
import re

import pytest

from backend.web.limits import BODY_LIMITS, body_limit_for
from tests.deploy.test_compose import CADDYFILE

UNITS = {"B": 1, "KB": 1000, "KiB": 1024, "MB": 1000**2, "MiB": 1024**2}


def caddy_body_limits() -> list[tuple[bool, list[str], int]]:
    """(negated, path patterns, max bytes) for each `request_body @matcher { max_size N }`."""
    text = CADDYFILE.read_text()
    matchers = {
        name: (bool(negated), patterns.split())
        for name, negated, patterns in re.findall(
            r"^\s*@(\w+)\s+(not\s+)?path\s+([^\n]+)$", text, re.MULTILINE
        )
    }
    limits = []
    for name, size, unit in re.findall(
        r"request_body\s+@(\w+)\s*\{\s*max_size\s+(\d+)([A-Za-z]+)\s*\}", text
    ):
        negated, patterns = matchers[name]
        limits.append((negated, patterns, int(size) * UNITS[unit]))
    return limits


def caddy_limit_for(path: str) -> int | None:
    found = [
        size
        for negated, patterns, size in caddy_body_limits()
        if any(fnmatch.fnmatchcase(path, p) for p in patterns) != negated
    ]
    return min(found) if found else None


@pytest.mark.parametrize(
    "path",
    # A route under each prefix (a prefix without "/" is a route itself), and some under none.
    [prefix + "x" if prefix.endswith("/") else prefix for prefix, _ in BODY_LIMITS]
    + ["/console/leads/1/reply", "/console/sign-in/code", "/webhooks/other"]
    + ["/healthz", "/metrics", "/static/countdown.js", "/"],
)
def test_the_proxy_refuses_the_bodies_the_backend_refuses(path):
    assert caddy_limit_for(path) == body_limit_for(path), path
