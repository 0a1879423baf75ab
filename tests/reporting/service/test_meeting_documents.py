"""A meeting's documents are nothing reporting counts: handled once, stored nowhere."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from reporting import projection
from tilmeld_shared.db import init_connection
from tilmeld_shared.events import (
    MeetingDocumentAdded,
    MeetingDocumentRemoved,
    new_envelope,
    read_envelope,
)


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url, server_settings={"search_path": "reporting"})
    await init_connection(connection)
    yield connection
    await connection.close()


async def test_documents_are_applied_once_and_leave_no_trace(conn: asyncpg.Connection) -> None:
    document_id, meeting_id, network_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    payloads = [
        MeetingDocumentAdded(
            document_id=document_id,
            meeting_id=meeting_id,
            network_id=network_id,
            filename="Referat Kreisverwaltungen.pdf",
            content_type="application/pdf",
            size=2048,
            visibility="public",
            added_at=datetime.now(UTC),
        ),
        MeetingDocumentRemoved(
            document_id=document_id,
            meeting_id=meeting_id,
            network_id=network_id,
            removed_at=datetime.now(UTC),
        ),
    ]
    events = [
        read_envelope(
            new_envelope(
                payload, aggregate_id=document_id, aggregate_version=number, correlation_id="t"
            )
            .model_dump_json()
            .encode()
        )
        for number, payload in enumerate(payloads, start=1)
    ]

    async with conn.transaction():
        applied = await projection.apply_batch(conn, events)
    async with conn.transaction():
        again = await projection.apply_batch(conn, events)

    assert (applied, again) == (2, 0)
    tables = await conn.fetch(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'reporting' AND table_type = 'BASE TABLE'"
    )
    for table in tables:
        rows = await conn.fetch(f'SELECT t::text AS row FROM reporting."{table["table_name"]}" t')
        assert not [row for row in rows if "Kreisverwaltungen" in row["row"]], table["table_name"]
