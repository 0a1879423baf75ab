from __future__ import annotations

import uuid
from typing import Annotated, Literal

import asyncpg
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from registration.api import views
from registration.api.deps import (
    CursorDep,
    IdempotencyKey,
    Limit,
    Organiser,
    TransactionsDep,
    idempotent_request,
)
from registration.api.schemas import Page
from registration.service import municipalities
from registration.service.commands import MunicipalityIn
from registration.unit_of_work import per_key

router = APIRouter(tags=["municipalities"])


class MunicipalityOut(BaseModel):
    municipality_id: uuid.UUID
    name: str
    country: str
    code: str | None
    kind: Literal["municipality", "county", "region", "district"]


class UnresolvedMunicipalityOut(BaseModel):
    name: str
    spellings: list[str]
    members: int


def _municipality(row: asyncpg.Record) -> MunicipalityOut:
    return MunicipalityOut(**{k: row[k] for k in MunicipalityOut.model_fields})


@router.get("/municipalities")
async def list_municipalities(
    tx: TransactionsDep,
    cursor: CursorDep,
    country: Annotated[str | None, Query(pattern="^[A-Za-z]{2}$")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Limit = 100,
) -> Page[MunicipalityOut]:
    """The register: Denmark's municipalities and regions, Norway's municipalities and
    counties, and what organisers added; `q` matches the start of a name, an alias or a word
    in them ("Rødovre Kommune" finds Rødovre), or the official number."""
    rows, next_cursor = await municipalities.list_municipalities(
        tx, country=country, q=q, limit=limit, cursor=cursor
    )
    return Page(
        items=[_municipality(r) for r in rows],
        next_cursor=next_cursor.encode() if next_cursor else None,
    )


@router.post("/municipalities", status_code=201, response_model=MunicipalityOut)
async def add_municipality(
    body: MunicipalityIn,
    request: Request,
    organiser: Organiser,
    tx: TransactionsDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Add a body the register lacks (a German Kreis); 409 if it holds it already (the same
    number, or the same name and kind, in that country)."""
    status, payload = await municipalities.add_municipality(
        tx,
        body,
        organiser=organiser,
        once=per_key(
            idempotent_request(key, request, body.model_dump_json(), caller=organiser),
            lambda row: views.answer(201, _municipality(row)),
        ),
    )
    return JSONResponse(payload, status_code=status)


@router.get("/municipalities/{municipality_id}")
async def get_municipality(municipality_id: uuid.UUID, tx: TransactionsDep) -> MunicipalityOut:
    return _municipality(await municipalities.get_municipality(tx, municipality_id))


@router.get("/unresolved-municipalities")
async def unresolved_municipalities(
    organiser: Organiser, tx: TransactionsDep
) -> Page[UnresolvedMunicipalityOut]:
    """Municipality names members typed that the register does not resolve (unknown, or
    ambiguous without more), grouped by key with each spelling and how many members typed
    it, most first: members of the caller's organisation's networks only. Names and counts,
    nothing about the people; add the missing ones with POST /municipalities."""
    names = await municipalities.unresolved_names(tx, organiser=organiser)
    return Page(items=[UnresolvedMunicipalityOut(**vars(n)) for n in names], next_cursor=None)
