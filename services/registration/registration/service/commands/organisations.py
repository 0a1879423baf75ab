"""What the platform is asked: an organisation, an API key, and sealed personal data opened for
the notification service."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from registration.service.commands.fields import Name, Request
from tilmeld_shared.events import SealedPersonalData


class OrganisationIn(Request):
    name: Name


class ApiKeyIn(Request):
    name: Name = Field(description="What the key is for, e.g. 'KL culture team'.")
    role: Literal["organiser", "reporting"] = "organiser"


# Sealed personal data the notification service asks to have opened (no docstring: it would
# become the schema's description in the API document).
class OpenIn(BaseModel):
    items: list[SealedPersonalData] = Field(max_length=1000)
