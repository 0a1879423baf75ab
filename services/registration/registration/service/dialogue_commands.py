"""What the member dialogue's use cases are asked to do: consultations, responses, proposals,
votes and confirmations, validated before a use case runs (unknown fields refused, every
string bounded). Whether an answer fits its question is the use case's to judge: only it
knows the consultation's questions."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, StrictInt, StringConstraints, model_validator

from registration.service.commands import LongText, MemberIn, QuestionIn, Request, ShortText
from tilmeld_shared.validation import JSON_INTEGER, Rfc3339


def _printable_text(value: str) -> str:
    # Control characters and lone surrogates (which the database cannot store) are no answer.
    for char in value:
        code = ord(char)
        if (code < 32 and char not in "\t\n\r") or code == 127 or 0xD800 <= code <= 0xDFFF:
            raise ValueError("contains a control character or an invalid one")
    return value


Audience = Literal["members", "parties", "public"]
MOST_QUESTIONS = 50
# What a person writes in answer to a free-text question: several paragraphs at most.
AnswerText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=5000),
    AfterValidator(_printable_text),
    Field(json_schema_extra={"pattern": "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f]*$"}),
]


class ConsultationIn(Request):
    title: ShortText
    description: LongText | None = None
    questions: list[QuestionIn] = Field(
        min_length=1,
        max_length=MOST_QUESTIONS,
        description="Free text, a choice among `options` (at least two, distinct) or a scale "
        "from `min` to `max` (whole numbers, 1 to 5 unless said); each gets a `question_id`.",
    )
    opens_at: Rfc3339
    closes_at: Rfc3339
    audience: Audience = Field(
        description="Who is asked and may answer: the network's active members, the contacts "
        "of its joined parties (one voice per municipality), or anyone (the members invited)."
    )

    @model_validator(mode="after")
    def _window_in_order(self) -> Self:
        if self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        return self


class AnswerIn(Request):
    question_id: uuid.UUID
    value: Annotated[StrictInt, JSON_INTEGER] | AnswerText = Field(
        description="A choice: the option as written. A scale: a whole number from min to max. "
        "Free text: what the person writes (personal data, kept sealed)."
    )


class ResponseIn(Request):
    member: MemberIn
    answers: list[AnswerIn] = Field(max_length=MOST_QUESTIONS)


class ResponsePatch(Request):
    """An amendment: the answers as they now stand (all of them, as at submission), with the
    token the response was given."""

    token: ShortText
    answers: list[AnswerIn] = Field(max_length=MOST_QUESTIONS)


class ProposalIn(Request):
    member: MemberIn
    title: ShortText
    body: LongText


class VoteIn(Request):
    member: MemberIn


class TokenIn(Request):
    token: ShortText


class RejectIn(Request):
    reason: LongText | None = None


class ScheduleIn(Request):
    meeting_id: uuid.UUID
