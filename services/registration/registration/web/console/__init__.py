"""The organiser console: networks, meetings, rosters, CSV, the check-in view for the door, and
the member dialogue (consultations and their results, the moderation of topic proposals)."""

from __future__ import annotations

from fastapi import APIRouter

from registration.web.console import (
    check_in,
    consultations,
    handlers,
    members,
    papers,
    printing,
    proposals,
    questions,
    roster,
)

router = APIRouter(include_in_schema=False)
for _part in (
    handlers,
    roster,
    check_in,
    members,
    printing,
    consultations,
    proposals,
    papers,
    questions,
):
    router.include_router(_part.router)
