"""What each console page shows, read in one transaction, and how a console page is answered."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse

from registration import clients
from registration.personal_data import PersonalDataVault
from registration.service import answers, feedback, meetings, networks, parties, rosters
from registration.unit_of_work import ServiceContext, Transactions
from registration.web import headers
from registration.web.console.forms import TIMEZONES
from registration.web.rendering import render_page
from registration.web.requests import language_of
from tilmeld_shared.auth import Principal
from tilmeld_shared.problems import Problem


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A console page in the organiser's language, never cached."""
    lang = language_of(request)
    return render_page(
        request,
        f"console/{template}",
        lang,
        headers=headers.SIGNED_IN,
        status=status,
        **{"timezones": TIMEZONES, "created": request.query_params.get("created") == "1"} | context,
    )


def missing(request: Request) -> HTMLResponse:
    """The console's 404: no such thing, or not this organiser's."""
    return render(request, "missing.html", status=404)


async def co_host_choices(tx: Transactions, network: Any) -> list[dict[str, Any]]:
    """The networks that may hold a meeting together with this one: the other networks of its
    organisation (the platform's own, for a network of the platform)."""
    rows, _ = await networks.list_networks(tx, status=None, limit=500, cursor=None)
    return [
        {"id": row["id"], "title": row["title"], "language": row["language"]}
        for row in rows
        if row["organisation_id"] == network["organisation_id"] and row["id"] != network["id"]
    ]


def people_to_tell(page: dict[str, Any]) -> int:
    """How many people an email about the meeting reaches: everyone registered or waiting,
    and each of their companions who gave an address."""
    return sum(
        1 + sum(1 for companion in person["companions"] if companion.get("email"))
        for person in [*page["confirmed"], *page["waitlisted"]]
    )


def local_time(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


async def network_page(
    tx: Transactions,
    ctx: ServiceContext,
    network_id: uuid.UUID,
    *,
    organiser: Principal | None = None,
) -> dict[str, Any]:
    """A network, a summary of each of its meetings and its parties with their contacts (for
    an organiser, one of their own)."""
    network, rows = await meetings.network_and_meetings(
        tx, network_id, limit=500, organiser=organiser
    )
    found = (
        await parties.list_parties(
            tx, network_id, caller=organiser, status=None, limit=500, cursor=None
        )
        if network["membership"] == "municipalities"
        else None
    )
    # Coverage (the held meetings each party attended) is counted by reporting, which is asked
    # after the read above, never inside a transaction.
    coverage = (
        await clients.party_coverage(ctx.settings, network_id) if found and found.rows else {}
    )
    return {
        "network": network,
        "co_host_choices": await co_host_choices(tx, network),
        "meetings": [_meeting_summary(row) for row in rows],
        "now": ctx.clock.now(),
        "parties": [
            _party_summary(row, coverage.get(str(row["municipality_id"])))
            for row in (found.rows if found else [])
        ],
        "coverage_known": bool(coverage),
        "parties_report_url": f"{ctx.settings.reporting_url}/dashboard?network={network_id}",
    }


def _party_summary(row: Any, counts: dict[str, Any] | None) -> dict[str, Any]:
    contact = ", ".join(
        str(row[key]) for key in ("contact_name", "contact_role", "contact_email") if row[key]
    )
    return {
        "id": row["id"],
        "municipality": row["municipality"],
        "status": row["status"],
        "applied_on": row["applied_at"].date().isoformat(),
        "joined_on": row["joined_at"].date().isoformat() if row["joined_at"] else "",
        "contact": contact,
        "statement": row["statement"],
        "reason": row["reason"],
        "attended": f"{counts['meetings_attended']} / {counts['meetings_held']}" if counts else "",
        "coverage": f"{round(counts['coverage'] * 100)} %" if counts else "",
    }


def _meeting_summary(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "status": row["status"],
        "when": local_time(row["starts_at"], row["timezone"]),
        "seats": f"{row['seats_taken']} / {row['capacity']}",
        "waitlist": row["waitlist_length"],
        "ends_at": row["ends_at"],
    }


async def visible_meeting_page(
    tx: Transactions,
    organiser: Principal,
    meeting_id: uuid.UUID,
    *,
    vault: PersonalDataVault | None = None,
) -> dict[str, Any] | None:
    """The meeting's page data, or None when it does not exist for this organiser. With the
    vault, the answers to its questions and its feedback too (opened for the organiser)."""
    try:
        meeting, network, people, given = await rosters.meeting_with_roster(
            tx, meeting_id, organiser=organiser, vault=vault
        )
        responses = (
            await feedback.feedback_of_meeting(tx, vault, meeting_id, organiser=organiser)
            if vault
            else []
        )
    except Problem:
        return None
    return {
        "meeting": meeting,
        "network": network,
        "confirmed": [p for p in people if p["status"] == "confirmed"],
        "waitlisted": [p for p in people if p["status"] == "waitlisted"],
        "when": local_time(meeting["starts_at"], meeting["timezone"]),
        "questions": answers.questions_of(meeting["questions"]),
        "answers": {str(key): value for key, value in given.items()},
        "feedback_questions": answers.questions_of(meeting["feedback"]),
        "feedback": responses,
        "co_host_choices": await co_host_choices(tx, network),
    }
