"""What the report endpoints answer, as JSON. Counting rules are in docs/api.md."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from tilmeld_shared.events import MunicipalityKind

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
    enrolments_ended: int = Field(0, description="Ended with the network's term.")
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
    municipality: str = Field(
        description="The register's name where it is a party, else the name as typed."
    )
    municipality_id: uuid.UUID | None = Field(
        description="The register entry; null: the name matched none and is kept as typed."
    )
    country: str | None = Field(description="ISO 3166-1 alpha-2; null when unresolved.")
    members_active: int
    networks: int
    parties: int = Field(description="Networks it is a joined party of.")
    registrations_confirmed: int
    attended: int


PartyStatus = Literal["applied", "joined", "declined", "withdrawn"]


class PartyCounts(BaseModel):
    """One municipality's party to the network. Its counts are the municipality's in this
    network (matched by `municipality_id`), whatever the party's status."""

    party_id: uuid.UUID
    municipality: str
    municipality_id: uuid.UUID
    country: str = Field(description="ISO 3166-1 alpha-2.")
    municipality_code: str | None
    municipality_kind: MunicipalityKind
    status: PartyStatus
    applied_at: datetime
    decided_at: datetime | None
    joined_at: datetime | None = Field(
        description="When it joined (kept after a withdrawal); null if it never joined."
    )
    members_active: int = Field(description="Active enrolments in the network from it.")
    meetings_attended: int = Field(
        description="Held meetings of the network with at least one attendee from it."
    )
    meetings_held: int = Field(
        description="Meetings of the network that have ended and were not cancelled."
    )
    coverage: float = Field(
        description="meetings_attended / meetings_held, rounded to 4 decimal places (halves "
        "away from zero); 0 when none has been held."
    )


class PartiesReport(BaseModel):
    network_id: uuid.UUID
    title: str
    meetings_held: int
    parties_joined: int
    parties_absent: int = Field(
        description="Joined parties that attended none of the held meetings (0 until one is held)."
    )
    members_active: int = Field(description="Active enrolments in the network.")
    members_from_parties: int = Field(description="Of those, from joined parties.")
    members_unresolved: int = Field(
        description="Of those, whose municipality matched no register entry."
    )
    items: list[PartyCounts] = Field(description="Every party, by municipality name.")
    as_of: AsOf
    next_cursor: str | None


T = TypeVar("T")


class ReportPage(BaseModel, Generic[T]):
    items: list[T]
    as_of: AsOf
    next_cursor: str | None


class Overview(BaseModel):
    """The headline figures of one network (`network_id`), or of every network the reader sees."""

    network_id: uuid.UUID | None
    members_active: int = Field(description="People with an active enrolment (each once).")
    members_week_ago: int = Field(description="The same, seven days ago.")
    members_change: int = Field(description="members_active - members_week_ago.")
    meetings_upcoming: int = Field(description="Meetings not cancelled that have yet to start.")
    seats_offered: int = Field(description="Their capacity, summed.")
    seats_confirmed: int = Field(description="Their confirmed seats (companions included).")
    waitlisted: int = Field(description="Registrations waiting for a seat at them.")
    fill_rate: float | None = Field(
        description="seats_confirmed / seats_offered, rounded to 4 places; null when none offered."
    )
    as_of: AsOf


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
