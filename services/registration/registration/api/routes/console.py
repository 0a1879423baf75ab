"""The organiser console: networks, meetings, rosters, CSV, and the check-in view for the door.

Signed in with the organiser's key, which is checked once and then never stored: the browser
keeps a signed, expiring session cookie (HttpOnly, SameSite=Strict, path /console). Every form
works without JavaScript; the check-in view adds a queue that survives a poor connection.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from registration import tokens
from registration.api.deps import ContextDep, TransactionsDep
from registration.api.schemas import MeetingIn, MeetingPatch, NetworkIn, NetworkPatch
from registration.pages.console_words import CONSOLE_WORDS
from registration.pages.requests import LANGUAGE_COOKIE, language_of, read_form
from registration.pages.words import LANGUAGE_NAMES, LANGUAGES
from registration.service import meetings, networks, organisations, registrations
from registration.service.organisations import scoped
from registration.unit_of_work import ServiceContext, Transactions
from tilmeld_shared.auth import API_KEY_PREFIX, Principal, Role, role_of
from tilmeld_shared.csv_export import write_csv
from tilmeld_shared.problems import Problem

router = APIRouter(prefix="/console", include_in_schema=False)
SESSION_COOKIE = "tilmeld_console"
SESSION_PURPOSE = "console-session"
# The session names whom it speaks for: an organisation's id, or this one for the platform.
PLATFORM_ORGANISER = uuid.UUID(int=0)
SESSION_HOURS = 12
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent.parent / "pages" / "console"),
    autoescape=select_autoescape(["html"]),
)
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
    # same-origin, not no-referrer: under no-referrer browsers send `Origin: null` with a form
    # post, and the origin check below could not tell the console's own forms from others'.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


class NotSignedIn(Exception):
    """Raised by `_session`; answered with the sign-in page (or 401 to a script)."""


def _render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    lang = language_of(request)
    html = _templates.get_template(template).render(
        lang=lang, w=CONSOLE_WORDS[lang], languages=LANGUAGE_NAMES, **context
    )
    response = HTMLResponse(html, status_code=status, headers=_HEADERS)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def _session(request: Request, ctx: ServiceContext) -> Principal:
    """The signed-in organiser; a state-changing request must also come from this origin."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    subject_text, _, token = cookie.partition(":")
    try:
        subject = uuid.UUID(subject_text)
    except ValueError:
        raise NotSignedIn from None
    secret = ctx.settings.effective_token_secret
    if not tokens.verify(secret, SESSION_PURPOSE, subject, token, now=ctx.clock.now()):
        raise NotSignedIn
    if request.method == "POST":
        origin = request.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != request.url.netloc:
            raise NotSignedIn  # a cross-site form post: SameSite should already stop it
    return Principal(Role.ORGANISER, None if subject == PLATFORM_ORGANISER else subject)


async def _console_organiser(request: Request, ctx: ContextDep) -> Principal:
    return _session(request, ctx)


# Every console handler takes the signed-in organiser; without a session it never runs.
ConsoleOrganiser = Annotated[Principal, Depends(_console_organiser)]


