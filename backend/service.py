"""`python -m backend.service`: the backend service in the foreground (webhook, workers)."""

from __future__ import annotations

from backend.app import create_app
from backend.config import get_settings, start_or_refuse


def main() -> None:
    settings = get_settings()
    start_or_refuse(settings, "backend")
    app = create_app(settings, workers=settings.workers_enabled)
    app.run(
        host=settings.backend_host,
        port=settings.backend_port,
        single_process=True,
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
