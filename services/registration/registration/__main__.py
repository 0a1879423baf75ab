"""`python -m registration serve | migrate | relay | replay --since TIME |
resolve-municipalities | rotate-personal-data-key`."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

import asyncpg

from registration import key_rotation, relay
from registration.main import MIGRATIONS, SCHEMA, create_app
from registration.outbox import NOTIFY_CHANNEL
from registration.personal_data import PersonalDataVault
from registration.repository import events
from registration.service import municipalities, operations
from registration.settings import Settings
from tilmeld_shared.cli import Command, ServiceCommands
from tilmeld_shared.db import create_pool
from tilmeld_shared.observability import serve_metrics


def run_relay(settings: Settings, _: argparse.Namespace) -> int:
    serve_metrics(host=settings.host, port=settings.metrics_port)
    asyncio.run(relay.run_alone(settings))
    return 0


def replay(settings: Settings, args: argparse.Namespace) -> int:
    count = asyncio.run(_replay(settings, args.since))
    print(f"registration: {count} event(s) queued to be published again")
    return 0


def _since(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        type=datetime.fromisoformat,
        default=datetime(1970, 1, 1, tzinfo=UTC),
        help="events written at or after this time (ISO 8601); default: all of them",
    )


async def _replay(settings: Settings, since: datetime) -> int:
    conn = await asyncpg.connect(settings.database_url, server_settings={"search_path": SCHEMA})
    try:
        count = await operations.replay_since(conn, since)
        await events.notify(conn, channel=NOTIFY_CHANNEL)  # wake a running relay
        return count
    finally:
        await conn.close()


def resolve_municipalities(settings: Settings, _: argparse.Namespace) -> int:
    looked_at, resolved = asyncio.run(_resolve_municipalities(settings))
    print(
        f"registration: {resolved} of {looked_at} unresolved member municipalities resolved; "
        f"{looked_at - resolved} stay as typed (GET /api/v1/unresolved-municipalities)"
    )
    return 0


async def _resolve_municipalities(settings: Settings) -> tuple[int, int]:
    conn = await asyncpg.connect(settings.database_url, server_settings={"search_path": SCHEMA})
    try:
        async with conn.transaction():
            return await municipalities.resolve_members_within(conn)
    finally:
        await conn.close()


def rotate_personal_data_key(settings: Settings, args: argparse.Namespace) -> int:
    done = asyncio.run(_rotate_personal_data_key(settings, args.batch_size))
    print(
        f"registration: {done.rewrapped} member key(s) re-wrapped with the current master key, "
        f"{done.already_current} already under it; {done.unreadable} opened by no configured "
        f"master key; {done.remaining} not recorded under the current master key"
    )
    if done.unreadable:
        print("registration: keep PERSONAL_DATA_KEYS_PREVIOUS: some member keys need a key not set")
        return 1
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _batch_size(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--batch-size",
        type=_positive,
        default=key_rotation.BATCH_SIZE,
        help=f"member keys per transaction (default {key_rotation.BATCH_SIZE})",
    )


async def _rotate_personal_data_key(settings: Settings, batch_size: int) -> key_rotation.Rotation:
    vault = PersonalDataVault.from_setting(
        settings.personal_data_key,
        development_fallback=settings.effective_token_secret,
        previous=settings.personal_data_keys_previous,
    )
    pool = await create_pool(settings.database_url, schema=SCHEMA, min_size=1, max_size=1)
    try:
        return await key_rotation.rotate(pool, vault, batch_size=batch_size)
    finally:
        await pool.close()


COMMANDS = ServiceCommands(
    Settings,
    create_app,
    schema=SCHEMA,
    migrations=MIGRATIONS,
    commands={
        "relay": Command("run the outbox relay alone, publishing events to Kafka", run_relay),
        "replay": Command("publish the retained events again, in order", replay, _since),
        "resolve-municipalities": Command(
            "resolve members' typed municipalities with today's register (after migration "
            "006, or after adding to the register)",
            resolve_municipalities,
        ),
        "rotate-personal-data-key": Command(
            "re-wrap every member's data key with PERSONAL_DATA_KEY, in batches (resumable, "
            "safe while the service runs); then the keys in PERSONAL_DATA_KEYS_PREVIOUS can go",
            rotate_personal_data_key,
            _batch_size,
        ),
    },
)

if __name__ == "__main__":
    COMMANDS.main()
