"""Migrations run under an advisory lock keyed by the schema's name, whatever that name is."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from tilmeld_shared.db import migrate


async def test_a_schema_whose_lock_key_has_the_top_bit_set_migrates(
    database_url: str, tmp_path: Path
) -> None:
    # sha256("regtest") starts with a byte >= 0x80: read unsigned, it overflowed Postgres's int4.
    (tmp_path / "001_first.sql").write_text("CREATE TABLE things (id int PRIMARY KEY);")
    applied = await migrate(database_url, schema="regtest", migrations_dir=tmp_path)
    assert applied == ["001_first.sql"]
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM regtest.things") == 0
    finally:
        await conn.close()
