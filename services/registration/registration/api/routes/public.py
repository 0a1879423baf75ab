"""The public pages: networks, a network with its enrol form, a meeting with its registration
form, and the confirmation that offers the calendar file.

Plain HTML forms posted the browser's way (no JavaScript needed), answered Post/Redirect/Get;
on an error the form comes back with the message beside the field and what was typed kept.
The use cases are the same ones the JSON API calls.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from registration import repository as repo
from registration import tokens
from registration.api.deps import AbuseLimitsDep, ContextDep, TransactionsDep
from registration.api.schemas import EnrolmentIn, RegistrationIn, check_deliverable
from registration.pages.requests import LANGUAGE_COOKIE, language_of, read_form
from registration.pages.words import CONFLICT_WORDS, LANGUAGE_NAMES, WORDS, counted
from registration.service import enrolments, meetings, networks, registrations
from registration.unit_of_work import ServiceContext
from tilmeld_shared import calendar
from tilmeld_shared.problems import Problem, TooManyRequests

router = APIRouter(include_in_schema=False)
VIEW_REGISTRATION = "view-registration"
VIEW_ENROLMENT = "view-enrolment"
PERSON_FIELDS = ("name", "email", "municipality", "role", "organisation")
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent.parent / "pages" / "public"),
    autoescape=select_autoescape(["html"]),
)
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
# A confirmation page's link carries a token: keep it out of caches and referrers.
_PRIVATE = {**_HEADERS, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _render(
    request: Request,
    template: str,
    lang: str,
    *,
    status: int = 200,
    private: bool = False,
    **context: Any,
) -> HTMLResponse:
    html = _templates.get_template(template).render(
        lang=lang,
        w=WORDS[lang],
        counted=partial(counted, lang),
        languages=LANGUAGE_NAMES,
        **context,
    )
    headers = dict(_PRIVATE if private else _HEADERS)
    if context.get("retry_after") is not None:
        headers["Retry-After"] = str(context["retry_after"])
    response = HTMLResponse(html, status_code=status, headers=headers)
    if request.query_params.get("lang") == lang:  # the switcher was used: remember it
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def _when(moment: datetime, zone: str, lang: str) -> str:
    """The meeting's own local time, as people of the page's language write it."""
    local = moment.astimezone(ZoneInfo(zone))
    day = format_date(local, "full", locale=lang)
    return f"{day}, {format_time(local, 'short', locale=lang)} ({local.tzname()})"


def _not_found(request: Request) -> HTMLResponse:
    lang = language_of(request)
    return _render(request, "done.html", lang, status=404, heading=WORDS[lang]["not_found"])


def _member(form: dict[str, str], lang: str) -> dict[str, Any]:
    member: dict[str, Any] = {name: form.get(name, "").strip() for name in PERSON_FIELDS}
    member["organisation"] = member["organisation"] or None
    member["language"] = lang
    return member


def _field_errors(error: ValidationError, lang: str) -> dict[str, str]:
    """pydantic's errors, as a person reads them, keyed by the form field they belong to."""
    words = WORDS[lang]
    messages: dict[str, str] = {}
    for item in error.errors():
        location = [str(part) for part in item["loc"]]
        if location[0] == "member":
            name = location[1]
        elif location[0] == "companions" and len(location) > 2:
            name = f"companion_{int(location[1]) + 1}_{location[2]}"
        else:
            name = location[0]
        label = words.get(name, words["companions"]).lower()
        if name == "consent":
            message = words["err_consent"]
        elif name == "email" and item["type"] in {"value_error", "string_type"}:
            message = words["err_email"]
        elif item["type"] == "address_needs_smtputf8":
            message = words["err_email_smtputf8"]
        elif item["type"] in {"missing", "string_too_short"}:
            message = words["err_missing"].format(field=label)
        elif item["type"] == "string_too_long":
            message = words["err_too_long"].format(field=label.capitalize())
        else:
            message = words["err_invalid"].format(field=label)
        messages.setdefault(name, message)
    return messages


def _status(errors: dict[str, str], retry_after: int | None) -> int:
    return 429 if retry_after is not None else 422 if errors else 409


def _problem_words(problem: Problem, lang: str) -> str:
    key = CONFLICT_WORDS.get(problem.slug)
    return WORDS[lang][key] if key else problem.detail


@router.get("/", response_class=HTMLResponse)
async def list_networks(request: Request, tx: TransactionsDep) -> HTMLResponse:
    rows, _ = await tx.read(
        lambda conn: networks.list_networks(conn, status="open", limit=200, cursor=None)
    )
    return _render(request, "networks.html", language_of(request), networks=rows)


