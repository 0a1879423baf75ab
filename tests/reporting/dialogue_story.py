"""Member dialogue's events, written as the registration service would: each consultation,
response, proposal and vote an aggregate of its own, every event its full state."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from tests.reporting.story import DAY, Story
from tilmeld_shared.events import (
    Answer,
    ConsultationClosed,
    ConsultationOpened,
    PersonalData,
    ProposalPublished,
    ProposalRejected,
    ProposalScheduled,
    ProposalState,
    ProposalSubmitted,
    ProposalVoted,
    ProposalVoteWithdrawn,
    Question,
    ResponseSubmitted,
)

PROPOSAL_EVENTS: dict[str, type[ProposalState]] = {
    "submitted": ProposalSubmitted,
    "published": ProposalPublished,
    "rejected": ProposalRejected,
    "scheduled": ProposalScheduled,
}
# What a person wrote in a free-text answer, a proposal's body, a rejection's reason: none of
# it may reach a reporting table.
FREE_TEXT = "Mere samarbejde med biblioteket i Ishøj, skriver Karen Hansen"
BODY = "Et oplæg om varmeplaner, ønsket af Ole Klimarådgiver"
REASON = "Emnet er allerede på programmet, kære Ole"


class DialogueStory(Story):
    """A network's consultations, proposals and votes (on top of `Story`)."""

    def __init__(self) -> None:
        super().__init__()
        self.choice = Question(
            question_id=uuid.uuid4(),
            text="Hvad skal netværket prioritere?",
            kind="choice",
            options=["Bibliotek", "Musik", "Kulturarv"],
        )
        self.scale = Question(
            question_id=uuid.uuid4(), text="Hvor tilfreds er du?", kind="scale", min=1, max=5
        )
        self.text = Question(question_id=uuid.uuid4(), text="Hvad mangler?", kind="text")

    def consultation(
        self,
        *,
        audience: str = "members",
        audience_size: int | None = 10,
        closed: bool = False,
        organisation_id: uuid.UUID | None = None,
        title: str = "Kultur for framtida: Medlemsdialog",
    ) -> uuid.UUID:
        consultation = uuid.uuid4()
        state: dict[str, Any] = dict(
            consultation_id=consultation,
            network_id=self.network,
            organisation_id=organisation_id,
            title=title,
            questions=[self.choice, self.scale, self.text],
            opens_at=DAY,
            closes_at=DAY + timedelta(days=14),
            audience=audience,
            language="nb",
            audience_size=audience_size,
        )
        self.add(consultation, ConsultationOpened(**state, status="open"))
        if closed:
            self.add(consultation, ConsultationClosed(**state, status="closed"))
        return consultation

    def response(
        self,
        consultation: uuid.UUID,
        *statuses: tuple[str, str | None, int | None],
        municipality: str | None = "Køge",
        municipality_id: uuid.UUID | None = None,
        response_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """A response's events, one per (status, choice, scale) in turn."""
        response = response_id or uuid.uuid4()
        member = uuid.uuid4()
        for step, (status, choice, scale) in enumerate(statuses):
            answers = [Answer(question_id=self.choice.question_id, value=choice)] if choice else []
            if scale is not None:
                answers.append(Answer(question_id=self.scale.question_id, value=scale))
            self.add(
                response,
                ResponseSubmitted(
                    response_id=response,
                    consultation_id=consultation,
                    network_id=self.network,
                    member_id=member,
                    language="da",
                    municipality=municipality,
                    municipality_id=municipality_id,
                    country="DK" if municipality_id else None,
                    status=status,
                    submitted_at=DAY + timedelta(hours=1),
                    amended_at=DAY + timedelta(hours=1 + step) if step else None,
                    answers=answers,
                    personal=PersonalData(
                        name="Karen Hansen",
                        email="karen@ishoj.example",
                        answers={str(self.text.question_id): FREE_TEXT},
                    ),
                ),
            )
        return response

    def proposal(
        self,
        title: str,
        *statuses: str,
        counted: bool = True,
        submitted_at: Any = DAY,
        meeting_id: uuid.UUID | None = None,
        proposal_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """A proposal's events, one per status in turn."""
        proposal = proposal_id or uuid.uuid4()
        for step, status in enumerate(statuses):
            self.add(
                proposal,
                PROPOSAL_EVENTS[status](
                    proposal_id=proposal,
                    network_id=self.network,
                    member_id=uuid.uuid4(),
                    language="da",
                    title=title,
                    body=BODY,
                    status=status,
                    counted=counted,
                    submitted_at=submitted_at,
                    decided_at=submitted_at + timedelta(days=step) if step else None,
                    reason=REASON if status == "rejected" else None,
                    meeting_id=meeting_id if status == "scheduled" else None,
                    personal=PersonalData(name="Ole Klimarådgiver", email="ole@koege.example"),
                ),
            )
        return proposal

    def vote(
        self,
        proposal: uuid.UUID,
        *statuses: str,
        municipality_id: uuid.UUID | None = None,
        vote_id: uuid.UUID | None = None,
        member_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """A vote's events, one per status in turn (`withdrawn` as ProposalVoteWithdrawn)."""
        vote = vote_id or uuid.uuid4()
        member = member_id or uuid.uuid4()
        for status in statuses:
            kind = ProposalVoteWithdrawn if status == "withdrawn" else ProposalVoted
            self.add(
                vote,
                kind(
                    vote_id=vote,
                    proposal_id=proposal,
                    network_id=self.network,
                    member_id=member,
                    language="da",
                    municipality="Køge" if municipality_id else None,
                    municipality_id=municipality_id,
                    country="DK" if municipality_id else None,
                    status=status,
                    voted_at=DAY + timedelta(days=1),
                ),
            )
        return vote
