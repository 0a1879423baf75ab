"""Organisations, their API keys, and the rule that an organisation sees only its own networks
(and their meetings, rosters and registrations)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import NamedTuple

import asyncpg

from registration.repository import organisations as organisation_rows
from registration.repository import tenancy
from registration.service.commands import ApiKeyIn, OrganisationIn
from registration.unit_of_work import Transactions
from tilmeld_shared.auth import API_KEY_PREFIX, Principal, Role
from tilmeld_shared.db import Connection
from tilmeld_shared.problems import Conflict, NotFound


def key_hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class IssuedKey(NamedTuple):
    api_key: asyncpg.Record
    key: str  # shown this once, never stored


async def create_organisation(tx: Transactions, command: OrganisationIn) -> asyncpg.Record:
    """A new organisation; its name is unique."""

    async def create(conn: Connection) -> asyncpg.Record:
        try:
            return await organisation_rows.insert(
                conn, organisation_id=uuid.uuid4(), name=command.name
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(
                f"An organisation named {command.name!r} exists.", slug="duplicate"
            ) from None

    return await tx.run(create)


async def list_organisations(tx: Transactions) -> list[asyncpg.Record]:
    return await tx.read(organisation_rows.all_by_name)


async def issue_api_key(
    tx: Transactions, organisation_id: uuid.UUID, command: ApiKeyIn
) -> IssuedKey:
    """A new key for the organisation; the key itself is returned this once, never stored."""

    async def issue(conn: Connection) -> IssuedKey:
        if await organisation_rows.get(conn, organisation_id) is None:
            raise NotFound(f"No organisation {organisation_id}.")
        key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        row = await organisation_rows.insert_api_key(
            conn,
            api_key_id=uuid.uuid4(),
            organisation_id=organisation_id,
            name=command.name,
            role=Role(command.role).value,
            key_hash=key_hash(key),
        )
        return IssuedKey(row, key)

    return await tx.run(issue)


async def list_api_keys(tx: Transactions, organisation_id: uuid.UUID) -> list[asyncpg.Record]:
    return await tx.read(lambda conn: organisation_rows.api_keys(conn, organisation_id))


async def revoke_api_key(tx: Transactions, api_key_id: uuid.UUID) -> asyncpg.Record:
    """Revoke a key; revoking it again changes nothing."""

    async def revoke(conn: Connection) -> asyncpg.Record:
        row = await organisation_rows.revoke_api_key(conn, api_key_id)
        if row is None:
            raise NotFound(f"No API key {api_key_id}.")
        return row

    return await tx.run(revoke)


async def principal_of_api_key_within(conn: Connection, key: str) -> Principal | None:
    row = await organisation_rows.active_api_key(conn, key_hash=key_hash(key))
    return Principal(Role(row["role"]), row["organisation_id"]) if row else None


async def caller_with_api_key(tx: Transactions, key: str) -> Principal | None:
    """Who an organisation's API key speaks for; None for an unknown or revoked key."""
    return await tx.read(lambda conn: principal_of_api_key_within(conn, key))


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
    owner = await tenancy.owner_of(conn, kind, resource_id)
    return owner is not None and owner["organisation_id"] == principal.organisation_id
