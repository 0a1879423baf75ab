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
from registration.web.words.cancel import texts
from tilmeld_shared.problems import Conflict, Forbidden, NotFound

router = APIRouter(include_in_schema=False)


def _page(status: int = 200, **context: Any) -> HTMLResponse:
    return render("cancel.html", headers=headers.PRIVATE, status=status, **context)


def _invalid(language: str | None) -> HTMLResponse:
    words = texts(language)
    return _page(
        403, language=language or "en", heading=words["invalid_heading"], message=words["invalid"]
    )


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
    words = texts(language)
    starts = meeting["starts_at"].astimezone(ZoneInfo(meeting["timezone"]))
    return {
        "language": language,
        "words": words,
        "status": registration["status"],
        "details": [
            (words["name"], member["name"] or ""),
            (words["meeting"], meeting["title"]),
            (words["when"], starts.strftime("%Y-%m-%d %H:%M ") + (starts.tzname() or "")),
            (words["seats"], str(registration["seats"])),
        ],
    }


def _ask(view: dict[str, Any] | None, heading: str, action: str, token: str) -> HTMLResponse:
    """The page the emailed link opens: the booking, and a button that asks to confirm."""
    if view is None:
        return _invalid(None)
    words = view["words"]
    common = {"language": view["language"], "heading": words[heading], "details": view["details"]}
    if view["status"] == "cancelled":
        return _page(**common, message=words["already"])
    return _page(
        **common,
        message=words["ask"],
        form={"action": action, "token": token, "button": words["confirm"]},
    )


async def _act(
    view: dict[str, Any] | None, heading: str, cancel: Callable[[], Awaitable[object]]
) -> HTMLResponse:
    """The page after the button: cancel, and say what happened."""
    if view is None:
        return _invalid(None)
    words = view["words"]
    common = {"language": view["language"], "heading": words[heading], "details": view["details"]}
    try:
        await cancel()
    except Conflict:
        return _page(**common, message=words["already"])
    except (Forbidden, NotFound):
        return _invalid(view["language"])
    return _page(**common, message=words["done"])


@router.get("/cancel/registrations/{registration_id}", response_class=HTMLResponse)
async def ask_to_cancel_registration(
    registration_id: uuid.UUID, tx: TransactionsDep, ctx: ContextDep, token: str = ""
) -> HTMLResponse:
    view = await tx.read(lambda conn: _registration_view(ctx, conn, registration_id, token))
    return _ask(view, "registration", f"/cancel/registrations/{registration_id}", token)


@router.post("/cancel/registrations/{registration_id}", response_class=HTMLResponse)
async def cancel_registration_from_page(
    registration_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    token = await _token_from_form(request)
    view = await tx.read(lambda conn: _registration_view(ctx, conn, registration_id, token))
    return await _act(
        view,
        "registration",
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
    words = texts(language)
    return {
        "language": language,
        "words": words,
        "status": enrolment["status"],
        "details": [(words["name"], member["name"] or ""), (words["network"], network["title"])],
    }


@router.get("/cancel/enrolments/{enrolment_id}", response_class=HTMLResponse)
async def ask_to_leave_network(
    enrolment_id: uuid.UUID, tx: TransactionsDep, ctx: ContextDep, token: str = ""
) -> HTMLResponse:
    view = await tx.read(lambda conn: _enrolment_view(ctx, conn, enrolment_id, token))
    return _ask(view, "enrolment", f"/cancel/enrolments/{enrolment_id}", token)


@router.post("/cancel/enrolments/{enrolment_id}", response_class=HTMLResponse)
async def leave_network_from_page(
    enrolment_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    token = await _token_from_form(request)
    view = await tx.read(lambda conn: _enrolment_view(ctx, conn, enrolment_id, token))
    return await _act(
        view,
        "enrolment",
        lambda: tx.run(
            lambda conn: enrolments.cancel_enrolment(
                conn, ctx, enrolment_id, token=token, by_organiser=False
            )
        ),
    )
