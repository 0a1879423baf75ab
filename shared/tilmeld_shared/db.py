"""Postgres helpers every service uses: the pool with JSON codecs, and the migration runner."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Protocol

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

# What use cases take: a plain connection, or one borrowed from the pool.
Connection = asyncpg.Connection | PoolConnectionProxy

log = logging.getLogger(__name__)

# A fixed key per schema keeps two processes that start together from migrating at once.
_MIGRATION_LOCK_NAMESPACE = 7_405_311


# jsonb's binary form is a version byte (1) and the JSON text. Binary rather than text codecs:
# asyncpg decodes a row value (`SELECT m AS meeting ...`) only if every column's codec is
# binary. orjson, since every registration writes an event's envelope and reads JSON columns.
_JSONB_VERSION = b"\x01"


def _encode_json(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def _encode_jsonb(value: object) -> bytes:
    return _JSONB_VERSION + orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def _decode_jsonb(data: bytes) -> object:
    return orjson.loads(memoryview(data)[1:])


async def init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "json", encoder=_encode_json, decoder=orjson.loads, schema="pg_catalog", format="binary"
    )
    await conn.set_type_codec(
        "jsonb", encoder=_encode_jsonb, decoder=_decode_jsonb, schema="pg_catalog", format="binary"
    )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a pooled connection needs on release beyond asyncpg's rollback of an open transaction:
    nothing. The default reset (unlock advisory locks, CLOSE ALL, UNLISTEN *, RESET ALL) is a
    round trip and four statements on every release, undoing what no pooled connection does: the
    services set session state only with SET LOCAL / transaction-scoped locks, and the relay and
    the migration runner take their session locks and LISTEN on connections of their own."""


async def create_pool(
    dsn: str,
    *,
    schema: str,
    min_size: int = 1,
    max_size: int = 10,
    command_timeout: float = 10,
    connect_timeout: float = 2,
) -> asyncpg.Pool:
    """One pool per process; `search_path` pins it to the service's own schema.

    Connecting gives up after `connect_timeout`, so an unreachable database turns into a quick
    503 rather than a request that hangs."""
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        reset=_keep_session,
        command_timeout=command_timeout,
        timeout=connect_timeout,
        server_settings={"search_path": schema, "application_name": f"tilmeld-{schema}"},
    )


class PoolSettings(Protocol):
    """What a service's Settings says about its pool (see tilmeld_shared/settings.py)."""

    database_url: str
    db_pool_min: int
    db_pool_max: int
    db_command_timeout_s: float


async def open_pool(settings: PoolSettings, *, schema: str) -> asyncpg.Pool:
    """The service's one pool, sized and timed as its settings say."""
    return await create_pool(
        settings.database_url,
        schema=schema,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        command_timeout=settings.db_command_timeout_s,
    )


_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
    version     integer PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


def _lock_key(schema: str) -> int:
    """Postgres's two-key advisory locks take signed 32-bit ints; read the hash as one (keys
    whose top bit is clear are what they always were)."""
    return int.from_bytes(hashlib.sha256(schema.encode()).digest()[:4], "big", signed=True)


async def migrate(dsn: str, *, schema: str, migrations_dir: Path) -> list[str]:
    """Apply the numbered `NNN_name.sql` files not yet recorded, each in its own transaction.

    Returns the names applied. Runs under an advisory lock so concurrent starters are safe; a
    changed file that was already applied is refused rather than silently skipped.
    """
    # A handful of small files read once at start: not worth a thread.
    files = sorted(migrations_dir.glob("[0-9][0-9][0-9]_*.sql"))  # noqa: ASYNC240
    applied: list[str] = []
    conn: asyncpg.Connection = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "SELECT pg_advisory_lock($1, $2)", _MIGRATION_LOCK_NAMESPACE, _lock_key(schema)
        )
        try:
            # Provisioned schemas already exist, owned by the service's owner role, which may
            # not create schemas (least privilege): create only where nobody provisioned one.
            if not await conn.fetchval("SELECT true FROM pg_namespace WHERE nspname = $1", schema):
                await conn.execute(f'CREATE SCHEMA "{schema}"')
            await conn.execute(_CREATE_LEDGER.format(schema=f'"{schema}"'))
            done: dict[int, str] = {
                row["version"]: row["checksum"]
                for row in await conn.fetch(
                    f'SELECT version, checksum FROM "{schema}".schema_migrations'
                )
            }
            for path in files:
                version = int(path.name[:3])
                sql = path.read_text()
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                if version in done:
                    if done[version] != checksum:
                        raise RuntimeError(f"{schema}: applied migration {path.name} was edited")
                    continue
                async with conn.transaction():
                    await conn.execute(f'SET LOCAL search_path TO "{schema}"')
                    await conn.execute(sql)
                    await conn.execute(
                        f'INSERT INTO "{schema}".schema_migrations (version, name, checksum)'
                        " VALUES ($1, $2, $3)",
                        version,
                        path.name,
                        checksum,
                    )
                applied.append(path.name)
                log.info("applied migration %s.%s", schema, path.name)
        finally:
            await conn.execute(
                "SELECT pg_advisory_unlock($1, $2)", _MIGRATION_LOCK_NAMESPACE, _lock_key(schema)
            )
    finally:
        await conn.close()
    return applied


async def migrations_applied(pool: asyncpg.Pool, *, schema: str, migrations_dir: Path) -> bool:
    """True when every migration file on disk is recorded as applied (readiness)."""
    pattern = "[0-9][0-9][0-9]_*.sql"
    expected = {int(p.name[:3]) for p in migrations_dir.glob(pattern)}  # noqa: ASYNC240
    try:
        rows = await pool.fetch(f'SELECT version FROM "{schema}".schema_migrations')
    except asyncpg.UndefinedTableError:
        return False
    return expected <= {row["version"] for row in rows}
