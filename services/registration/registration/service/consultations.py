"""Use cases of consultations: an organiser asks the network's audience questions in a window
the clock opens and closes; each person answers once and may amend until it closes; the
organiser exports the responses and sees registration's own counts of them."""

from __future__ import annotations

import uuid
from typing import Any, Literal, NamedTuple, TypeVar

import asyncpg

from registration.pagination import Cursor
from registration.service.dialogue_commands import ConsultationIn, ResponseIn, ResponsePatch
from registration.unit_of_work import Once, ServiceContext, Transactions
from tilmeld_shared.auth import Principal

R = TypeVar("R")
Status = Literal["scheduled", "open", "closed"]


class Submitted(NamedTuple):
    """A response as stored, and the token that amends it until the consultation closes."""

    response: asyncpg.Record
    token: str


class ConsultationList(NamedTuple):
    rows: list[asyncpg.Record]
    next_cursor: Cursor | None


class ResponseExport(NamedTuple):
    """The consultation and every response with who gave it and all answers (free text
    opened), for its organisers: JSON or CSV."""

    consultation: asyncpg.Record
    responses: list[dict[str, Any]]


async def create_consultation(
    tx: Transactions,
    ctx: ServiceContext,
    network_id: uuid.UUID,
    command: ConsultationIn,
    *,
    organiser: Principal,
    once: Once[asyncpg.Record, R],
) -> R:
    """An organiser of the network's own asks its audience questions in a window."""
    raise NotImplementedError


async def list_consultations(
    tx: Transactions,
    ctx: ServiceContext,
    network_id: uuid.UUID,
    *,
    limit: int,
    cursor: Cursor | None,
) -> ConsultationList:
    """The network's consultations in the order they open (public)."""
    raise NotImplementedError


async def get_consultation(
    tx: Transactions, ctx: ServiceContext, consultation_id: uuid.UUID
) -> asyncpg.Record | None:
    """The consultation with its network's title and status by the clock; None if none."""
    raise NotImplementedError


async def submit_response(
    tx: Transactions,
    ctx: ServiceContext,
    consultation_id: uuid.UUID,
    command: ResponseIn,
    *,
    once: Once[Submitted, R],
) -> R:
    """A person of the audience answers, once, while the consultation is open."""
    raise NotImplementedError


async def amend_response(
    tx: Transactions,
    ctx: ServiceContext,
    response_id: uuid.UUID,
    command: ResponsePatch,
) -> asyncpg.Record:
    """The person (with their token) replaces their answers, until the consultation closes."""
    raise NotImplementedError


async def export_responses(
    tx: Transactions, ctx: ServiceContext, consultation_id: uuid.UUID, *, organiser: Principal
) -> ResponseExport:
    """Every response, with who gave it and all answers, for the network's organisers."""
    raise NotImplementedError


async def consultation_results(
    tx: Transactions, ctx: ServiceContext, consultation_id: uuid.UUID, *, organiser: Principal
) -> dict[str, Any]:
    """Registration's own counts: responses counted and pending, the audience, per
    municipality, and per choice and scale question the count of each answer."""
    raise NotImplementedError
