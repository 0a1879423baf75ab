"""`python -m reporting serve | migrate | rebuild | reconcile`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from reporting import maintenance
from reporting.main import MIGRATIONS, SCHEMA, create_app
from reporting.settings import Settings
from tilmeld_shared.db import migrate
from tilmeld_shared.observability import configure_logging, serve_metrics
from tilmeld_shared.serving import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="reporting")
    parser.add_argument("command", choices=["serve", "migrate", "rebuild", "reconcile"])
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
        print(f"reporting: {len(applied)} migration(s) applied")
    elif args.command == "rebuild":
        events = asyncio.run(maintenance.rebuild(settings))
        print(f"reporting rebuilt from the event log: {events} events applied")
    elif args.command == "reconcile":
        drift = asyncio.run(maintenance.reconcile(settings))
        for line in drift:
            print(line)
        print(f"drift: {len(drift)}")
        sys.exit(1 if drift else 0)
    else:
        serve_metrics(host=settings.host, port=settings.metrics_port)
        serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
