"""Platform administration: organisations and the API keys their organisers use."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from asyncpg import Record
from fastapi import APIRouter
from pydantic import BaseModel, Field

from registration.api.deps import Caller, PlatformAdmin, TransactionsDep
from registration.api.schemas import Name, Request
from registration.service import organisations
from tilmeld_shared.auth import Role

router = APIRouter(tags=["organisations"])


class OrganisationIn(Request):
    name: Name


class OrganisationOut(BaseModel):
    organisation_id: uuid.UUID
    name: str
    created_at: datetime


class ApiKeyIn(Request):
    name: Name = Field(description="What the key is for, e.g. 'KL culture team'.")
    role: Literal["organiser", "reporting"] = "organiser"


class ApiKeyOut(BaseModel):
    api_key_id: uuid.UUID
    organisation_id: uuid.UUID
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    key: str | None = Field(None, description="Shown once, when the key is created.")


def _organisation(row: Record) -> OrganisationOut:
    return OrganisationOut(
        organisation_id=row["id"], name=row["name"], created_at=row["created_at"]
    )


def _key(row: Record, key: str | None = None) -> ApiKeyOut:
    fields = {name: row[name] for name in ("organisation_id", "name", "role", "created_at")}
    return ApiKeyOut(api_key_id=row["id"], revoked_at=row["revoked_at"], key=key, **fields)


@router.post("/organisations", status_code=201)
async def create_organisation(
    body: OrganisationIn, _: PlatformAdmin, tx: TransactionsDep
) -> OrganisationOut:
    return _organisation(
        await tx.run(lambda conn: organisations.create_organisation(conn, body.name))
    )


@router.get("/organisations")
async def list_organisations(_: PlatformAdmin, tx: TransactionsDep) -> list[OrganisationOut]:
    rows = await tx.read(organisations.list_organisations)
    return [_organisation(row) for row in rows]


@router.post("/organisations/{organisation_id}/api-keys", status_code=201)
async def issue_api_key(
    organisation_id: uuid.UUID, body: ApiKeyIn, _: PlatformAdmin, tx: TransactionsDep
) -> ApiKeyOut:
    row, key = await tx.run(
        lambda conn: organisations.issue_api_key(
            conn, organisation_id, name=body.name, role=Role(body.role)
        )
    )
    return _key(row, key)


@router.get("/organisations/{organisation_id}/api-keys")
async def list_api_keys(
    organisation_id: uuid.UUID, _: PlatformAdmin, tx: TransactionsDep
) -> list[ApiKeyOut]:
    rows = await tx.read(lambda conn: organisations.list_api_keys(conn, organisation_id))
    return [_key(row) for row in rows]


@router.post("/api-keys/{api_key_id}/revoke")
async def revoke_api_key(api_key_id: uuid.UUID, _: PlatformAdmin, tx: TransactionsDep) -> ApiKeyOut:
    return _key(await tx.run(lambda conn: organisations.revoke_api_key(conn, api_key_id)))


class WhoAmI(BaseModel):
    role: str
    organisation_id: uuid.UUID | None = Field(description="null for the platform's own tokens")


@router.get("/whoami")
async def whoami(caller: Caller) -> WhoAmI:
    """Who a credential speaks for; the reporting service asks this about API keys."""
    return WhoAmI(role=caller.role.value, organisation_id=caller.organisation_id)
