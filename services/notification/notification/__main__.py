"""`python -m notification serve | migrate`."""

from __future__ import annotations

import argparse
import asyncio

import uvicorn

from notification.main import MIGRATIONS, SCHEMA, create_app
from notification.settings import Settings
from tilmeld_shared.db import migrate
from tilmeld_shared.observability import configure_logging


def main() -> None:
    parser = argparse.ArgumentParser(prog="notification")
    parser.add_argument("command", choices=["serve", "migrate"])
    args = parser.parse_args()
    settings = Settings()  # filled from the environment
    configure_logging(settings.log_level)
    if args.command == "migrate":
        applied = asyncio.run(
            migrate(
                settings.migration_database_url or settings.database_url,
                schema=SCHEMA,
                migrations_dir=MIGRATIONS,
            )
        )
        print(f"notification: {len(applied)} migration(s) applied")
        return
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        # Longer than a load balancer's idle timeout, so the server never closes a
        # kept-alive connection just as a client reuses it.
        timeout_keep_alive=75,
    )


if __name__ == "__main__":
    main()