async def _network_page(
    ctx: ServiceContext, conn: Any, network_id: uuid.UUID, choose: Callable[[str], str]
) -> dict[str, Any]:
    """The page's data, in the language `choose` picks given the network's own."""
    network = await networks.get_network(conn, network_id)
    lang = choose(network["language"])
    rows, _ = await meetings.list_meetings(conn, network_id, limit=100, cursor=None)
    now = ctx.clock.now()
    cards = [
        {
            "id": row["id"],
            "title": row["title"],
            "status": row["status"],
            "seats_left": max(row["capacity"] - row["seats_taken"], 0),
            "when": _when(row["starts_at"], row["timezone"], lang),
            "starts_iso": row["starts_at"].isoformat(),
            "over": row["ends_at"] <= now,
        }
        for row in rows
    ]
    # Meetings that are over are an archive of what was held, newest first; cancelled ones
    # were never held.
    held = [c for c in reversed(cards) if c["over"] and c["status"] != "cancelled"]
    contact = network["contact"] or {}
    contact_line = ", ".join(
        str(contact[key]) for key in ("name", "title", "email", "phone") if contact.get(key)
    )
    return {
        "lang": lang,
        "network": network,
        "meetings": [card for card in cards if not card["over"]],
        "held": held,
        "contact": contact_line,
    }


