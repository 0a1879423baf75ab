"""An organiser's message is nothing reporting counts or keeps: its words are stored nowhere."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from reporting import projection
from tilmeld_shared.db import init_connection
from tilmeld_shared.events import MeetingMessageSent, new_envelope

SUBJECT = "Nyt lokale til Karen Hansens oplæg"
BODY = "Vi mødes i sal 2.\nSkriv til karen@ishoj.example"


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url, server_settings={"search_path": "reporting"})
    await init_connection(connection)
    yield connection
    await connection.close()


async def test_a_message_is_handled_and_its_words_are_kept_nowhere(
    conn: asyncpg.Connection,
) -> None:
    message = MeetingMessageSent(
        message_id=uuid.uuid4(),
        meeting_id=uuid.uuid4(),
        network_id=uuid.uuid4(),
        to="all",
        subject=SUBJECT,
        body=BODY,
        sent_at=datetime.now(UTC),
        registration_ids=[uuid.uuid4()],
    )
    envelope = new_envelope(
        message, aggregate_id=message.message_id, aggregate_version=1, correlation_id="test"
    )

    async with conn.transaction():
        applied = await projection.apply_batch(conn, [(envelope, message)])

    assert applied == 1
    tables = await conn.fetch(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'reporting' AND table_type = 'BASE TABLE'"
    )
    for table in tables:
        rows = await conn.fetch(f'SELECT t::text AS row FROM reporting."{table["table_name"]}" t')
        for row in rows:
            assert "Karen" not in row["row"] and "sal 2" not in row["row"], table["table_name"]
