"""What the report endpoints answer, as JSON. Counting rules are in docs/api.md."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

AsOf = datetime | None  # the time of the newest event applied; null before the first


class MeetingCounts(BaseModel):
    meeting_id: uuid.UUID
    network_id: uuid.UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    status: str
    capacity: int
    seats_confirmed: int
    registrations_confirmed: int
    companions_confirmed: int
    waitlisted: int
    cancelled: int
    attended: int
    no_shows: int | None = Field(description="Null until the meeting has ended.")
    utilisation: float | None = Field(description="seats_confirmed / capacity; null at 0.")


class MeetingReport(MeetingCounts):
    as_of: AsOf


class MeetingListItem(MeetingCounts):
    network_title: str | None


class NetworkCounts(BaseModel):
    network_id: uuid.UUID
    title: str
    members_active: int
    enrolments_total: int
    enrolments_cancelled: int
    meetings_scheduled: int
    meetings_cancelled: int
    registrations_confirmed: int
    seats_confirmed: int
    attended: int
    attendance_rate: float | None = Field(
        description="Attended of those confirmed for meetings that have ended; null before one."
    )
    municipalities: int


class NetworkReport(NetworkCounts):
    as_of: AsOf


class MunicipalityCounts(BaseModel):
    municipality: str
    members_active: int
    networks: int
    registrations_confirmed: int
    attended: int


T = TypeVar("T")


class ReportPage(BaseModel, Generic[T]):
    items: list[T]
    as_of: AsOf
    next_cursor: str | None


class TimeseriesPoint(BaseModel):
    bucket_start: datetime
    value: int
    as_of: AsOf


class PipelineHealth(BaseModel):
    outbox: dict[str, Any] | None = Field(description="The registration service's outbox.")
    consumer_lag: dict[str, int] | None = Field(description="Per consumer group; null: unknown.")
    dead_letters: dict[str, int] | None = Field(description="Per DLQ topic; null: unknown.")
    kafka: bool


class MemberFacts(BaseModel):
    """What reporting keeps under a member's random id: no names or addresses."""

    enrolments: list[dict[str, Any]]
    registrations: list[dict[str, Any]]


# Every report is JSON by default and CSV with `Accept: text/csv` (one row per item).
CSV_TOO: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON; with `Accept: text/csv`, CSV with a header row, one row per item "
        "and `as_of` as a column (text cells that start like a formula begin with `'`).",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
