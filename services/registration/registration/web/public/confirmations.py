"""What a person sees after signing up: the confirmation page and the calendar file.

The confirmation's address carries a view token (issued on the redirect after the form), so
only the person who signed up sees it; the page offers the cancel link and the calendar file.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from registration import tokens
from registration.api.deps import ContextDep, TransactionsDep
from registration.service import calendar_feeds, enrolments, meetings, registrations
from registration.unit_of_work import ServiceContext, Transactions
from registration.web import headers
from registration.web.public import joining
from registration.web.public.page import not_found, render, span
from registration.web.requests import language_of
from registration.web.words import gettext
from tilmeld_shared import calendar

router = APIRouter(include_in_schema=False)
VIEW_REGISTRATION = "view-registration"
VIEW_ENROLMENT = "view-enrolment"


@router.get("/enrolments/{enrolment_id}/confirmation", response_class=HTMLResponse)
async def enrolment_confirmation(
    enrolment_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    token: str = "",
) -> HTMLResponse:
    secret = ctx.settings.effective_token_secret
    if not tokens.verify(secret, VIEW_ENROLMENT, enrolment_id, token, now=ctx.clock.now()):
        return not_found(request)
    found = await enrolments.enrolment_in_full(tx, enrolment_id)
    if found is None:
        return not_found(request)
    network = found.network
    lang = language_of(request, network["language"])
    if found.enrolment["status"] != "active":
        # The link still opens after leaving; it says so, and offers nothing to book.
        return render(
            request,
            "done.html",
            lang,
            private=True,
            state="cancelled",
            heading=gettext(lang, "You have left the network"),
            message=gettext(
                lang,
                "You are no longer a member of %(network)s. You can join again on its page.",
                network=network["title"],
            ),
            back_url=f"/networks/{network['id']}?lang={lang}",
        )
    cancel = enrolments.cancel_token(ctx, enrolment_id)
    return render(
        request,
        "done.html",
        lang,
        private=True,
        heading=gettext(lang, "You have joined"),
        message=gettext(
            lang,
            "Welcome to %(network)s. We have sent a confirmation to your email.",
            network=network["title"],
        ),
        # The next step is a meeting; leaving stays possible, and says what it does.
        next_meetings=await _next_meetings(
            ctx, tx, network["id"], enrolment_id, lang, request.query_params.get("meeting", "")
        ),
        leave_url=f"/cancel/enrolments/{enrolment_id}?token={cancel}&lang={lang}",
        back_url=f"/networks/{network['id']}?lang={lang}",
    )


async def _next_meetings(
    ctx: ServiceContext,
    tx: Transactions,
    network_id: uuid.UUID,
    enrolment_id: uuid.UUID,
    lang: str,
    chosen: str,
) -> list[dict[str, Any]]:
    """The network's meetings a new member can still register for, the one they came to join
    for first, each linked to its form filled in for them."""
    _, rows = await meetings.network_and_meetings(tx, network_id, limit=100)
    now = ctx.clock.now()
    coming = [
        {
            "title": row["title"],
            "span": span(row["starts_at"], row["ends_at"], row["timezone"], lang),
            "starts_iso": row["starts_at"].isoformat(),
            "url": joining.prefill_link(ctx, row["id"], enrolment_id, lang),
            "chosen": str(row["id"]) == chosen,
        }
        for row in rows
        if row["status"] == "scheduled" and now < (row["registration_deadline"] or row["starts_at"])
    ]
    return sorted(coming, key=lambda card: not card["chosen"])


async def _verified_registration(
    ctx: ServiceContext, tx: Transactions, registration_id: uuid.UUID, token: str
) -> tuple[Any, Any, Any, int | None] | None:
    secret = ctx.settings.effective_token_secret
    if not tokens.verify(secret, VIEW_REGISTRATION, registration_id, token, now=ctx.clock.now()):
        return None
    found = await registrations.registration_in_full(tx, registration_id)
    if found is None:
        return None
    return found.registration, found.meeting, found.member, found.waitlist_position


@router.get("/registrations/{registration_id}/confirmation", response_class=HTMLResponse)
async def registration_confirmation(
    registration_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    token: str = "",
) -> HTMLResponse:
    found = await _verified_registration(ctx, tx, registration_id, token)
    if found is None:
        return not_found(request)
    registration, meeting, member, position = found
    lang = language_of(request, member["language"] or "en")
    waitlisted = registration["status"] == "waitlisted"
    cancelled = registration["status"] == "cancelled"
    if meeting["status"] == "cancelled":
        heading = gettext(lang, "The meeting is cancelled")
        message = gettext(
            lang, "The organisers have cancelled the meeting. You do not need to do anything."
        )
    elif cancelled:
        heading = gettext(lang, "Your registration is cancelled")
        message = gettext(
            lang,
            "You are not registered for this meeting any more. If you want to come after all,"
            " register again on the meeting's page while registration is open.",
        )
    elif waitlisted:
        heading = gettext(lang, "You are on the waitlist")
        message = gettext(
            lang,
            "You are number %(n)s on the waitlist. We will write to you if a seat comes free.",
            n=position,
        )
    else:
        heading = gettext(lang, "You are registered")
        message = gettext(lang, "We have sent a confirmation to your email.")
    cancel = registrations.cancel_token(ctx, registration_id)
    return render(
        request,
        "done.html",
        lang,
        private=True,
        heading=heading,
        message=message,
        # Not confirmed any more: no green panel, nothing to put in a calendar.
        state="cancelled" if cancelled or meeting["status"] == "cancelled" else None,
        waitlisted=waitlisted,
        subject=meeting["title"],
        when=span(meeting["starts_at"], meeting["ends_at"], meeting["timezone"], lang),
        starts_iso=meeting["starts_at"].isoformat(),
        # The person's own view: a confirmed participant gets the online link here.
        online_url=meeting["online_url"] if registration["status"] == "confirmed" else None,
        calendar_url=f"/registrations/{registration_id}/calendar.ics?token={token}"
        if not cancelled and meeting["status"] != "cancelled"
        else None,
        # All of the member's meetings, kept up to date in their calendar app.
        feed_url=calendar_feeds.member_feed_path(ctx, registration["member_id"])
        if not cancelled
        else None,
        cancel_url=f"/cancel/registrations/{registration_id}?token={cancel}&lang={lang}"
        if not cancelled and meeting["status"] != "cancelled"
        else None,
        back_url=f"/meetings/{meeting['id']}?lang={lang}",
        back_label=gettext(lang, "Back to the meeting"),
        # The meeting's page with the participants' documents too, for a confirmed seat.
        papers_url=f"/meetings/{meeting['id']}?registration_id={registration_id}&token={cancel}"
        f"&lang={lang}"
        if registration["status"] == "confirmed"
        else None,
    )


@router.get("/registrations/{registration_id}/calendar.ics")
async def registration_calendar(
    registration_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    token: str = "",
) -> Response:
    found = await _verified_registration(ctx, tx, registration_id, token)
    if found is None:
        return not_found(request)
    registration, meeting, _, _ = found
    body = calendar.invitation(
        registration_id=registration_id,
        title=meeting["title"],
        starts_at=meeting["starts_at"],
        ends_at=meeting["ends_at"],
        location=meeting["location"],
        # The link is for those with a seat, as on the confirmation page.
        online_url=meeting["online_url"] if registration["status"] == "confirmed" else None,
        method="PUBLISH",
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={**headers.PRIVATE, "Content-Disposition": 'attachment; filename="meeting.ics"'},
    )
