"""Reading what a network has held, for its public archive: each meeting with its description,
agenda and public documents (the participants' documents stay with the participants)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import NamedTuple

import asyncpg

from registration.repository import archive as archive_rows
from registration.repository import documents as document_rows
from registration.service.documents import Reader, sees_all
from registration.service.networks import network_within
from registration.unit_of_work import ServiceContext, Transactions
from tilmeld_shared.db import Connection


class Archive(NamedTuple):
    network: asyncpg.Record
    meetings: list[asyncpg.Record]
    documents: dict[uuid.UUID, list[asyncpg.Record]]


async def held_meetings(tx: Transactions, network_id: uuid.UUID, *, limit: int = 200) -> Archive:
    """The network's held meetings, newest first, with each one's public documents."""

    async def read(conn: Connection) -> Archive:
        network = await network_within(conn, network_id)
        meetings = await archive_rows.held_of_network(conn, network_id, limit=limit)
        found: dict[uuid.UUID, list[asyncpg.Record]] = defaultdict(list)
        for row in await document_rows.public_of_meetings(conn, [m["id"] for m in meetings]):
            found[row["meeting_id"]].append(row)
        return Archive(network, meetings, dict(found))

    return await tx.read(read)


class Papers(NamedTuple):
    documents: list[asyncpg.Record]
    in_full: bool


async def papers_of_meeting(
    tx: Transactions, ctx: ServiceContext, meeting_id: uuid.UUID, reader: Reader
) -> Papers:
    """The meeting's documents the reader may see (all of them for organisers and confirmed
    participants, else the public ones), in the order added."""

    async def read(conn: Connection) -> Papers:
        in_full = await sees_all(conn, ctx, meeting_id, reader)
        rows = await document_rows.page(
            conn, meeting_id, public_only=not in_full, after_time=None, after_id=None, limit=200
        )
        return Papers(rows, in_full)

    return await tx.read(read)
