"""Questions asked at registration or as feedback after a held meeting, and the answers to
them. Whether an answer fits its question is the use case's to judge."""

# No `from __future__ import annotations` here: AnswerIn is published under the package's
# path (see below), where pydantic could not resolve its annotations later; they are resolved
# as the class is made.
import uuid
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, StrictBool, StrictInt, model_validator

from registration.service.commands.fields import LongText, Request, ShortText
from tilmeld_shared.validation import JSON_INTEGER

ScalePoint = Annotated[StrictInt, Field(ge=-100, le=100), JSON_INTEGER]
# A scale has at most this many points (0..10 is the widest in common use).
_MOST_SCALE_POINTS = 11


class QuestionIn(Request):
    """A question asked at registration (e.g. dietary needs) or as feedback afterwards. A
    choice has its options; a scale its least and greatest value (1 to 5 unless said)."""

    question_id: uuid.UUID | None = Field(
        None, description="Kept when a question is edited; a new question gets one."
    )
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
            least, greatest = self.min if self.min is not None else 1, self.max or 5
            if greatest <= least or greatest - least + 1 > _MOST_SCALE_POINTS:
                raise ValueError(f"a scale runs from min to max: 2 to {_MOST_SCALE_POINTS} points")
            self.min, self.max = least, greatest
        elif self.min is not None or self.max is not None:
            raise ValueError(f"min and max are for a scale, not for a {self.kind} question")
        return self


def _distinct_questions(questions: list[QuestionIn] | None) -> list[QuestionIn] | None:
    if questions is not None:
        ids = [question.question_id for question in questions if question.question_id]
        if len(set(ids)) != len(ids):
            raise ValueError("each question_id may appear once")
    return questions


Questions = Annotated[list[QuestionIn], Field(max_length=20), AfterValidator(_distinct_questions)]


class AnswerIn(Request):
    """An answer to one of the meeting's questions: the option as written for a choice, a
    whole number for a scale, text for a text question."""

    # The API document names this model by its module's path, the dialogue having an AnswerIn
    # of its own: the commands' package keeps the name it was published under.
    __module__ = "registration.service.commands"

    question_id: uuid.UUID
    value: Annotated[StrictInt, JSON_INTEGER] | LongText
