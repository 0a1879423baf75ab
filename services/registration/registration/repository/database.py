"""What the database itself answers, beyond any one aggregate."""

from __future__ import annotations

from datetime import datetime

from tilmeld_shared.db import Connection

# The transaction's start time (the same for every statement in it), which a few events carry
# as the moment of the change.
NOW = "SELECT now()"


async def transaction_time(conn: Connection) -> datetime:
    moment: datetime = await conn.fetchval(NOW)
    return moment
