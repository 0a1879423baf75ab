"""What the member dialogue's use cases are asked to do: consultations, responses, proposals,
votes and confirmations, validated before a use case runs (unknown fields refused, every
string bounded). Whether an answer fits its question is the use case's to judge: only it
knows the consultation's questions."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal, Self

from pydantic import Field, PlainValidator, WithJsonSchema, model_validator

from registration.service.commands import LongText, MemberIn, QuestionIn, Request, ShortText
from tilmeld_shared.validation import Rfc3339


def _printable_text(value: str) -> str:
    # Control characters and lone surrogates (which the database cannot store) are no answer.
    for char in value:
        code = ord(char)
        if (code < 32 and char not in "\t\n\r") or code == 127 or 0xD800 <= code <= 0xDFFF:
            raise ValueError("contains a control character or an invalid one")
    return value


Audience = Literal["members", "parties", "public"]
MOST_QUESTIONS = 50
MOST_ANSWER_CHARS = 5000
_ANSWER_TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"


def _answer_value(value: object) -> int | str:
    """A whole number (a scale's answer; 5.0 is 5) or text (a choice's option, free text),
    judged as one value so that a refusal names `answers.N.value` and nothing more."""
    if isinstance(value, bool):
        raise ValueError("a whole number (for a scale) or text")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        if len(value) > MOST_ANSWER_CHARS:
            raise ValueError(f"at most {MOST_ANSWER_CHARS} characters")
        return _printable_text(value).strip()
    raise ValueError("a whole number (for a scale) or text")


AnswerValue = Annotated[
    int | str,
    PlainValidator(_answer_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer"},
                {
                    "type": "string",
                    "maxLength": MOST_ANSWER_CHARS,
                    "pattern": _ANSWER_TEXT_PATTERN,
                },
            ]
        }
    ),
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
    value: AnswerValue = Field(
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
