"""Dead letters: unreadable records kept with their raw bytes (`tilmeld_shared.consuming`)."""

from __future__ import annotations

from collections.abc import Iterable

from tilmeld_shared.consuming import FORGET_DEAD_LETTERS
from tilmeld_shared.db import Connection


async def forget_dead_letters(conn: Connection, needles: Iterable[str]) -> None:
    """Delete every dead letter whose raw bytes contain one of the strings."""
    await conn.execute(FORGET_DEAD_LETTERS, sorted(needles))
