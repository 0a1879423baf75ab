"""What a person asks: to enrol in a network, to register for a meeting (with companions and
answers to its questions), to give feedback on a held one, to cancel."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from registration.service.commands.fields import Email, Name, Request, ShortText
from registration.service.commands.questions import AnswerIn
from tilmeld_shared.events import Language


class MemberIn(Request):
    name: Name
    email: Email
    municipality: Name | None = Field(
        None,
        description="As the person writes it, e.g. 'Rødovre Kommune'; kept as typed and resolved "
        "to the register (GET /municipalities) where it names exactly one entry.",
    )
    municipality_id: uuid.UUID | None = Field(
        None, description="The register's id, instead of the name (or beside it)."
    )
    role: Name
    organisation: Name | None = None
    language: Language | None = None

    @model_validator(mode="after")
    def _a_municipality(self) -> MemberIn:
        if self.municipality is None and self.municipality_id is None:
            raise ValueError("give municipality (a name) or municipality_id")
        return self


class EnrolmentIn(Request):
    member: MemberIn
    consent: Literal[True] = Field(
        description="The person agrees that the organiser keeps their data for the network."
    )


class CompanionIn(Request):
    name: Name
    role: Name | None = None
    email: Email | None = None


class RegistrationIn(Request):
    member: MemberIn
    companions: list[CompanionIn] = Field(default_factory=list, max_length=10)
    answers: list[AnswerIn] = Field(
        default_factory=list,
        max_length=20,
        description="Answers to the meeting's questions (e.g. dietary needs); kept sealed and "
        "erased answers_retention_days after the meeting.",
    )


class FeedbackIn(Request):
    """An attendee's feedback on a held meeting, with the token from their feedback link."""

    registration_id: uuid.UUID
    token: ShortText
    answers: list[AnswerIn] = Field(default_factory=list, max_length=20)


_NEEDS_SMTPUTF8 = PydanticCustomError(
    "address_needs_smtputf8",
    "our mail server cannot deliver to an address with characters beyond ASCII before the @; "
    "please give another address",
)


def check_deliverable(command: EnrolmentIn | RegistrationIn, *, smtputf8: bool) -> None:
    """Refuse, as invalid input naming the field, an address our mail server cannot write to:
    a local part beyond ASCII (jürgen@…) needs a server with SMTPUTF8. An internationalised
    domain alone needs nothing (it travels as IDNA)."""
    if smtputf8:
        return
    addresses: list[tuple[tuple[str | int, ...], str | None]] = [
        (("member", "email"), command.member.email)
    ]
    if isinstance(command, RegistrationIn):
        addresses += [
            (("companions", number, "email"), companion.email)
            for number, companion in enumerate(command.companions)
        ]
    refused = [
        InitErrorDetails(type=_NEEDS_SMTPUTF8, loc=where, input=address)
        for where, address in addresses
        if address and not address.rpartition("@")[0].isascii()
    ]
    if refused:
        raise ValidationError.from_exception_data(type(command).__name__, refused)


class CancelIn(Request):
    token: ShortText | None = None
