"""A party's municipality as the register knows it: the one entry an application names (by
id, or by a name that resolves to exactly one), and, in a network of municipalities, whether a
person's municipality is one of its parties.
"""

from __future__ import annotations

import asyncpg

from registration.municipalities import Ambiguous, Match
from registration.repository import municipalities as municipality_rows
from registration.repository import parties as party_rows
from registration.service.commands import PartyIn
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import Conflict, Invalid


def _not_in_register(field: str, detail: str, message: str) -> Invalid:
    return Invalid(detail, errors=[{"field": field, "in": "body", "message": message}])


async def municipality_of_party(conn: Connection, command: PartyIn) -> asyncpg.Record:
    """The register entry the application names, by id or by a name that resolves to one
    (an unknown or ambiguous name is invalid input: a party must be one register entry)."""
    municipality_id = command.municipality_id
    if municipality_id is None:
        assert command.municipality is not None
        name = command.municipality
        found = await municipality_rows.resolve_name(conn, name)
        if isinstance(found, Ambiguous):
            candidates = ", ".join(
                f"{m.name} ({m.country} {m.code or m.kind})" for m in found.candidates
            )
            raise _not_in_register(
                "municipality",
                f"{name!r} names more than one municipality: {candidates}. "
                "Send municipality_id (GET /municipalities?q=...) to say which.",
                "ambiguous: send municipality_id",
            )
        if not isinstance(found, Match) or found.municipality.municipality_id is None:
            raise _not_in_register(
                "municipality",
                f"No municipality in the register is called {name!r}. Look it up with "
                "GET /municipalities?q=... (an organiser may add it) and send municipality_id.",
                "not in the register",
            )
        municipality_id = found.municipality.municipality_id
    row = await municipality_rows.get(conn, municipality_id)
    if row is None:
        raise _not_in_register(
            "municipality_id",
            f"No municipality {municipality_id} in the register.",
            "not in the register",
        )
    return row


async def require_from_a_party(
    conn: Connection, network: asyncpg.Record, member: asyncpg.Record
) -> None:
    """In a network of municipalities, only people whose municipality (as resolved to the
    register) has joined it may enrol; a people network takes anyone."""
    if network["membership"] != "municipalities":
        return
    municipality_id = member["municipality_id"]
    if municipality_id is None or not await party_rows.joined(
        conn, network_id=network["id"], municipality_id=municipality_id
    ):
        raise Conflict(
            f"The members of this network are municipalities, and {member['municipality']!r} "
            "is not one of its parties: people enrol from a municipality that has joined.",
            slug="municipality-not-party",
            municipality_id=str(municipality_id) if municipality_id else None,
        )
