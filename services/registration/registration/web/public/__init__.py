"""The public pages: networks, a network with its enrol form, a meeting with its registration
form, a network's parties with the form a municipality applies with, the confirmation that
offers the calendar file, and the self-service cancel pages."""

from __future__ import annotations

from fastapi import APIRouter

from registration.web.public import cancel, confirmations, meetings, networks, parties

router = APIRouter(include_in_schema=False)
for _part in (networks, parties, meetings, confirmations, cancel):
    router.include_router(_part.router)
