"""`python -m registration serve | migrate | replay --since TIME`."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

import asyncpg

from registration.main import MIGRATIONS, SCHEMA, create_app
from registration.outbox import NOTIFY_CHANNEL
from registration.service import operations
from registration.settings import Settings
from tilmeld_shared.db import migrate
from tilmeld_shared.observability import configure_logging, serve_metrics
from tilmeld_shared.serving import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="registration")
    parser.add_argument("command", choices=["serve", "migrate", "replay"])
    parser.add_argument(
        "--since",
        type=datetime.fromisoformat,
        default=datetime(1970, 1, 1, tzinfo=UTC),
        help="replay: events written at or after this time (ISO 8601)",
    )
    args = parser.parse_args()
    settings = Settings()  # filled from the environment
    configure_logging(settings.log_level)
    if args.command == "replay":
        count = asyncio.run(_replay(settings, args.since))
        print(f"registration: {count} event(s) queued to be published again")
        return
    if args.command == "migrate":
        applied = asyncio.run(
            migrate(
                settings.migration_database_url or settings.database_url,
                schema=SCHEMA,
                migrations_dir=MIGRATIONS,
            )
        )
        print(f"registration: {len(applied)} migration(s) applied")
        return
    serve_metrics(host=settings.host, port=settings.metrics_port)
    serve(create_app(settings), settings)


async def _replay(settings: Settings, since: datetime) -> int:
    conn = await asyncpg.connect(settings.database_url, server_settings={"search_path": SCHEMA})
    try:
        count = await operations.replay_since(conn, since)
        await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)  # wake a running relay
        return count
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