@router.get("/networks/{network_id}", response_class=HTMLResponse)
async def show_network(
    network_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    def choose(fallback: str) -> str:
        return language_of(request, fallback)

    try:
        page = await tx.read(lambda conn: _network_page(ctx, conn, network_id, choose))
    except Problem:
        return _not_found(request)
    return _render(request, "network.html", errors={}, values={}, problem=None, **page)


@router.post("/networks/{network_id}/enrol", response_class=HTMLResponse)
async def enrol_from_page(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
) -> Response:
    form = await read_form(request, max_chars=1000)
    lang = language_of(request)
    errors: dict[str, str] = {}
    problem = None
    retry_after = None
    try:
        await abuse.check_address(request)
        command = EnrolmentIn.model_validate(
            {"member": _member(form, lang), "consent": form.get("consent") == "yes" or None}
        )
        check_deliverable(command, smtputf8=ctx.settings.smtp_accepts_smtputf8)
        await abuse.check_email(command.member.email)
        enrolment, _ = await tx.run(lambda conn: enrolments.enrol(conn, ctx, network_id, command))
    except ValidationError as error:
        errors = _field_errors(error, lang)
    except Problem as error:
        if error.status == 404:
            return _not_found(request)
        problem = _problem_words(error, lang)
        retry_after = error.retry_after if isinstance(error, TooManyRequests) else None
    else:
        view = tokens.issue(
            ctx.settings.effective_token_secret, VIEW_ENROLMENT, enrolment["id"], expires_at=None
        )
        return RedirectResponse(
            f"/enrolments/{enrolment['id']}/confirmation?token={view}&lang={lang}", 303
        )
    page = await tx.read(lambda conn: _network_page(ctx, conn, network_id, lambda _: lang))
    return _render(
        request,
        "network.html",
        status=_status(errors, retry_after),
        retry_after=retry_after,
        errors=errors,
        values=form,
        problem=problem,
        **page,
    )


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
        return _not_found(request)

    async def network_of_enrolment(conn: Any) -> Any:
        enrolment = await conn.fetchrow(repo.ENROLMENT, enrolment_id)
        return await conn.fetchrow(repo.NETWORK, enrolment["network_id"])

    network = await tx.read(network_of_enrolment)
    lang = language_of(request, network["language"])
    cancel = enrolments.cancel_token(ctx, enrolment_id)
    return _render(
        request,
        "done.html",
        lang,
        private=True,
        heading=WORDS[lang]["enrolled"],
        message=WORDS[lang]["enrolled_text"].format(network=network["title"]),
        cancel_url=f"/cancel/enrolments/{enrolment_id}?token={cancel}",
        back_url=f"/networks/{network['id']}?lang={lang}",
    )


async def _meeting_page(
    ctx: ServiceContext, conn: Any, meeting_id: uuid.UUID, choose: Callable[[str], str]
) -> dict[str, Any]:
    """The page's data, in the language `choose` picks given the network's own."""
    meeting = await meetings.get_meeting(conn, meeting_id)
    network = await networks.get_network(conn, meeting["network_id"])
    lang = choose(network["language"])
    words = WORDS[lang]
    now = ctx.clock.now()
    closed_by = meeting["registration_deadline"] or meeting["starts_at"]
    closed_reason = (
        words["cancelled_meeting"]
        if meeting["status"] == "cancelled"
        else words["closed"]
        if now >= closed_by
        else None
    )
    speakers = [
        ", ".join(str(s[key]) for key in ("name", "title", "organisation") if s.get(key))
        for s in meeting["speakers"] or []
    ]
    deadline = meeting["registration_deadline"]
    return {
        "lang": lang,
        "meeting": meeting,
        "network": network,
        "seats_left": max(meeting["capacity"] - meeting["seats_taken"], 0),
        "when": _when(meeting["starts_at"], meeting["timezone"], lang),
        "starts_iso": meeting["starts_at"].isoformat(),
        "deadline": _when(deadline, meeting["timezone"], lang) if deadline else None,
        "speakers": speakers,
        "open": closed_reason is None,
        "closed_reason": closed_reason,
        "held": meeting["status"] != "cancelled" and meeting["ends_at"] <= now,
        "max_companions": network["max_companions"],
    }


@router.get("/meetings/{meeting_id}", response_class=HTMLResponse)
async def show_meeting(
    meeting_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    def choose(fallback: str) -> str:
        return language_of(request, fallback)

    try:
        page = await tx.read(lambda conn: _meeting_page(ctx, conn, meeting_id, choose))
    except Problem:
        return _not_found(request)
    return _render(request, "meeting.html", errors={}, values={}, problem=None, **page)


def _companions(form: dict[str, str], allowed: int) -> list[dict[str, Any]]:
    """Companion rows the person filled in (a row left empty is no companion)."""
    companions = []
    for number in range(1, allowed + 1):
        name = form.get(f"companion_{number}_name", "").strip()
        role = form.get(f"companion_{number}_role", "").strip()
        if name or role:
            companions.append({"name": name, "role": role or None})
    return companions


@router.post("/meetings/{meeting_id}/register", response_class=HTMLResponse)
async def register_from_page(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
) -> Response:
    form = await read_form(request, max_chars=1000)
    lang = language_of(request)
    try:
        page = await tx.read(lambda conn: _meeting_page(ctx, conn, meeting_id, lambda _: lang))
    except Problem:
        return _not_found(request)
    errors: dict[str, str] = {}
    problem = None
    retry_after = None
    try:
        await abuse.check_address(request)
        command = RegistrationIn.model_validate(
            {
                "member": _member(form, lang),
                "companions": _companions(form, page["max_companions"]),
            }
        )
        check_deliverable(command, smtputf8=ctx.settings.smtp_accepts_smtputf8)
        await abuse.check_email(command.member.email)
        registration, _, _ = await tx.run(
            lambda conn: registrations.register_for_meeting(conn, ctx, meeting_id, command)
        )
    except ValidationError as error:
        errors = _field_errors(error, lang)
    except Problem as error:
        problem = _problem_words(error, lang)
        retry_after = error.retry_after if isinstance(error, TooManyRequests) else None
    else:
        view = tokens.issue(
            ctx.settings.effective_token_secret,
            VIEW_REGISTRATION,
            registration["id"],
            expires_at=page["meeting"]["ends_at"],
        )
        return RedirectResponse(
            f"/registrations/{registration['id']}/confirmation?token={view}&lang={lang}", 303
        )
    return _render(
        request,
        "meeting.html",
        status=_status(errors, retry_after),
        retry_after=retry_after,
        errors=errors,
        values=form,
        problem=problem,
        **page,
    )


async def _verified_registration(
    ctx: ServiceContext, conn: Any, registration_id: uuid.UUID, token: str
) -> tuple[Any, Any, Any, int | None] | None:
    secret = ctx.settings.effective_token_secret
    if not tokens.verify(secret, VIEW_REGISTRATION, registration_id, token, now=ctx.clock.now()):
        return None
    registration = await conn.fetchrow(repo.REGISTRATION, registration_id)
    meeting = await conn.fetchrow(repo.MEETING, registration["meeting_id"])
    member = await conn.fetchrow(repo.MEMBER, registration["member_id"])
    return registration, meeting, member, await repo.waitlist_position(conn, registration)


@router.get("/registrations/{registration_id}/confirmation", response_class=HTMLResponse)
async def registration_confirmation(
    registration_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    token: str = "",
) -> HTMLResponse:
    found = await tx.read(lambda conn: _verified_registration(ctx, conn, registration_id, token))
    if found is None:
        return _not_found(request)
    registration, meeting, member, position = found
    lang = language_of(request, member["language"] or "en")
    words = WORDS[lang]
    waitlisted = registration["status"] == "waitlisted"
    if registration["status"] == "cancelled":
        heading, message = words["cancel"], words["already_registered"]
    elif waitlisted:
        heading, message = words["waitlisted"], words["waitlisted_text"].format(n=position)
    else:
        heading, message = words["confirmed"], words["confirmed_text"]
    cancel = registrations.cancel_token(ctx, registration_id)
    return _render(
        request,
        "done.html",
        lang,
        private=True,
        heading=heading,
        message=message,
        waitlisted=waitlisted,
        subject=meeting["title"],
        when=_when(meeting["starts_at"], meeting["timezone"], lang),
        starts_iso=meeting["starts_at"].isoformat(),
        # The person's own view: a confirmed participant gets the online link here.
        online_url=meeting["online_url"] if registration["status"] == "confirmed" else None,
        calendar_url=f"/registrations/{registration_id}/calendar.ics?token={token}",
        cancel_url=f"/cancel/registrations/{registration_id}?token={cancel}"
        if registration["status"] != "cancelled"
        else None,
        back_url=f"/meetings/{meeting['id']}?lang={lang}",
    )


@router.get("/registrations/{registration_id}/calendar.ics")
async def registration_calendar(
    registration_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    token: str = "",
) -> Response:
    found = await tx.read(lambda conn: _verified_registration(ctx, conn, registration_id, token))
    if found is None:
        return _not_found(request)
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
        headers={**_PRIVATE, "Content-Disposition": 'attachment; filename="meeting.ics"'},
    )
