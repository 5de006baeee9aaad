"""`python -m actions.server`: the action server, answering only our Rasa.

rasa-sdk's own server listens on every interface and runs any action for anyone who can reach
it, trusting the `sender_id` it is given: a caller on the network could act as any phone (a
guide's CHECKOUT writes payroll). This one
- listens on `ACTION_SERVER_HOST` (loopback unless a private network is configured),
- refuses every call to `/webhook` and `/actions` that does not carry the shared secret Rasa
  sends (`X-TMS-Action-Secret`, from `ACTION_SERVER_SECRET`; `endpoints.yml` sends it),
- refuses to start in production with a missing or default secret.
`/health` stays open: it says nothing but "ok".
"""

from __future__ import annotations

import argparse
import logging
import os
from functools import partial

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Request, Sanic, response
from sanic.response import HTTPResponse
from sanic.worker.loader import AppLoader

from backend.assistant_protocol import ACTION_SECRET_HEADER
from backend.config import get_settings, start_or_refuse
from backend.whatsapp.signature import token_matches

OPEN_PATHS = {"/health"}

logger = logging.getLogger(__name__)


def build_app(secret: str) -> Sanic:
    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor, cors_origins=None)

    @app.on_request
    async def only_our_rasa(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if not token_matches(request.headers.get(ACTION_SECRET_HEADER), secret):
            logger.warning(
                "action server: refused %s %s without the secret", request.method, request.path
            )
            return response.json({"error": "this action server answers only its Rasa"}, status=403)
        return None

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m actions.server", description=__doc__)
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("ACTION_SERVER_WORKERS", "1")),
        help="processes answering on the port (ACTION_SERVER_WORKERS; default 1): an action "
        "holds the GIL while it works, so one process uses at most one core",
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    start_or_refuse(settings, "action server")
    if args.workers <= 1:
        app = build_app(settings.action_server_secret)
        app.run(
            host=settings.action_server_host,
            port=args.port,
            single_process=True,
            access_log=False,
            motd=False,
        )
        return
    # Several processes: Sanic's worker manager builds the app again in each of them.
    loader = AppLoader(factory=partial(build_app, settings.action_server_secret))
    app = loader.load()
    app.prepare(
        host=settings.action_server_host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        motd=False,
    )
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
