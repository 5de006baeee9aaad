"""The console stays in modules a person can hold in mind (issue 22): one per area, none long."""

from __future__ import annotations

from pathlib import Path

import backend.console

MOST_LINES = 400


def test_no_console_module_is_longer_than_a_person_can_hold_in_mind():
    folder = Path(backend.console.__file__).parent
    sizes = {p.name: len(p.read_text().splitlines()) for p in folder.glob("*.py")}
    assert len(sizes) > 5, sizes  # the area modules are there
    too_long = {name: n for name, n in sizes.items() if n > MOST_LINES}
    assert not too_long, f"split by area (see backend/console/routes.py): {too_long}"


def test_the_app_serves_the_routes_of_every_area_module():
    from backend.app import create_app

    app = create_app(workers=False)
    handlers = {
        route.handler.__module__
        for route in app.router.routes
        if ("/" + route.path).startswith("/console")
    }
    assert {
        "backend.console.auth",
        "backend.console.leads",
        "backend.console.bookings",
        "backend.console.departures",
        "backend.console.incidents",
        "backend.console.admin",
        "backend.console.account",
    } <= handlers
