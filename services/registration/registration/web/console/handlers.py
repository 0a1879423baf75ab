"""The organiser console's pages: sign-in, networks and meetings.

Each handler reads the form, calls one use case (scoped to the organiser's organisation) and
answers Post/Redirect/Get; a refused form comes back with the message beside the field.
"""

from __future__ import annotations

import contextlib
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from registration.api.deps import ContextDep, TransactionsDep
from registration.api.schemas import DecisionIn, MeetingIn, MeetingPatch, NetworkIn, NetworkPatch
from registration.service import meetings, networks, organisations, parties
from registration.unit_of_work import as_is
from registration.web.console.forms import (
    DEFAULT_TIMEZONE,
    field_errors,
    meeting_body,
    meeting_values,
    network_body,
    network_values,
)
from registration.web.console.pages import (
    missing,
    network_page,
    people_to_tell,
    render,
    visible_meeting_page,
)
from registration.web.console.session import (
    PLATFORM_ORGANISER,
    ConsoleOrganiser,
    end_session,
    start_session,
)
from registration.web.languages import LANGUAGES
from registration.web.requests import language_of, read_form
from tilmeld_shared.auth import API_KEY_PREFIX, Role, role_of
from tilmeld_shared.problems import Problem

router = APIRouter(prefix="/console", include_in_schema=False)

# A change to these reaches everyone registered (see notification's change emails).
SEEN_BY_PARTICIPANTS = ("title", "starts_at", "ends_at", "location", "online_url")


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", failed=False)


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
        principal = await organisations.caller_with_api_key(tx, key)
        if principal is not None and principal.role is Role.ORGANISER:
            subject = principal.organisation_id
    if subject is None:
        return render(request, "login.html", status=401, failed=True)
    response = RedirectResponse("/console", 303)
    start_session(response, request, ctx, subject)
    return response


@router.post("/logout")
async def logout() -> Response:
    response = RedirectResponse("/console/login", 303)
    end_session(response)
    return response


@router.get("", response_model=None)
async def home(request: Request, tx: TransactionsDep, organiser: ConsoleOrganiser) -> Response:
    rows, _ = await networks.list_networks(tx, status=None, limit=500, cursor=None)
    if not organiser.platform:
        rows = [row for row in rows if row["organisation_id"] == organiser.organisation_id]
    return render(request, "networks.html", networks=rows)


# --- networks ----------------------------------------------------------------------------------


@router.get("/networks/new", response_class=HTMLResponse, response_model=None)
async def new_network(request: Request, _: ConsoleOrganiser) -> Response:
    return render(
        request, "network_form.html", network=None, values={}, errors={}, languages_=LANGUAGES
    )


@router.post("/networks", response_model=None)
async def create_network(
    request: Request, tx: TransactionsDep, organiser: ConsoleOrganiser
) -> Response:
    form = await read_form(request)
    try:
        command = NetworkIn.model_validate(network_body(form, editing=False))
    except ValidationError as error:
        return render(
            request,
            "network_form.html",
            status=422,
            network=None,
            values=form,
            errors=field_errors(error, language_of(request)),
            languages_=LANGUAGES,
        )
    row = await networks.create_network(tx, command, organiser=organiser, once=as_is())
    return RedirectResponse(f"/console/networks/{row['id']}?created=1", 303)


