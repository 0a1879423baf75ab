"""`GET /reports/...` as JSON, or CSV with `Accept: text/csv`."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response

from reporting import queries
from reporting.api.auth import PlatformReader, Reader
from reporting.api.schemas import (
    CSV_TOO,
    MeetingListItem,
    MeetingReport,
    MemberFacts,
    MunicipalityCounts,
    NetworkCounts,
    NetworkReport,
    Overview,
    PartiesReport,
    PipelineHealth,
    ReportPage,
    TimeseriesPoint,
)
from tilmeld_shared.csv_export import write_csv
from tilmeld_shared.db import Connection
from tilmeld_shared.validation import Rfc3339


async def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


Pool = Annotated[asyncpg.Pool, Depends(_pool)]


@contextlib.asynccontextmanager
async def one_moment(pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    """A connection whose reads all see the same committed state. A report is several queries
    (its figures, its parts, its as-of time) while the consumer commits batches: read apart,
    a batch applied between two of them would count in one part of the report and not in
    another (a read-only transaction, repeatable read)."""
    async with (
        pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        yield conn


router = APIRouter(prefix="/reports", tags=["reports"])


def _wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "")


def respond(request: Request, rows: list[dict[str, Any]], body: Any) -> Any:
    """The body, which the route's response model turns into JSON; or, when asked for, CSV of
    the rows (one per item, `as_of` as a column)."""
    if not _wants_csv(request):
        return body
    encoded = jsonable_encoder(rows)
    header = list(encoded[0]) if encoded else []
    text = write_csv(header, ([row[name] for name in header] for row in encoded)) if header else ""
    return Response(text, media_type="text/csv; charset=utf-8")


@router.get("/overview", response_model=Overview)
async def overview(pool: Pool, reader: Reader, network_id: uuid.UUID | None = None) -> Any:
    """The headline figures: members now, a week ago and the change, and how full the meetings
    still to start are; for one network, or every network the reader may see."""
    async with one_moment(pool) as conn:
        return await queries.overview(
            conn, network_id=network_id, organisation_id=reader.organisation_id
        )


@router.get("/meetings/{meeting_id}", response_model=MeetingReport, responses=CSV_TOO)
async def meeting_report(
    meeting_id: uuid.UUID, request: Request, pool: Pool, reader: Reader
) -> Any:
    async with one_moment(pool) as conn:
        report = await queries.meeting_report(
            conn, meeting_id, organisation_id=reader.organisation_id
        )
    return respond(request, [report], report)


@router.get("/networks", response_model=ReportPage[NetworkCounts], responses=CSV_TOO)
async def network_reports(request: Request, pool: Pool, reader: Reader) -> Any:
    async with one_moment(pool) as conn:
        reports, as_of = await queries.network_reports(conn, organisation_id=reader.organisation_id)
    return respond(
        request,
        [{**r, "as_of": as_of} for r in reports],
        {"items": reports, "as_of": as_of, "next_cursor": None},
    )


@router.get("/networks/{network_id}", response_model=NetworkReport, responses=CSV_TOO)
async def network_report(
    network_id: uuid.UUID, request: Request, pool: Pool, reader: Reader
) -> Any:
    async with one_moment(pool) as conn:
        report = await queries.network_report(
            conn, network_id, organisation_id=reader.organisation_id
        )
    return respond(request, [report], report)


@router.get("/networks/{network_id}/parties", response_model=PartiesReport, responses=CSV_TOO)
async def party_report(network_id: uuid.UUID, request: Request, pool: Pool, reader: Reader) -> Any:
    """The network's parties (municipalities), each with its active members, the held meetings
    it attended and its coverage; CSV: one row per party."""
    async with one_moment(pool) as conn:
        report = await queries.party_report(
            conn, network_id, organisation_id=reader.organisation_id
        )
    rows = [
        {"network_id": report["network_id"], **party, "as_of": report["as_of"]}
        for party in report["items"]
    ]
    return respond(request, rows, report)


Since = Annotated[Rfc3339 | None, Query(alias="from", description="inclusive, RFC 3339")]
Until = Annotated[Rfc3339 | None, Query(alias="to", description="exclusive, RFC 3339")]


@router.get("/meetings", response_model=ReportPage[MeetingListItem], responses=CSV_TOO)
async def meeting_reports(
    request: Request,
    pool: Pool,
    reader: Reader,
    network_id: uuid.UUID | None = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Any:
    """Every meeting's report (filter by network and by start time)."""
    async with one_moment(pool) as conn:
        reports, as_of = await queries.meeting_reports(
            conn,
            network_id=network_id,
            since=since,
            until=until,
            limit=limit,
            organisation_id=reader.organisation_id,
        )
    return respond(
        request,
        [{**r, "as_of": as_of} for r in reports],
        {"items": reports, "as_of": as_of, "next_cursor": None},
    )


@router.get("/municipalities", response_model=ReportPage[MunicipalityCounts], responses=CSV_TOO)
async def municipality_reports(
    request: Request,
    pool: Pool,
    reader: Reader,
    network_id: uuid.UUID | None = None,
    since: Since = None,
    until: Until = None,
) -> Any:
    async with one_moment(pool) as conn:
        reports, as_of = await queries.municipality_reports(
            conn,
            network_id=network_id,
            since=since,
            until=until,
            organisation_id=reader.organisation_id,
        )
    return respond(
        request,
        [{**r, "as_of": as_of} for r in reports],
        {"items": reports, "as_of": as_of, "next_cursor": None},
    )


_AS_OF_HEADER = {
    "X-As-Of": {
        "description": "The time of the newest event applied (empty before the first).",
        "schema": {"type": "string"},
    }
}


@router.get(
    "/timeseries",
    response_model=list[TimeseriesPoint],
    responses={200: {**CSV_TOO[200], "headers": _AS_OF_HEADER}},
)
async def timeseries(
    request: Request,
    response: Response,
    pool: Pool,
    reader: Reader,
    metric: Literal["enrolments", "registrations", "cancellations"],
    bucket: Literal["day", "week"] = "day",
    network_id: uuid.UUID | None = None,
    since: Since = None,
    until: Until = None,
) -> Any:
    """Counts per day or ISO week (weeks start on Monday, UTC): every bucket from `from` (else
    the first count) to `to` (else the last count), zero where nothing happened; at most
    3,660 buckets."""
    async with one_moment(pool) as conn:
        points, as_of = await queries.timeseries(
            conn,
            metric=metric,
            bucket=bucket,
            network_id=network_id,
            since=since,
            until=until,
            organisation_id=reader.organisation_id,
        )
    # The contract's shape is a bare list; each point carries `as_of`, and so does a header.
    points = [{**point, "as_of": as_of} for point in points]
    answer = respond(request, points, points)
    # Set on the CSV answer itself; a JSON answer is built from `response`'s headers.
    headers = answer.headers if isinstance(answer, Response) else response.headers
    headers["X-As-Of"] = as_of.isoformat() if as_of else ""
    return answer


@router.get("/pipeline", response_model=PipelineHealth)
async def pipeline(request: Request, _: PlatformReader) -> Any:
    """Outbox backlog, consumer lag per group, dead letters per topic."""
    return await request.app.state.pipeline.snapshot()


members_router = APIRouter(prefix="/members", tags=["members"])


@members_router.get("/{member_id}/export")
async def export_member(member_id: uuid.UUID, pool: Pool, _: PlatformReader) -> MemberFacts:
    """The facts kept under the person's (random) id: no names or addresses are held here."""
    async with one_moment(pool) as conn:
        facts = await queries.member_facts(conn, member_id)
    return MemberFacts(**facts)