async def not_signed_in(request: Request, _: Exception) -> Response:
    """Back to the sign-in page (a script's retry queue gets a 401 it can act on)."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"detail": "sign in again"}, status_code=401)
    return RedirectResponse("/console/login", 303)


def _errors(error: ValidationError, lang: str) -> dict[str, str]:
    words = CONSOLE_WORDS[lang]
    found: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        if field == "contact" and len(item["loc"]) > 1:
            field = f"contact_{item['loc'][1]}"
        missing = item["type"] in {"missing", "string_too_short", "too_short"}
        found.setdefault(field, words["err_required"] if missing else words["err_invalid"])
    return found


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return _render(request, "login.html", failed=False)


@router.post("/login", response_model=None)
async def login(request: Request, tx: TransactionsDep, ctx: ContextDep) -> Response:
    """The platform's organiser token, or an organisation's organiser API key."""
    form = await read_form(request)
    settings = ctx.settings
    key = form.get("token", "").strip()
    role = role_of(
        key, organiser_token=settings.organiser_token, reporting_token=settings.reporting_token
    )
    subject = PLATFORM_ORGANISER if role is Role.ORGANISER else None
    if role is None and key.startswith(API_KEY_PREFIX):
        principal = await tx.read(lambda conn: organisations.principal_of_api_key(conn, key))
        if principal is not None and principal.role is Role.ORGANISER:
            subject = principal.organisation_id
    if subject is None:
        return _render(request, "login.html", status=401, failed=True)
    expires = ctx.clock.now() + timedelta(hours=SESSION_HOURS)
    secret = settings.effective_token_secret
    token = tokens.issue(secret, SESSION_PURPOSE, subject, expires_at=expires)
    response = RedirectResponse("/console", 303)
    response.set_cookie(
        SESSION_COOKIE,
        f"{subject}:{token}",
        max_age=SESSION_HOURS * 3600,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout() -> Response:
    response = RedirectResponse("/console/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


@router.get("", response_model=None)
async def home(request: Request, tx: TransactionsDep, organiser: ConsoleOrganiser) -> Response:
    rows, _ = await tx.read(
        lambda conn: networks.list_networks(conn, status=None, limit=500, cursor=None)
    )
    if not organiser.platform:
        rows = [row for row in rows if row["organisation_id"] == organiser.organisation_id]
    return _render(request, "networks.html", networks=rows)


# --- networks ----------------------------------------------------------------------------------


def _number(text: str) -> int | str:
    """A number field as a number; anything else is left for validation to refuse."""
    try:
        return int(text)
    except ValueError:
        return text


def _network_body(form: dict[str, str], *, editing: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        key: form.get(key, "").strip() or None
        for key in ("title", "description", "purpose", "target_group", "language")
    }
    body["organisers"] = [line.strip() for line in form.get("organisers", "").splitlines()]
    body["organisers"] = [name for name in body["organisers"] if name]
    body["max_companions"] = _number(form.get("max_companions", "1").strip() or "0")
    contact = {"name": form.get("contact_name", "").strip(), "email": None}
    contact["email"] = form.get("contact_email", "").strip() or None
    body["contact"] = contact if contact["name"] else None
    if editing:
        body["status"] = form.get("status") or None
        return {key: value for key, value in body.items() if value is not None}
    return body


@router.get("/networks/new", response_class=HTMLResponse, response_model=None)
async def new_network(request: Request, _: ConsoleOrganiser) -> Response:
    return _render(
        request, "network_form.html", network=None, values={}, errors={}, languages_=LANGUAGES
    )


@router.post("/networks", response_model=None)
async def create_network(
    request: Request, tx: TransactionsDep, organiser: ConsoleOrganiser
) -> Response:
    form = await read_form(request)
    try:
        command = NetworkIn.model_validate(_network_body(form, editing=False))
    except ValidationError as error:
        return _render(
            request,
            "network_form.html",
            status=422,
            network=None,
            values=form,
            errors=_errors(error, language_of(request)),
            languages_=LANGUAGES,
        )
    row = await tx.run(
        lambda conn: networks.create_network(
            conn, command, organisation_id=organiser.organisation_id
        )
    )
    return RedirectResponse(f"/console/networks/{row['id']}", 303)


def _network_values(network: Any) -> dict[str, Any]:
    contact = network["contact"] or {}
    return {
        **{key: network[key] or "" for key in ("title", "description", "purpose", "target_group")},
        "language": network["language"],
        "organisers": "\n".join(network["organisers"]),
        "max_companions": network["max_companions"],
        "contact_name": contact.get("name") or "",
        "contact_email": contact.get("email") or "",
        "status": network["status"],
    }


async def _network_page(conn: Any, ctx: ServiceContext, network_id: uuid.UUID) -> dict[str, Any]:
    network = await networks.get_network(conn, network_id)
    rows, _ = await meetings.list_meetings(conn, network_id, limit=500, cursor=None)
    return {
        "network": network,
        "meetings": [_meeting_summary(row) for row in rows],
        "now": ctx.clock.now(),
    }


def _meeting_summary(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "status": row["status"],
        "when": _local(row["starts_at"], row["timezone"]),
        "seats": f"{row['seats_taken']} / {row['capacity']}",
        "waitlist": row["waitlist_length"],
        "ends_at": row["ends_at"],
    }


def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


@router.get("/networks/{network_id}", response_class=HTMLResponse, response_model=None)
async def show_network(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    try:
        page = await tx.read(
            scoped(organiser, "network", network_id, lambda c: _network_page(c, ctx, network_id))
        )
    except Problem:
        return _render(request, "missing.html", status=404)
    return _render(
        request,
        "network.html",
        values=_network_values(page["network"]),
        errors={},
        meeting_values={"timezone": "Europe/Copenhagen"},
        meeting_errors={},
        saved=request.query_params.get("saved") == "1",
        languages_=LANGUAGES,
        **page,
    )


@router.post("/networks/{network_id}", response_model=None)
async def update_network(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    form = await read_form(request)
    try:
        command = NetworkPatch.model_validate(_network_body(form, editing=True))
        await tx.run(
            scoped(
                organiser,
                "network",
                network_id,
                lambda conn: networks.update_network(conn, network_id, command),
            )
        )
    except ValidationError as error:
        page = await tx.read(
            scoped(organiser, "network", network_id, lambda c: _network_page(c, ctx, network_id))
        )
        return _render(
            request,
            "network.html",
            status=422,
            values=form,
            errors=_errors(error, language_of(request)),
            meeting_values={"timezone": "Europe/Copenhagen"},
            meeting_errors={},
            saved=False,
            languages_=LANGUAGES,
            **page,
        )
    return RedirectResponse(f"/console/networks/{network_id}?saved=1", 303)


# --- meetings ----------------------------------------------------------------------------------


def _moment(text: str, zone: str) -> str | None:
    """A datetime-local field ("2026-12-06T10:00") read in the meeting's own time zone."""
    if not text.strip():
        return None
    try:
        local = datetime.fromisoformat(text.strip()).replace(tzinfo=ZoneInfo(zone))
    except (ValueError, KeyError):
        return text  # left for validation to refuse, next to the field
    return local.isoformat()


