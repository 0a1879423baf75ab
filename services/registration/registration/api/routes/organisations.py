"""Platform administration: organisations and the API keys their organisers use."""

from __future__ import annotations

import uuid

from asyncpg import Record
from fastapi import APIRouter
from pydantic import BaseModel, Field

from registration.api.deps import Caller, PlatformAdmin, TransactionsDep
from registration.api.schemas import ApiKeyIn, ApiKeyOut, OrganisationIn, OrganisationOut
from registration.service import organisations

router = APIRouter(tags=["organisations"])


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
    return _organisation(await organisations.create_organisation(tx, body))


@router.get("/organisations")
async def list_organisations(_: PlatformAdmin, tx: TransactionsDep) -> list[OrganisationOut]:
    return [_organisation(row) for row in await organisations.list_organisations(tx)]


@router.post("/organisations/{organisation_id}/api-keys", status_code=201)
async def issue_api_key(
    organisation_id: uuid.UUID, body: ApiKeyIn, _: PlatformAdmin, tx: TransactionsDep
) -> ApiKeyOut:
    issued = await organisations.issue_api_key(tx, organisation_id, body)
    return _key(issued.api_key, issued.key)


@router.get("/organisations/{organisation_id}/api-keys")
async def list_api_keys(
    organisation_id: uuid.UUID, _: PlatformAdmin, tx: TransactionsDep
) -> list[ApiKeyOut]:
    return [_key(row) for row in await organisations.list_api_keys(tx, organisation_id)]


@router.post("/api-keys/{api_key_id}/revoke")
async def revoke_api_key(api_key_id: uuid.UUID, _: PlatformAdmin, tx: TransactionsDep) -> ApiKeyOut:
    return _key(await organisations.revoke_api_key(tx, api_key_id))


class WhoAmI(BaseModel):
    role: str
    organisation_id: uuid.UUID | None = Field(description="null for the platform's own tokens")


@router.get("/whoami")
async def whoami(caller: Caller) -> WhoAmI:
    """Who a credential speaks for; the reporting service asks this about API keys."""
    return WhoAmI(role=caller.role.value, organisation_id=caller.organisation_id)
