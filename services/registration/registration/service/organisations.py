"""Organisations, their API keys, and the rule that an organisation sees only its own networks
(and their meetings, rosters and registrations)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from registration import repository as repo
from tilmeld_shared.auth import API_KEY_PREFIX, Principal, Role
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import Conflict, NotFound

T = TypeVar("T")


def key_hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


async def create_organisation(conn: Connection, name: str) -> asyncpg.Record:
    try:
        row = await conn.fetchrow(repo.INSERT_ORGANISATION, uuid.uuid4(), name)
    except asyncpg.UniqueViolationError:
        raise Conflict(f"An organisation named {name!r} exists.", slug="duplicate") from None
    assert row is not None
    return row


async def list_organisations(conn: Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(repo.ORGANISATIONS))


async def list_api_keys(conn: Connection, organisation_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(repo.API_KEYS, organisation_id))


async def issue_api_key(
    conn: Connection, organisation_id: uuid.UUID, *, name: str, role: Role
) -> tuple[asyncpg.Record, str]:
    """A new key for the organisation; the key itself is returned this once, never stored."""
    if await conn.fetchrow(repo.ORGANISATION, organisation_id) is None:
        raise NotFound(f"No organisation {organisation_id}.")
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    row = await conn.fetchrow(
        repo.INSERT_API_KEY, uuid.uuid4(), organisation_id, name, role.value, key_hash(key)
    )
    assert row is not None
    return row, key


async def revoke_api_key(conn: Connection, key_id: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow(repo.REVOKE_API_KEY, key_id)
    if row is None:
        raise NotFound(f"No API key {key_id}.")
    return row


async def principal_of_api_key(conn: Connection, key: str) -> Principal | None:
    row = await conn.fetchrow(repo.ACTIVE_API_KEY, key_hash(key))
    return Principal(Role(row["role"]), row["organisation_id"]) if row else None


_OWNER_QUERIES = {
    "network": repo.ORGANISATION_OF_NETWORK,
    "meeting": repo.ORGANISATION_OF_MEETING,
    "registration": repo.ORGANISATION_OF_REGISTRATION,
    "enrolment": repo.ORGANISATION_OF_ENROLMENT,
}


async def require_in_scope(
    conn: Connection, principal: Principal | None, kind: str, resource_id: uuid.UUID
) -> None:
    """404, exactly as for a missing one, unless the resource belongs to the caller's
    organisation; the platform sees all. Saying "forbidden" would confirm it exists."""
    if principal is not None and not await _sees(conn, principal, kind, resource_id):
        raise NotFound(f"No {kind} {resource_id}.")


async def organises(
    conn: Connection, principal: Principal | None, kind: str, resource_id: uuid.UUID
) -> bool:
    """Whether the caller is an organiser in charge of the resource (of its organisation, or
    the platform); no caller, or a reporting one, is not."""
    return (
        principal is not None
        and principal.role is Role.ORGANISER
        and await _sees(conn, principal, kind, resource_id)
    )


async def _sees(conn: Connection, principal: Principal, kind: str, resource_id: uuid.UUID) -> bool:
    if principal.platform:
        return True
    owner = await conn.fetchrow(_OWNER_QUERIES[kind], resource_id)
    return owner is not None and owner["organisation_id"] == principal.organisation_id


def scoped(
    principal: Principal | None,
    kind: str,
    resource_id: uuid.UUID,
    use_case: Callable[[Connection], Awaitable[T]],
) -> Callable[[Connection], Awaitable[T]]:
    """The use case, preceded in the same transaction by the scope check."""

    async def run(conn: Connection) -> T:
        await require_in_scope(conn, principal, kind, resource_id)
        return await use_case(conn)

    return run