def _meeting_body(form: dict[str, str], *, editing: bool) -> dict[str, Any]:
    zone = form.get("timezone", "").strip() or "Europe/Copenhagen"
    try:
        ZoneInfo(zone)
    except (ValueError, KeyError):
        zone = "UTC"
    body: dict[str, Any] = {
        key: form.get(key, "").strip() or None
        for key in ("title", "description", "location", "online_url", "capacity")
    }
    body["timezone"] = form.get("timezone", "").strip() or "Europe/Copenhagen"
    for key in ("starts_at", "ends_at", "registration_deadline"):
        body[key] = _moment(form.get(key, ""), zone)
    body["open_to_public"] = form.get("open_to_public") == "yes"
    body["capacity"] = _number(body["capacity"]) if body["capacity"] is not None else None
    if editing:
        return {key: value for key, value in body.items() if value is not None}
    return {key: value for key, value in body.items() if value is not None or key == "capacity"}


def _meeting_values(meeting: Any) -> dict[str, Any]:
    zone = ZoneInfo(meeting["timezone"])

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else ""

    return {
        **{key: meeting[key] or "" for key in ("title", "description", "location", "online_url")},
        "timezone": meeting["timezone"],
        "capacity": meeting["capacity"],
        "starts_at": local(meeting["starts_at"]),
        "ends_at": local(meeting["ends_at"]),
        "registration_deadline": local(meeting["registration_deadline"]),
        "open_to_public": meeting["open_to_public"],
    }


