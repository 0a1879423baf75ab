"""What the member dialogue's use cases are asked to do: consultations, responses, proposals,
votes and confirmations, validated before a use case runs (unknown fields refused, every
string bounded). Whether an answer fits its question is the use case's to judge: only it
knows the consultation's questions."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal, Self

from pydantic import Field, StrictBool, StrictInt, StringConstraints, model_validator

from registration.service.commands import LongText, MemberIn, Request, ShortText
from tilmeld_shared.validation import JSON_INTEGER, Rfc3339

Audience = Literal["members", "parties", "public"]
ScalePoint = Annotated[StrictInt, Field(ge=-100, le=100), JSON_INTEGER]
# A scale has at most this many points (0..10 is the widest in common use).
MOST_SCALE_POINTS = 11
MOST_QUESTIONS = 50
# What a person writes in answer to a free-text question: several paragraphs at most.
AnswerText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=5000),
    Field(json_schema_extra={"pattern": "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f]*$"}),
]


class ConsultationQuestionIn(Request):
    """A question of a consultation: free text, a choice among `options` (at least two,
    distinct), or a scale from `min` to `max` (whole numbers, 1 to 5 unless said)."""

    text: ShortText
    kind: Literal["text", "choice", "scale"]
    options: list[ShortText] = Field(default_factory=list, max_length=30)
    required: StrictBool = False
    min: ScalePoint | None = None
    max: ScalePoint | None = None

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Self:
        if self.kind == "choice":
            if len(self.options) < 2:
                raise ValueError("a choice needs at least two options")
            if len({option.casefold() for option in self.options}) != len(self.options):
                raise ValueError("a choice's options must differ")
        elif self.options:
            raise ValueError(f"options are for a choice, not for a {self.kind} question")
        if self.kind == "scale":
            least = self.min if self.min is not None else 1
            greatest = self.max if self.max is not None else 5
            if greatest <= least or greatest - least + 1 > MOST_SCALE_POINTS:
                raise ValueError(f"a scale runs from min to max: 2 to {MOST_SCALE_POINTS} points")
            self.min, self.max = least, greatest
        elif self.min is not None or self.max is not None:
            raise ValueError(f"min and max are for a scale, not for a {self.kind} question")
        return self


class ConsultationIn(Request):
    title: ShortText
    description: LongText | None = None
    questions: list[ConsultationQuestionIn] = Field(min_length=1, max_length=MOST_QUESTIONS)
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
    value: StrictInt | AnswerText = Field(
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
