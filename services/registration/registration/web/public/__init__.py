"""The public pages: networks, a network with its enrol form, a meeting with its registration
form, a network's parties with the form a municipality applies with, the confirmation that
offers the calendar file, the self-service cancel pages, and the member dialogue
(consultations, topic proposals with votes, the link that confirms a person's address)."""

from __future__ import annotations

from fastapi import APIRouter

from registration.web.public import (
    archive,
    cancel,
    confirm,
    confirmations,
    consultations,
    feedback,
    meetings,
    networks,
    offers,
    parties,
    proposals,
)

router = APIRouter(include_in_schema=False)
for _part in (
    networks,
    parties,
    meetings,
    confirmations,
    cancel,
    consultations,
    proposals,
    confirm,
    feedback,
    offers,
    archive,
):
    router.include_router(_part.router)
