"""Use cases of the municipality register, and a member's typed municipality resolved to it.

A member's `municipality` stays as typed. It resolves to one register entry (the member's
`municipality_id`) or to none: an unknown or ambiguous name is kept, grouped by its key
(registration.municipalities.normalise) and reported to organisers, never dropped.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import TypeVar

import asyncpg

from registration.municipalities import Match, Register, normalise, resolve
from registration.pagination import Cursor
from registration.repository import members as member_rows
from registration.repository import municipalities as municipality_rows
from registration.service.commands import MemberIn, MunicipalityIn
from registration.unit_of_work import Once, Transactions
from tilmeld_shared.auth import Principal
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import Conflict, Invalid, NotFound

R = TypeVar("R")


@dataclass(frozen=True)
class TypedMunicipality:
    """What a sign-up says about the person's municipality: as typed, and resolved."""

    name: str
    key: str
    municipality_id: uuid.UUID | None


async def typed_municipality(conn: Connection, member: MemberIn) -> TypedMunicipality:
    """The sign-up's municipality: the id it sent (422 if unknown) or the name it typed,
    resolved to the register where the name means exactly one entry."""
    if member.municipality_id is not None:
        row = await municipality_rows.get(conn, member.municipality_id)
        if row is None:
            raise unknown_municipality(member.municipality_id)
        return _named(member.municipality or row["name"], row["municipality_id"])
    assert member.municipality is not None  # MemberIn asks for one of the two
    return await resolved(conn, member.municipality)


def typed_in(register: Register, member: MemberIn) -> TypedMunicipality | None:
    """typed_municipality against a register held in memory; None for an id it does not
    hold."""
    if member.municipality_id is not None:
        entry = register.by_id(member.municipality_id)
        if entry is None:
            return None
        return _named(member.municipality or entry.name, member.municipality_id)
    assert member.municipality is not None  # MemberIn asks for one of the two
    return resolved_in(register, member.municipality)


def _named(name: str, municipality_id: uuid.UUID) -> TypedMunicipality:
    return TypedMunicipality(name, normalise(name) or name, municipality_id)


def unknown_municipality(municipality_id: uuid.UUID) -> Invalid:
    return Invalid(
        f"No municipality {municipality_id} in the register.",
        errors=[
            {
                "field": "member.municipality_id",
                "in": "body",
                "message": "not in the register (GET /municipalities)",
            }
        ],
    )


async def resolved(conn: Connection, name: str) -> TypedMunicipality:
    """A typed name with what the register says it means now."""
    return resolved_in(await municipality_rows.register(conn), name)


def resolved_in(register: Register, name: str) -> TypedMunicipality:
    """A typed name with what this register says it means."""
    found = resolve(name, register)
    municipality_id = found.municipality.municipality_id if isinstance(found, Match) else None
    return TypedMunicipality(name, normalise(name) or name.strip().casefold(), municipality_id)


async def resolve_member_again(conn: Connection, member: asyncpg.Record) -> asyncpg.Record:
    """An unresolved member's stored name resolved with today's register (and rules); the row
    as it is now. Members from before resolving existed get their key this way too."""
    now = await resolved(conn, member["municipality"])
    if (now.municipality_id, now.key) == (member["municipality_id"], member["municipality_key"]):
        return member
    return await member_rows.resolve(
        conn, member["id"], municipality_id=now.municipality_id, municipality_key=now.key
    )


async def resolve_members_within(conn: Connection, *, batch: int = 500) -> tuple[int, int]:
    """Resolve every member still unresolved; (how many were looked at, how many resolved)."""
    seen = resolved_count = 0
    after: uuid.UUID | None = None
    while rows := await member_rows.unresolved(conn, after_id=after, limit=batch):
        for row in rows:
            seen += 1
            if (await resolve_member_again(conn, row))["municipality_id"] is not None:
                resolved_count += 1
        after = rows[-1]["id"]
    return seen, resolved_count


# --- use cases: each runs in one transaction (or one read) of its own --------------------------


async def list_municipalities(
    tx: Transactions, *, country: str | None, q: str | None, limit: int, cursor: Cursor | None
) -> tuple[list[asyncpg.Record], Cursor | None]:
    """The register in (country, name) order, filtered by country and a name's start."""

    async def read(conn: Connection) -> list[asyncpg.Record]:
        return await municipality_rows.search(
            conn,
            country=country,
            q=q,
            after_id=cursor.after_id if cursor else None,
            limit=limit + 1,
        )

    rows = await tx.read(read)
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], Cursor(after_id=rows[limit - 1]["municipality_id"])


async def get_municipality(tx: Transactions, municipality_id: uuid.UUID) -> asyncpg.Record:
    row = await tx.read(lambda conn: municipality_rows.get(conn, municipality_id))
    if row is None:
        raise NotFound(f"No municipality {municipality_id}.")
    return row


async def add_municipality_within(
    conn: Connection, command: MunicipalityIn, *, organiser: Principal
) -> asyncpg.Record:
    """Add a body to the register (a German Kreis); 409 if it is there already. Members whose
    typed name now resolves to it are resolved at once."""
    row = await municipality_rows.add(
        conn,
        municipality_id=uuid.uuid4(),
        country=command.country,
        name=command.name,
        kind=command.kind,
        code=command.code,
        aliases=command.aliases,
        organisation_id=organiser.organisation_id,
    )
    if row is None:
        raise Conflict(
            "The register already holds this municipality (the same number, or the same name "
            "and kind, in that country).",
            slug="municipality-exists",
        )
    # Members who typed its name were waiting for it: resolved now, by the resolver's rules.
    keys = [normalise(name) for name in (command.name, *command.aliases)]
    for member in await member_rows.unresolved_with_keys(conn, keys):
        await resolve_member_again(conn, member)
    return row


async def add_municipality(
    tx: Transactions,
    command: MunicipalityIn,
    *,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """Add a body to the register, for an organiser (of any organisation: the register is
    shared, and the row remembers who added it)."""
    return await tx.once(
        once, lambda conn: add_municipality_within(conn, command, organiser=organiser)
    )


@dataclass(frozen=True)
class UnresolvedName:
    name: str  # the spelling typed most often
    spellings: list[str]
    members: int


async def unresolved_names(tx: Transactions, *, organiser: Principal) -> list[UnresolvedName]:
    """Names typed that the register does not resolve, with how many members typed each
    (people in the organiser's organisation's networks; all, for the platform), most first."""
    rows = await tx.read(
        lambda conn: member_rows.unresolved_names(conn, organisation_id=organiser.organisation_id)
    )
    by_key: dict[str, Counter[str]] = {}
    for row in rows:
        by_key.setdefault(row["municipality_key"], Counter())[row["municipality"]] += row["members"]
    names = [
        UnresolvedName(
            name=spellings.most_common(1)[0][0],
            spellings=sorted(spellings),
            members=sum(spellings.values()),
        )
        for spellings in by_key.values()
    ]
    return sorted(names, key=lambda n: (-n.members, n.name.casefold()))


async def resolve_members(tx: Transactions) -> tuple[int, int]:
    """Resolve every unresolved member with today's register (the CLI's
    `resolve-municipalities`); (looked at, resolved)."""
    return await tx.run(resolve_members_within)