@router.get("/networks/{network_id}", response_class=HTMLResponse, response_model=None)
async def show_network(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    try:
        page = await network_page(tx, ctx, network_id, organiser=organiser)
    except Problem:
        return missing(request)
    return render(
        request,
        "network.html",
        values=network_values(page["network"]),
        errors={},
        meeting_values={"timezone": DEFAULT_TIMEZONE},
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
        command = NetworkPatch.model_validate(network_body(form, editing=True))
        await networks.update_network(tx, network_id, command, organiser=organiser)
    except ValidationError as error:
        page = await network_page(tx, ctx, network_id, organiser=organiser)
        return render(
            request,
            "network.html",
            status=422,
            values=form,
            errors=field_errors(error, language_of(request)),
            meeting_values={"timezone": DEFAULT_TIMEZONE},
            meeting_errors={},
            saved=False,
            languages_=LANGUAGES,
            **page,
        )
    return RedirectResponse(f"/console/networks/{network_id}?saved=1", 303)


# --- meetings ----------------------------------------------------------------------------------


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
        command = MeetingIn.model_validate(meeting_body(form, editing=False))
        row = await meetings.schedule_meeting(
            tx, network_id, command, organiser=organiser, once=as_is(), ctx=ctx
        )
    except ValidationError as error:
        errors = field_errors(error, language_of(request))
    except Problem as error:
        errors, problem = {}, error.detail
    else:
        return RedirectResponse(f"/console/meetings/{row['id']}?created=1", 303)
    page = await network_page(tx, ctx, network_id, organiser=organiser)
    return render(
        request,
        "network.html",
        status=422,
        values=network_values(page["network"]),
        errors={},
        meeting_values=form,
        meeting_errors=errors,
        problem=problem,
        saved=False,
        languages_=LANGUAGES,
        **page,
    )


@router.get("/meetings/{meeting_id}", response_class=HTMLResponse, response_model=None)
async def show_meeting(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    page = await visible_meeting_page(tx, organiser, meeting_id, vault=ctx.vault)
    if page is None:
        return missing(request)
    return render(
        request,
        "meeting.html",
        values=meeting_values(page["meeting"]),
        errors={},
        problem=None,
        saved=request.query_params.get("saved") == "1",
        told=_count(request.query_params.get("told")),
        cancelled_told=_count(request.query_params.get("cancelled")),
        **page,
    )


def _count(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


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
    page = await visible_meeting_page(tx, organiser, meeting_id)
    if page is None:
        return missing(request)
    problem = None
    try:
        command = MeetingPatch.model_validate(meeting_body(form, editing=True))
        updated = await meetings.update_meeting(tx, ctx, meeting_id, command, organiser=organiser)
    except ValidationError as error:
        errors = field_errors(error, language_of(request))
    except Problem as error:
        errors, problem = {}, error.detail
    else:
        # Notification tells the registered people of a change they see (and nobody else).
        seen = any(updated[field] != page["meeting"][field] for field in SEEN_BY_PARTICIPANTS)
        told = people_to_tell(page) if seen else 0
        return RedirectResponse(f"/console/meetings/{meeting_id}?saved=1&told={told}", 303)
    page = await visible_meeting_page(tx, organiser, meeting_id)
    if page is None:
        return missing(request)
    return render(
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
    """Cancelling cannot be undone and emails everyone: the first post shows who will be told
    and asks again; only the confirmed post cancels."""
    form = await read_form(request)
    reason = form.get("reason", "").strip()[:500] or None
    page = await visible_meeting_page(tx, organiser, meeting_id)
    if page is None:
        return missing(request)
    told = people_to_tell(page)
    if form.get("confirmed") != "yes":
        return render(request, "cancel_meeting.html", reason=reason or "", told=told, **page)
    with contextlib.suppress(Problem):  # already cancelled: the page shows it so
        await meetings.cancel_meeting(
            tx, meeting_id, organiser=organiser, reason=reason, once=as_is()
        )
    return RedirectResponse(f"/console/meetings/{meeting_id}?cancelled={told}", 303)


# --- parties -----------------------------------------------------------------------------------


@router.post("/parties/{party_id}/decide", response_model=None)
async def decide_party(
    party_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """Accept or decline an application (with the reason the contact is sent)."""
    form = await read_form(request)
    party = await parties.get_party(tx, party_id)
    if party is None:
        return missing(request)
    try:
        decision = DecisionIn.model_validate({"reason": form.get("reason", "").strip() or None})
        await parties.decide(
            tx,
            ctx,
            party_id,
            accept=form.get("decision") == "accept",
            reason=decision.reason,
            organiser=organiser,
            once=as_is(),
        )
    except ValidationError:
        pass  # a reason no email can carry (control characters, too long): nothing decided
    except Problem as error:
        if error.status == 404:
            return missing(request)
        # Decided or withdrawn meanwhile: the page shows how it stands.
    return RedirectResponse(f"/console/networks/{party['network_id']}#parties", 303)


@router.post("/parties/{party_id}/withdraw", response_model=None)
async def withdraw_party(
    party_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """Withdraw a joined municipality, with the reason the contact is sent."""
    form = await read_form(request)
    party = await parties.get_party(tx, party_id)
    if party is None:
        return missing(request)
    try:
        withdrawal = DecisionIn.model_validate({"reason": form.get("reason", "").strip() or None})
        await parties.withdraw(
            tx,
            ctx,
            party_id,
            token=None,
            reason=withdrawal.reason,
            organiser=organiser,
            once=as_is(),
        )
    except ValidationError:
        pass  # a reason no email can carry: nothing withdrawn
    except Problem as error:
        if error.status == 404:
            return missing(request)
        # Withdrawn meanwhile: the page shows how it stands.
    return RedirectResponse(f"/console/networks/{party['network_id']}#parties", 303)
