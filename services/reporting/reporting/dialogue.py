"""Member dialogue's part of the projection: consultations, responses, proposals and votes.

Each event carries the full state of one response, proposal or vote (again when it is amended
or becomes counted), so each is one row and the newest version wins, as for registrations.
Counting happens when a report is read, per proposal or consultation id, so a vote applied
before its proposal is counted once the proposal is known.

What is kept is what counting needs: never a member id, a name or an address, a proposal's
body or a free-text answer (those travel sealed). Invitations and address confirmations carry
nothing to count and are not kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from reporting.repository import dialogue as repository
from reporting.repository.projection import RowState
from tilmeld_shared.db import Connection
from tilmeld_shared.events import (
    ConsultationState,
    Payload,
    ProposalState,
    ProposalVoted,
    ResponseSubmitted,
)

DIALOGUE_STATES = (ConsultationState, ResponseSubmitted, ProposalState, ProposalVoted)
# A proposal's title is kept while the network's pages show it, and dropped otherwise.
PUBLIC_PROPOSALS = ("published", "scheduled")


@dataclass
class DialogueBatch:
    """Each dialogue row's newest state in a batch."""

    consultations: dict[uuid.UUID, RowState] = field(default_factory=dict)
    responses: dict[uuid.UUID, RowState] = field(default_factory=dict)
    proposals: dict[uuid.UUID, RowState] = field(default_factory=dict)
    votes: dict[uuid.UUID, RowState] = field(default_factory=dict)

    def add(self, payload: Payload, version: int) -> None:
        match payload:
            case ConsultationState():  # opened, closed
                _newest(
                    self.consultations, payload.consultation_id, version, _consultation(payload)
                )
            case ResponseSubmitted():
                _newest(self.responses, payload.response_id, version, _response(payload))
            case ProposalState():  # submitted, published, rejected, scheduled
                _newest(self.proposals, payload.proposal_id, version, _proposal(payload))
            case ProposalVoted():  # and withdrawn
                _newest(self.votes, payload.vote_id, version, _vote(payload))
            case _:
                pass

    async def write(self, conn: Connection) -> None:
        """One statement per table that has rows in this batch."""
        if self.consultations:
            await repository.upsert_consultations(conn, self.consultations)
        if self.responses:
            await repository.upsert_responses(conn, self.responses)
        touched = {row.values["consultation_id"] for row in self.responses.values()}
        if touched or self.consultations:
            await repository.drop_text_answers(conn, [*touched, *self.consultations])
        if self.proposals:
            await repository.upsert_proposals(conn, self.proposals)
        if self.votes:
            await repository.upsert_votes(conn, self.votes)


def _newest(
    rows: dict[uuid.UUID, RowState], key: uuid.UUID, version: int, values: dict[str, Any]
) -> None:
    """Keep the state of the highest version seen for the row (the table's guard does the same
    against what is already stored)."""
    current = rows.get(key)
    if current is None or version > current.version:
        rows[key] = RowState(version, values)


def _consultation(payload: ConsultationState) -> dict[str, Any]:
    return {
        "network_id": payload.network_id,
        "organisation_id": payload.organisation_id,
        "title": payload.title,
        "status": payload.status,
        "audience": payload.audience,
        "audience_size": payload.audience_size,
        "opens_at": payload.opens_at,
        "closes_at": payload.closes_at,
        # The organisation's questions: what the report names and the answers it counts.
        "questions": [
            question.model_dump(mode="json", include={"question_id", "text", "kind", "options"})
            | {"min": question.min, "max": question.max}
            for question in payload.questions
        ],
    }


def _response(payload: ResponseSubmitted) -> dict[str, Any]:
    """Who answered stays out: the municipality and the choice and scale answers only."""
    return {
        "consultation_id": payload.consultation_id,
        "network_id": payload.network_id,
        "status": payload.status,
        "municipality_id": payload.municipality_id,
        "municipality": payload.municipality,
        "country": payload.country,
        "answers": {str(answer.question_id): answer.value for answer in payload.answers},
        "submitted_at": payload.submitted_at,
    }


def _proposal(payload: ProposalState) -> dict[str, Any]:
    """Not its author, body or the reason for a rejection (written to the author)."""
    return {
        "network_id": payload.network_id,
        "title": payload.title if payload.status in PUBLIC_PROPOSALS else None,
        "status": payload.status,
        "counted": payload.counted,
        "meeting_id": payload.meeting_id,
        "submitted_at": payload.submitted_at,
        "decided_at": payload.decided_at,
    }


def _vote(payload: ProposalVoted) -> dict[str, Any]:
    return {
        "proposal_id": payload.proposal_id,
        "network_id": payload.network_id,
        "status": payload.status,
        "municipality_id": payload.municipality_id,
        "country": payload.country,
        "voted_at": payload.voted_at,
    }
