"""`python -m backend.service`: the backend service in the foreground (webhook, workers)."""

from __future__ import annotations

import logging
import os

from backend.app import create_app
from backend.config import get_settings


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = get_settings()
    app = create_app(settings, workers=os.environ.get("TMS_WORKERS", "1") != "0")
    app.run(
        host=os.environ.get("BACKEND_HOST", "127.0.0.1"),
        port=settings.backend_port,
        single_process=True,
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