@router.post("/networks/{network_id}/meetings", response_model=None)
async def create_meeting(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    form = await read_form(request)
    problem = None
    try:
        command = MeetingIn.model_validate(_meeting_body(form, editing=False))
        row = await tx.run(
            scoped(
                organiser,
                "network",
                network_id,
                lambda conn: meetings.schedule_meeting(conn, network_id, command),
            )
        )
    except ValidationError as error:
        errors = _errors(error, language_of(request))
    except Problem as error:
        errors, problem = {}, error.detail
    else:
        return RedirectResponse(f"/console/meetings/{row['id']}", 303)
    page = await tx.read(lambda conn: _network_page(conn, ctx, network_id))
    return _render(
        request,
        "network.html",
        status=422,
        values=_network_values(page["network"]),
        errors={},
        meeting_values=form,
        meeting_errors=errors,
        problem=problem,
        saved=False,
        languages_=LANGUAGES,
        **page,
    )


async def _meeting_page(conn: Any, meeting_id: uuid.UUID) -> dict[str, Any]:
    meeting = await meetings.get_meeting(conn, meeting_id)
    network = await networks.get_network(conn, meeting["network_id"])
    people, _ = await registrations.roster(conn, meeting_id, limit=100_000, cursor=None)
    return {
        "meeting": meeting,
        "network": network,
        "confirmed": [p for p in people if p["status"] == "confirmed"],
        "waitlisted": [p for p in people if p["status"] == "waitlisted"],
        "when": _local(meeting["starts_at"], meeting["timezone"]),
    }


async def _visible_meeting_page(
    tx: Transactions, organiser: Principal, meeting_id: uuid.UUID
) -> dict[str, Any] | None:
    """The meeting's page data, or None when it does not exist for this organiser."""
    try:
        return await tx.read(
            scoped(organiser, "meeting", meeting_id, lambda c: _meeting_page(c, meeting_id))
        )
    except Problem:
        return None


@router.get("/meetings/{meeting_id}", response_class=HTMLResponse, response_model=None)
async def show_meeting(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    organiser: ConsoleOrganiser,
) -> Response:
    page = await _visible_meeting_page(tx, organiser, meeting_id)
    if page is None:
        return _render(request, "missing.html", status=404)
    return _render(
        request,
        "meeting.html",
        values=_meeting_values(page["meeting"]),
        errors={},
        problem=None,
        saved=request.query_params.get("saved") == "1",
        **page,
    )


@router.post("/meetings/{meeting_id}", response_model=None)
async def update_meeting(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """Edit, reschedule or resize; the notification service tells registered people."""
    form = await read_form(request)
    problem = None
    try:
        command = MeetingPatch.model_validate(_meeting_body(form, editing=True))
        await tx.run(
            scoped(
                organiser,
                "meeting",
                meeting_id,
                lambda conn: meetings.update_meeting(conn, ctx, meeting_id, command),
            )
        )
    except ValidationError as error:
        errors = _errors(error, language_of(request))
    except Problem as error:
        errors, problem = {}, error.detail
    else:
        return RedirectResponse(f"/console/meetings/{meeting_id}?saved=1", 303)
    page = await _visible_meeting_page(tx, organiser, meeting_id)
    if page is None:
        return _render(request, "missing.html", status=404)
    return _render(
        request,
        "meeting.html",
        status=422 if errors else 409,
        values=form,
        errors=errors,
        problem=problem,
        saved=False,
        **page,
    )


@router.post("/meetings/{meeting_id}/cancel", response_model=None)
async def cancel_meeting(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    organiser: ConsoleOrganiser,
) -> Response:
    reason = (await read_form(request)).get("reason", "").strip()[:500] or None
    with contextlib.suppress(Problem):  # already cancelled: the page shows it so
        await tx.run(
            scoped(
                organiser,
                "meeting",
                meeting_id,
                lambda conn: meetings.cancel_meeting(conn, meeting_id, reason=reason),
            )
        )
    return RedirectResponse(f"/console/meetings/{meeting_id}", 303)


@router.get("/meetings/{meeting_id}/roster.csv", response_model=None)
async def roster_csv(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    organiser: ConsoleOrganiser,
) -> Response:
    page = await _visible_meeting_page(tx, organiser, meeting_id)
    if page is None:
        return _render(request, "missing.html", status=404)
    header = ["status", "waitlist_position", "name", "email", "municipality", "seats",
              "companions", "registered_at", "checked_in_at"]  # fmt: skip
    rows = [
        [
            person["status"],
            person["waitlist_position"] or "",
            person["name"] or "",
            person["email"] or "",
            person["municipality"],
            person["seats"],
            "; ".join(c.get("name") or "" for c in person["companions"]),
            person["registered_at"].isoformat(),
            person["checked_in_at"].isoformat() if person["checked_in_at"] else "",
        ]
        for person in [*page["confirmed"], *page["waitlisted"]]
    ]
    return Response(
        "\ufeff" + write_csv(header, rows),  # a BOM, so spreadsheets read the letters æøå right
        media_type="text/csv; charset=utf-8",
        headers={
            **_HEADERS,
            "Content-Disposition": f'attachment; filename="roster-{meeting_id}.csv"',
        },
    )


# --- check-in at the door ----------------------------------------------------------------------


@router.get("/meetings/{meeting_id}/check-in", response_class=HTMLResponse, response_model=None)
async def check_in_view(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    page = await _visible_meeting_page(tx, organiser, meeting_id)
    if page is None:
        return _render(request, "missing.html", status=404)
    query = request.query_params.get("q", "").strip().lower()
    people = [p for p in page["confirmed"] if not query or query in (p["name"] or "").lower()]
    arrived = sum(1 for p in page["confirmed"] if p["checked_in_at"] is not None)
    started = ctx.clock.now() >= page["meeting"]["starts_at"]
    return _render(
        request,
        "check_in.html",
        people=people,
        query=query,
        arrived=arrived,
        expected=len(page["confirmed"]),
        no_shows=len(page["confirmed"]) - arrived if started else None,
        **page,
    )


@router.post("/registrations/{registration_id}/check-in", response_model=None)
async def check_in(
    registration_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """A tap at the door. Checking in twice changes nothing, so the page may safely retry."""
    try:
        row = await tx.run(
            scoped(
                organiser,
                "registration",
                registration_id,
                lambda conn: registrations.check_in(conn, ctx, registration_id),
            )
        )
    except Problem as error:
        return JSONResponse({"detail": error.detail}, status_code=error.status)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(
            {"registration_id": str(row["id"]), "checked_in_at": row["checked_in_at"].isoformat()}
        )
    query = (await read_form(request)).get("q", "")
    back = f"/console/meetings/{row['meeting_id']}/check-in"
    return RedirectResponse(f"{back}?{urlencode({'q': query})}#r-{row['id']}", 303)
