"""The organiser console: networks, meetings, rosters, CSV, and the check-in view for the door."""

from __future__ import annotations

from fastapi import APIRouter

from registration.web.console import check_in, handlers, members, roster

router = APIRouter(include_in_schema=False)
for _part in (handlers, roster, check_in, members):
    router.include_router(_part.router)
