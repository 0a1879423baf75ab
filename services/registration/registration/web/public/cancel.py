"""Self-service cancel pages, safe from mail scanners: following the emailed link (GET) only
shows the booking and asks; only the POST from the page's button cancels."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from registration import repository as repo
from registration import tokens
from registration.api.deps import ContextDep, TransactionsDep
from registration.service import enrolments, registrations
from registration.unit_of_work import ServiceContext
from registration.web import headers
from registration.web.rendering import render
from registration.web.requests import read_form
from registration.web.words import gettext, pgettext
from tilmeld_shared.i18n import N_
from tilmeld_shared.problems import Conflict, Forbidden, NotFound

router = APIRouter(include_in_schema=False)
CANCEL_REGISTRATION = N_("Cancel your registration")
LEAVE_NETWORK = N_("Leave the network")


def _page(language: str | None, status: int = 200, **context: Any) -> HTMLResponse:
    return render(
        "cancel.html",
        headers=headers.PRIVATE,
        status=status,
        language=language or "en",
        lang=language,
        **context,
    )


def _invalid(language: str | None) -> HTMLResponse:
    return _page(
        language,
        403,
        heading=gettext(language, "The link does not work"),
        message=gettext(language, "The link is invalid or has expired."),
    )


def _already(language: str | None) -> str:
    return gettext(language, "This registration is already cancelled.")


async def _token_from_form(request: Request) -> str:
    return (await read_form(request, max_chars=500)).get("token", "")


async def _registration_view(
    ctx: ServiceContext, conn: Any, registration_id: uuid.UUID, token: str
) -> dict[str, Any] | None:
    registration = await conn.fetchrow(repo.REGISTRATION, registration_id)
    if registration is None:
        return None
    meeting = await conn.fetchrow(repo.MEETING, registration["meeting_id"])
    if not registrations.cancel_token_valid(
        ctx, registration_id, token, meeting_ends_at=meeting["ends_at"]
    ):
        return None
    member = await conn.fetchrow(repo.MEMBER, registration["member_id"])
    network = await conn.fetchrow(repo.NETWORK, meeting["network_id"])
    language = member["language"] or network["language"]
    starts = meeting["starts_at"].astimezone(ZoneInfo(meeting["timezone"]))
    return {
        "language": language,
        "status": registration["status"],
        "details": [
            (gettext(language, "Name"), member["name"] or ""),
            (gettext(language, "Meeting"), meeting["title"]),
            (
                pgettext(language, "cancel page", "When"),
                starts.strftime("%Y-%m-%d %H:%M ") + (starts.tzname() or ""),
            ),
            (gettext(language, "Seats"), str(registration["seats"])),
        ],
    }


def _ask(view: dict[str, Any] | None, heading: str, action: str, token: str) -> HTMLResponse:
    """The page the emailed link opens: the booking, and a button that asks to confirm."""
    if view is None:
        return _invalid(None)
    language = view["language"]
    common = {"heading": gettext(language, heading), "details": view["details"]}
    if view["status"] == "cancelled":
        return _page(language, **common, message=_already(language))
    return _page(
        language,
        **common,
        message=gettext(
            language, "Do you want to cancel? Nothing happens until you press the button."
        ),
        form={
            "action": action,
            "token": token,
            "button": gettext(language, "Confirm cancellation"),
        },
    )


async def _act(
    view: dict[str, Any] | None, heading: str, cancel: Callable[[], Awaitable[object]]
) -> HTMLResponse:
    """The page after the button: cancel, and say what happened."""
    if view is None:
        return _invalid(None)
    language = view["language"]
    common = {"heading": gettext(language, heading), "details": view["details"]}
    try:
        await cancel()
    except Conflict:
        return _page(language, **common, message=_already(language))
    except (Forbidden, NotFound):
        return _invalid(language)
    return _page(
        language,
        **common,
        message=gettext(language, "You are cancelled. Thank you for letting us know."),
    )


@router.get("/cancel/registrations/{registration_id}", response_class=HTMLResponse)
async def ask_to_cancel_registration(
    registration_id: uuid.UUID, tx: TransactionsDep, ctx: ContextDep, token: str = ""
) -> HTMLResponse:
    view = await tx.read(lambda conn: _registration_view(ctx, conn, registration_id, token))
    return _ask(view, CANCEL_REGISTRATION, f"/cancel/registrations/{registration_id}", token)


@router.post("/cancel/registrations/{registration_id}", response_class=HTMLResponse)
async def cancel_registration_from_page(
    registration_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    token = await _token_from_form(request)
    view = await tx.read(lambda conn: _registration_view(ctx, conn, registration_id, token))
    return await _act(
        view,
        CANCEL_REGISTRATION,
        lambda: tx.run(
            lambda conn: registrations.cancel_registration(
                conn, ctx, registration_id, token=token, by_organiser=False
            )
        ),
    )


async def _enrolment_view(
    ctx: ServiceContext, conn: Any, enrolment_id: uuid.UUID, token: str
) -> dict[str, Any] | None:
    enrolment = await conn.fetchrow("SELECT * FROM enrolments WHERE id = $1", enrolment_id)
    if enrolment is None or not tokens.verify(
        ctx.settings.effective_token_secret,
        enrolments.CANCEL_PURPOSE,
        enrolment_id,
        token,
        now=ctx.clock.now(),
    ):
        return None
    network = await conn.fetchrow(repo.NETWORK, enrolment["network_id"])
    member = await conn.fetchrow(repo.MEMBER, enrolment["member_id"])
    language = member["language"] or network["language"]
    return {
        "language": language,
        "status": enrolment["status"],
        "details": [
            (gettext(language, "Name"), member["name"] or ""),
            (gettext(language, "Network"), network["title"]),
        ],
    }


@router.get("/cancel/enrolments/{enrolment_id}", response_class=HTMLResponse)
async def ask_to_leave_network(
    enrolment_id: uuid.UUID, tx: TransactionsDep, ctx: ContextDep, token: str = ""
) -> HTMLResponse:
    view = await tx.read(lambda conn: _enrolment_view(ctx, conn, enrolment_id, token))
    return _ask(view, LEAVE_NETWORK, f"/cancel/enrolments/{enrolment_id}", token)


@router.post("/cancel/enrolments/{enrolment_id}", response_class=HTMLResponse)
async def leave_network_from_page(
    enrolment_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    token = await _token_from_form(request)
    view = await tx.read(lambda conn: _enrolment_view(ctx, conn, enrolment_id, token))
    return await _act(
        view,
        LEAVE_NETWORK,
        lambda: tx.run(
            lambda conn: enrolments.cancel_enrolment(
                conn, ctx, enrolment_id, token=token, by_organiser=False
            )
        ),
    )
