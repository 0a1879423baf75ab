"""`python -m registration resolve-municipalities`: members from before resolving existed get
their municipality resolved with the register's rules."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import asyncpg

RODOVRE = uuid.uuid5(uuid.UUID("6b1d6f8e-3f7a-5c1e-9a51-1f4e2d9c7a30"), "DK:175")


async def test_the_command_resolves_what_it_can_and_keeps_the_rest_as_typed(
    database_url: str,
) -> None:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "registration"})
    try:
        # As migration 006 leaves members that were there before it.
        ids = [uuid.uuid4(), uuid.uuid4()]
        for member_id, typed in zip(ids, ("Rødovre Kommune", "Atlantis"), strict=True):
            await conn.execute(
                "INSERT INTO members (id, municipality, municipality_key, role)"
                " VALUES ($1, $2, lower($2), 'Kulturchef')",
                member_id,
                typed,
            )
        done = subprocess.run(
            [sys.executable, "-m", "registration", "resolve-municipalities"],
            env={
                **os.environ,
                "DATABASE_URL": database_url,
                "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "1 of 2" in done.stdout
        rows = await conn.fetch(
            "SELECT municipality, municipality_id, municipality_key FROM members"
            " WHERE id = ANY($1::uuid[]) ORDER BY municipality DESC",
            ids,
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [
        ("Rødovre Kommune", RODOVRE, "roedovre"),
        ("Atlantis", None, "atlantis"),
    ]
