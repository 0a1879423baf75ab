"""The member list of a network, for its organisers."""

from __future__ import annotations

import uuid
from typing import NamedTuple

import asyncpg

from registration.repository import member_lists
from registration.service.networks import network_within
from registration.service.organisations import require_in_scope
from registration.unit_of_work import ServiceContext, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection


class MemberList(NamedTuple):
    network: asyncpg.Record
    members: list[asyncpg.Record]


async def network_members(
    tx: Transactions, ctx: ServiceContext, network_id: uuid.UUID, *, organiser: Principal
) -> MemberList:
    """Everyone who enrolled in a network of the organiser's own, and how often they came."""

    async def read(conn: Connection) -> MemberList:
        await require_in_scope(conn, organiser, "network", network_id)
        network = await network_within(conn, network_id)
        rows = await member_lists.network_members(conn, network_id, now=ctx.clock.now())
        return MemberList(network, rows)

    return await tx.read(read)
