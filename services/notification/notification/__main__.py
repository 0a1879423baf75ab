"""`python -m notification serve | migrate`."""

from __future__ import annotations

import argparse
import asyncio

from notification.main import MIGRATIONS, SCHEMA, create_app
from notification.settings import Settings
from tilmeld_shared.db import migrate
from tilmeld_shared.observability import configure_logging, serve_metrics
from tilmeld_shared.serving import serve


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
    serve_metrics(host=settings.host, port=settings.metrics_port)
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
