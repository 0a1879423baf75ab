"""Feedback on held meetings: projected from the meetings' events (their feedback questions)
and FeedbackSubmitted (choice and scale answers, tied to no one), and the meeting's results.
Counting rules are in docs/api.md (feedback)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from reporting.dialogue_reports import COUNTED_KINDS, question_results
from reporting.repository import feedback as repository
from reporting.repository.projection import RowState
from reporting.repository.reports import as_of
from tilmeld_shared.db import Connection
from tilmeld_shared.events import FeedbackSubmitted, MeetingScheduled, Payload
from tilmeld_shared.problems import NotFound


@dataclass
class FeedbackBatch:
    """Each meeting's newest feedback questions in a batch, and the feedback given."""

    forms: dict[uuid.UUID, RowState] = field(default_factory=dict)
    responses: dict[uuid.UUID, RowState] = field(default_factory=dict)

    def add(self, payload: Payload, version: int) -> None:
        match payload:
            case MeetingScheduled():  # and MeetingUpdated
                current = self.forms.get(payload.meeting_id)
                if current is None or version > current.version:
                    questions = [
                        question.model_dump(mode="json", include={"question_id", "text", "kind"})
                        | {"options": question.options, "min": question.min, "max": question.max}
                        for question in payload.feedback
                    ]
                    self.forms[payload.meeting_id] = RowState(version, {"questions": questions})
            case FeedbackSubmitted():
                self.responses[payload.feedback_id] = RowState(
                    version,
                    {
                        "meeting_id": payload.meeting_id,
                        "answers": {str(a.question_id): a.value for a in payload.answers},
                        "submitted_at": payload.submitted_at,
                    },
                )
            case _:
                pass

    async def write(self, conn: Connection) -> None:
        if self.forms:
            await repository.upsert_forms(conn, self.forms)
        if self.responses:
            await repository.insert_responses(conn, self.responses)


async def feedback_report(
    conn: Connection, meeting_id: uuid.UUID, *, organisation_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """How many gave feedback on the meeting, and per choice or scale question how often each
    answer was given (a scale's mean too)."""
    row = await repository.meeting(conn, meeting_id, organisation_id=organisation_id)
    if row is None:
        raise NotFound(f"No events seen yet for meeting {meeting_id}.")
    counts: dict[str, dict[Any, int]] = defaultdict(dict)
    for answer in await repository.answer_counts(conn, meeting_id):
        counts[answer["question_id"]][answer["value"]] = answer["count"]
    report = dict(row)
    questions = report.pop("questions")
    return {
        **report,
        "questions": [
            question_results(question, counts.get(question["question_id"], {}))
            for question in questions
            if question["kind"] in COUNTED_KINDS
        ],
        "as_of": await as_of(conn),
    }
