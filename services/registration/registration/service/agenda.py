"""What makes a meeting's agenda valid beyond its shape: each timed item within the meeting,
and each linked proposal one of the hosting networks' own (not rejected).

Titles (one line, not blank) and speakers (a list of names) are the command's shape
(AgendaItemIn); the checks here need the meeting's times or the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tilmeld_shared.db import Connection
from tilmeld_shared.problems import Invalid

# The proposals an agenda may take up: of the meeting's network or a co-host, and not rejected.
PROPOSALS_OF_NETWORKS = """
SELECT id FROM proposals
WHERE id = ANY($1::uuid[]) AND network_id = ANY($2::uuid[]) AND status <> 'rejected'
"""


def _as_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


async def check_agenda(
    conn: Connection,
    agenda: Sequence[Any],
    *,
    starts_at: datetime,
    ends_at: datetime,
    network_ids: Sequence[uuid.UUID],
) -> None:
    """422 naming each item whose time falls outside the meeting or whose proposal is not one
    of the hosting networks' own. Items are AgendaItemIn or their stored (JSON) form."""
    items = [item if isinstance(item, dict) else item.model_dump() for item in agenda]
    errors: list[dict[str, str]] = []
    # An agenda is written to the minute: an item at 10:00 opens a meeting set for 10:00:30.
    opens = starts_at.replace(second=0, microsecond=0)
    for number, item in enumerate(items):
        at = _as_time(item.get("starts_at"))
        if at is not None and not opens <= at < ends_at:
            errors.append(
                {
                    "field": f"agenda.{number}.starts_at",
                    "in": "body",
                    "message": "outside the meeting: between its starts_at and ends_at",
                }
            )
    linked = {
        number: uuid.UUID(str(item["proposal_id"]))
        for number, item in enumerate(items)
        if item.get("proposal_id")
    }
    if linked:
        rows = await conn.fetch(PROPOSALS_OF_NETWORKS, list(linked.values()), list(network_ids))
        known = {row["id"] for row in rows}
        errors += [
            {
                "field": f"agenda.{number}.proposal_id",
                "in": "body",
                "message": "not a proposal of this meeting's networks (or it was rejected)",
            }
            for number, proposal_id in linked.items()
            if proposal_id not in known
        ]
    if errors:
        raise Invalid("The agenda does not fit the meeting; see `errors`.", errors=errors)


def in_order(agenda: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The agenda as shown: timed items by their time, untimed ones where they were put."""
    timed = sorted(
        (item for item in agenda if item.get("starts_at")),
        key=lambda item: _as_time(item["starts_at"]) or datetime.min,
    )
    order = iter(timed)
    return [next(order) if item.get("starts_at") else item for item in agenda]


async def check_changed_agenda(
    conn: Connection,
    current: Any,
    patch: Any,
    *,
    starts_at: datetime,
    ends_at: datetime,
) -> None:
    """A PATCH's agenda, or the stored one when the meeting's times move (an item must not be
    left outside the meeting: send the agenda with its new times in the same PATCH)."""
    moved = (starts_at, ends_at) != (current["starts_at"], current["ends_at"])
    if patch.agenda is None and not moved:
        return
    co_hosts = patch.co_hosts if patch.co_hosts is not None else current["co_hosts"]
    await check_agenda(
        conn,
        patch.agenda if patch.agenda is not None else current["agenda"],
        starts_at=starts_at,
        ends_at=ends_at,
        network_ids=[current["network_id"], *co_hosts],
    )
