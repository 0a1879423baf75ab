"""What is asked about municipalities: a body the register lacks, and a municipality joining
or applying to a network as a party, the organiser's decision, its withdrawal."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from babel import Locale
from pydantic import Field, StringConstraints, field_validator, model_validator

from registration.service.commands.fields import Email, LongText, Name, Request, ShortText
from tilmeld_shared.events import Language

# ISO 3166-1 alpha-2 codes, as CLDR (through Babel) knows them, less its groupings (EU, UN, ...).
_COUNTRIES = frozenset(
    code
    for code in map(str, Locale("en").territories)
    if len(code) == 2 and code.isalpha() and code not in {"EU", "EZ", "UN", "QO", "ZZ"}
)


class MunicipalityIn(Request):
    """A body the register lacks, e.g. a German Kreis."""

    name: Name
    country: Annotated[str, StringConstraints(min_length=2, max_length=2)] = Field(
        description="ISO 3166-1 alpha-2, e.g. DE"
    )
    code: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] | None
    ) = Field(None, description="The official number, e.g. a German Kreisschlüssel")
    kind: Literal["municipality", "county", "region", "district"]
    aliases: list[Name] = Field(default_factory=list, max_length=20)

    @field_validator("country")
    @classmethod
    def _iso_country(cls, value: str) -> str:
        value = value.upper()
        if value not in _COUNTRIES:
            raise ValueError("not an ISO 3166-1 alpha-2 country code, e.g. DE")
        return value


class PartyContactIn(Request):
    """The person who speaks for the municipality in the network."""

    name: Name
    email: Email
    role: Name
    language: Language | None = None


class PartyIn(Request):
    """A municipality joins or applies to a network: by its register id or by its name."""

    municipality_id: uuid.UUID | None = None
    municipality: Name | None = Field(
        None, description="A name the register resolves, e.g. 'Rødovre Kommune'."
    )
    contact: PartyContactIn
    statement: LongText | None = None

    @model_validator(mode="after")
    def _one_municipality(self) -> PartyIn:
        if (self.municipality_id is None) == (self.municipality is None):
            raise ValueError("give either municipality_id or municipality")
        return self


class DecisionIn(Request):
    reason: LongText | None = None


class WithdrawIn(Request):
    token: ShortText | None = None
    reason: LongText | None = None
