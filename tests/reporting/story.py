"""Events of one network, written as the registration service would, for the reporting tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tilmeld_shared.events import (
    AttendanceRecorded,
    MeetingCancelled,
    MeetingScheduled,
    MemberEnrolled,
    NetworkCreated,
    PartyApplied,
    PartyDeclined,
    PartyJoined,
    PartyState,
    PartyWithdrew,
    Payload,
    RegistrationCancelled,
    RegistrationConfirmed,
    new_envelope,
)

DAY = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday

PARTY_EVENTS: dict[str, type[PartyState]] = {
    "applied": PartyApplied,
    "joined": PartyJoined,
    "declined": PartyDeclined,
    "withdrawn": PartyWithdrew,
}


class Story:
    """Events of one network, written as the registration service would."""

    def __init__(self) -> None:
        self.network = uuid.uuid4()
        self.versions: dict[uuid.UUID, int] = {}
        self.events: list[Any] = []

    def add(self, aggregate: uuid.UUID, payload: Payload) -> None:
        self.versions[aggregate] = self.versions.get(aggregate, 0) + 1
        self.events.append(
            (
                new_envelope(
                    payload,
                    aggregate_id=aggregate,
                    aggregate_version=self.versions[aggregate],
                    correlation_id="t",
                ),
                payload,
            )
        )

    def created(
        self, title: str = "Grøn omstilling", organisation_id: uuid.UUID | None = None
    ) -> None:
        self.add(
            self.network,
            NetworkCreated(
                network_id=self.network,
                organisation_id=organisation_id,
                title=title,
                language="da",
                max_companions=1,
                status="open",
            ),
        )

    def member(
        self,
        municipality: str,
        when: datetime,
        *,
        municipality_id: uuid.UUID | None = None,
        country: str | None = None,
    ) -> uuid.UUID:
        member, enrolment = uuid.uuid4(), uuid.uuid4()
        self.add(
            enrolment,
            MemberEnrolled(
                enrolment_id=enrolment,
                network_id=self.network,
                member_id=member,
                municipality=municipality,
                role="Kulturchef",
                language="da",
                enrolled_at=when,
                municipality_id=municipality_id,
                country=country,
            ),
        )
        return member

    def meeting(self, starts_at: datetime, capacity: int = 10) -> uuid.UUID:
        meeting = uuid.uuid4()
        self.add(
            meeting,
            MeetingScheduled(
                meeting_id=meeting,
                network_id=self.network,
                title="Møde",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=2),
                timezone="Europe/Copenhagen",
                capacity=capacity,
            ),
        )
        return meeting

    def cancel_meeting(self, meeting: uuid.UUID, when: datetime) -> None:
        self.add(
            meeting,
            MeetingCancelled(meeting_id=meeting, network_id=self.network, cancelled_at=when),
        )

    def registration(
        self,
        meeting: uuid.UUID,
        member: uuid.UUID,
        municipality: str,
        when: datetime,
        *,
        companions: int = 0,
        cancelled_at: datetime | None = None,
        came: bool = False,
        municipality_id: uuid.UUID | None = None,
        country: str | None = None,
    ) -> None:
        state: dict[str, Any] = dict(
            registration_id=uuid.uuid4(),
            meeting_id=meeting,
            network_id=self.network,
            member_id=member,
            municipality=municipality,
            language="da",
            seats=1 + companions,
            companions=companions,
            registered_at=when,
            municipality_id=municipality_id,
            country=country,
        )
        self.add(meeting, RegistrationConfirmed(**state, status="confirmed"))
        if came:
            self.add(meeting, AttendanceRecorded(**state, status="confirmed", checked_in_at=when))
        if cancelled_at:
            self.add(
                meeting,
                RegistrationCancelled(
                    **state,
                    status="cancelled",
                    previous_status="confirmed",
                    cancelled_at=cancelled_at,
                    cancelled_by="member",
                ),
            )

    def party(
        self,
        municipality: str,
        municipality_id: uuid.UUID,
        *statuses: str,
        applied_at: datetime = DAY,
        contact_member_id: uuid.UUID | None = None,
        party_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """A party's events, one per status in turn, each decided a day after the one before."""
        party = party_id or uuid.uuid4()
        for step, status in enumerate(statuses):
            self.add(
                party,
                PARTY_EVENTS[status](
                    party_id=party,
                    network_id=self.network,
                    municipality_id=municipality_id,
                    municipality=municipality,
                    country="DK",
                    municipality_code="175",
                    status=status,
                    previous_status=statuses[step - 1] if step else None,
                    applied_at=applied_at,
                    decided_at=applied_at + timedelta(days=step) if step else None,
                    reason="Ikke i målgruppen" if status == "declined" else None,
                    contact_member_id=contact_member_id,
                    language="da",
                    network_contact_email="kultur@kl.example",
                ),
            )
        return party
