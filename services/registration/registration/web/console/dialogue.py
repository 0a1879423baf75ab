"""The console's member dialogue: a network's consultations (the list, and the form that asks a
new one), a consultation's results as registration counts them with the responses as CSV,
and the moderation of topic proposals (publish, reject with a reason, put on a meeting).

Each handler reads the form, calls one use case scoped to the organiser, and answers
Post/Redirect/Get, as the rest of the console does.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from registration.api.deps import ContextDep, TransactionsDep
from registration.api.schemas import NetworkPatch
from registration.service import consultations, meetings, networks, proposal_moderation, proposals
from registration.service.dialogue_commands import ConsultationIn, RejectIn, ScheduleIn
from registration.unit_of_work import ServiceContext, Transactions, as_is
from registration.web import headers
from registration.web.console.forms import _moment, field_errors
from registration.web.console.pages import local_time, missing, render
from registration.web.console.session import ConsoleOrganiser
from registration.web.public.dialogue import zone_of
from registration.web.requests import language_of, read_form
from registration.web.words import gettext, pgettext
from tilmeld_shared.auth import Principal
from tilmeld_shared.csv_export import write_csv
from tilmeld_shared.i18n import N_
from tilmeld_shared.problems import Problem

router = APIRouter(prefix="/console", include_in_schema=False)
QUESTION_ROWS = 6
KINDS = (("text", N_("Free text")), ("choice", N_("A choice")), ("scale", N_("A scale")))
AUDIENCES = (
    ("members", N_("The network's members")),
    ("parties", N_("The contact persons of the member municipalities")),
    ("public", N_("Everyone (the members are invited)")),
)
STATUSES = {
    "scheduled": N_("Not open yet"),
    "open": N_("Open"),
    "closed": N_("Closed"),
}


def _word(lang: str, table: dict[str, str], key: str) -> str:
    """The word a table of marked messages holds for `key`, in the page's language."""
    return gettext(lang, table[key])


# --- consultations -----------------------------------------------------------------------------


def _number(text: str) -> int | str | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text  # left for validation to refuse, beside the field


def consultation_body(form: dict[str, str], zone: str) -> dict[str, Any]:
    """The console's form as a `ConsultationIn` body: the question rows with text, in order;
    the times read in the network's time zone."""
    questions = []
    for number in range(1, QUESTION_ROWS + 1):
        prefix = f"q{number}_"
        text = form.get(prefix + "text", "").strip()
        if not text:
            continue
        kind = form.get(prefix + "kind", "text")
        question: dict[str, Any] = {
            "text": text,
            "kind": kind,
            "required": form.get(prefix + "required") == "yes",
        }
        if kind == "choice":
            options = form.get(prefix + "options", "").splitlines()
            question["options"] = [option.strip() for option in options if option.strip()]
        if kind == "scale":
            for end in ("min", "max"):
                value = _number(form.get(prefix + end, ""))
                if value is not None:
                    question[end] = value
        questions.append(question)
    body = {
        "title": form.get("title", "").strip() or None,
        "description": form.get("description", "").strip() or None,
        "opens_at": _moment(form.get("opens_at", ""), zone),
        "closes_at": _moment(form.get("closes_at", ""), zone),
        "audience": form.get("audience") or "members",
        "questions": questions,
    }
    # A field left empty is missing (so the page asks for it), not a value to check.
    return {key: value for key, value in body.items() if value is not None}


def consultation_errors(error: ValidationError, lang: str) -> dict[str, str]:
    """pydantic's findings by the form's fields: a question's by its row's fields."""
    found = field_errors(error, lang)
    questions = found.pop("questions", None)
    for item in error.errors():
        location = [str(part) for part in item["loc"]]
        if location[:1] == ["questions"] and len(location) > 1 and location[1].isdigit():
            row = int(location[1]) + 1
            name = location[2] if len(location) > 2 else "text"
            found.setdefault(f"q{row}_{name}", gettext(lang, "Check this question."))
        elif location == ["questions"]:
            found.setdefault("q1_text", gettext(lang, "Ask at least one question."))
        elif not location:  # the window's order, checked on the whole body
            found.setdefault("closes_at", gettext(lang, "Check this value."))
    if questions and not any(name.startswith("q") for name in found):
        found["q1_text"] = questions
    return found


async def _own_network(
    tx: Transactions, network_id: uuid.UUID, organiser: Principal
) -> tuple[Any, list[Any]] | None:
    """The network and its meetings, when the organiser may see it."""
    try:
        return await meetings.network_and_meetings(tx, network_id, limit=500, organiser=organiser)
    except Problem:
        return None


def _window(consultation: Any, zone: str) -> str:
    opens, closes = consultation["opens_at"], consultation["closes_at"]
    return f"{local_time(opens, zone)} – {local_time(closes, zone)}"


async def _consultations_page(
    tx: Transactions, ctx: ServiceContext, network: Any, lang: str
) -> dict[str, Any]:
    found = await consultations.list_consultations(tx, ctx, network["id"], limit=200, cursor=None)
    zone = zone_of(network)
    audiences = dict(AUDIENCES)
    return {
        "network": network,
        "consultations": [
            {
                "id": row["id"],
                "title": row["title"],
                "window": _window(row, zone),
                "audience": _word(lang, audiences, row["audience"]),
                "status": _word(lang, STATUSES, row["status"]),
            }
            for row in found.rows
        ],
        "timezone": zone,
        "question_rows": QUESTION_ROWS,
        "kinds": [(value, gettext(lang, label)) for value, label in KINDS],
        "audiences": [(value, gettext(lang, label)) for value, label in AUDIENCES],
    }


@router.get("/networks/{network_id}/consultations", response_model=None)
async def list_consultations(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    own = await _own_network(tx, network_id, organiser)
    if own is None:
        return missing(request)
    page = await _consultations_page(tx, ctx, own[0], language_of(request))
    return render(
        request,
        "consultations.html",
        values={"audience": "members"},
        errors={},
        problem=None,
        **page,
    )


@router.post("/networks/{network_id}/consultations", response_model=None)
async def create_consultation(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    form = await read_form(request)
    lang = language_of(request)
    own = await _own_network(tx, network_id, organiser)
    if own is None:
        return missing(request)
    network = own[0]
    problem = None
    try:
        command = ConsultationIn.model_validate(consultation_body(form, zone_of(network)))
        created = await consultations.create_consultation(
            tx, ctx, network_id, command, organiser=organiser, once=as_is()
        )
    except ValidationError as error:
        errors = consultation_errors(error, lang)
    except Problem as error:
        errors, problem = {}, error.detail
    else:
        return RedirectResponse(f"/console/consultations/{created['id']}", 303)
    page = await _consultations_page(tx, ctx, network, lang)
    return render(
        request,
        "consultations.html",
        status=422 if errors else 409,
        values=form,
        errors=errors,
        problem=problem,
        **page,
    )


def _share(count: int, total: int) -> str:
    return f"{round(100 * count / total)} %" if total else "–"


def results_view(results: dict[str, Any], lang: str) -> dict[str, Any]:
    """Registration's counts as the page's tables: per choice or scale question each answer's
    count and its share of those who answered it; a free-text question points to the CSV."""
    tables = []
    for question in results["questions"]:
        answered = question.get("answered") or 0
        tables.append(
            {
                "text": question["text"],
                "kind": question["kind"],
                "mean": question.get("mean"),
                "rows": [
                    {
                        "label": str(row["value"]),
                        "count": row["count"],
                        "share": _share(row["count"], answered),
                    }
                    for row in question.get("counts", [])
                ],
            }
        )
    rate = results.get("response_rate")
    return {
        "counted": results["responses"],
        "pending": results["pending"],
        "audience_size": results.get("audience_size"),
        "rate": f"{round(100 * rate)} %" if rate is not None else None,
        "questions": tables,
        "municipalities": [
            {
                "municipality": row["municipality"] or pgettext(lang, "municipality", "Not given"),
                "count": row["responses"],
            }
            for row in results["municipalities"]
        ],
    }


@router.get("/consultations/{consultation_id}", response_model=None)
async def show_results(
    consultation_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    lang = language_of(request)
    try:
        results = await consultations.consultation_results(
            tx, ctx, consultation_id, organiser=organiser
        )
        consultation = await consultations.get_consultation(tx, ctx, consultation_id)
        own = (
            await _own_network(tx, consultation["network_id"], organiser) if consultation else None
        )
    except Problem:
        return missing(request)
    if consultation is None or own is None:
        return missing(request)
    network = own[0]
    zone = zone_of(network)
    return render(
        request,
        "consultation.html",
        consultation=consultation,
        network=network,
        window=_window(consultation, zone),
        audience=_word(lang, dict(AUDIENCES), consultation["audience"]),
        state=_word(lang, STATUSES, consultation["status"]),
        results=results_view(results, lang),
    )


@router.get("/consultations/{consultation_id}/responses.csv", response_model=None)
async def responses_csv(
    consultation_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """Every response with who gave it and each answer, a column per question."""
    try:
        export = await consultations.export_responses(tx, ctx, consultation_id, organiser=organiser)
    except Problem:
        return missing(request)
    questions = list(export.consultation["questions"])
    header = ["status", "name", "email", "municipality", "role", "organisation"]
    header += ["submitted_at", "amended_at", *(question["text"] for question in questions)]
    rows = [
        [
            response["status"],
            response["name"] or "",
            response["email"] or "",
            response["municipality"] or "",
            response["role"] or "",
            response["organisation"] or "",
            response["submitted_at"].isoformat(),
            response["amended_at"].isoformat() if response["amended_at"] else "",
            *(response["answers"].get(str(q["question_id"]), "") for q in questions),
        ]
        for response in export.responses
    ]
    return Response(
        "\ufeff" + write_csv(header, rows),  # a BOM, so spreadsheets read the letters æøå right
        media_type="text/csv; charset=utf-8",
        headers={
            **headers.SIGNED_IN,
            "Content-Disposition": f'attachment; filename="responses-{consultation_id}.csv"',
        },
    )


# --- topic proposals ---------------------------------------------------------------------------

PROPOSAL_STATUSES = {
    "submitted": N_("Waiting for a decision"),
    "published": N_("Published"),
    "rejected": N_("Rejected"),
    "scheduled": N_("On a meeting's agenda"),
}
CHOICES = {
    "off": N_("No"),
    "moderated": N_("Yes, once an organiser has published them"),
    "open": N_("Yes, shown at once"),
}
SETTINGS = {
    "off": N_("The network does not take topic proposals (its settings say so)."),
    "moderated": N_("Members' proposals wait for an organiser to publish them."),
    "open": N_("Members' proposals are published at once."),
}


async def _proposals_page(
    tx: Transactions,
    ctx: ServiceContext,
    organiser: Principal,
    network_id: uuid.UUID,
    lang: str,
) -> dict[str, Any] | None:
    """Every proposal of the network (each status) ranked by votes, and the coming meetings a
    published one can be put on; None when the network is not the organiser's."""
    own = await _own_network(tx, network_id, organiser)
    if own is None:
        return None
    network, rows = own
    # Those waiting for a decision first, then the list members see, then the rejected ones.
    listed = [
        row
        for status in ("submitted", None, "rejected")
        for row in (
            await proposals.list_proposals(
                tx,
                network_id,
                caller=organiser,
                sort="votes",
                status=status,
                limit=500,
                cursor=None,
            )
        ).rows
    ]
    now = ctx.clock.now()
    by_id = {row["id"]: row for row in rows}
    return {
        "network": network,
        "setting": _word(lang, SETTINGS, network["proposals"]),
        "choice": network["proposals"],
        "choices": [(value, _word(lang, CHOICES, value)) for value in CHOICES],
        "meetings": [
            {
                "id": row["id"],
                "title": row["title"],
                "when": local_time(row["starts_at"], row["timezone"]),
            }
            for row in rows
            if row["status"] != "cancelled" and row["starts_at"] > now
        ],
        "proposals": [
            {
                "id": row["id"],
                "title": row["title"],
                "body": row["body"],
                "votes": row["votes"],
                "municipality": row["municipality"] or "",
                "status": row["status"],
                "status_words": _word(lang, PROPOSAL_STATUSES, row["status"]),
                "reason": row["reason"],
                "meeting": by_id.get(row["meeting_id"]) if row["meeting_id"] else None,
            }
            for row in listed
        ],
    }


@router.get("/networks/{network_id}/proposals", response_model=None)
async def moderate_proposals(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    page = await _proposals_page(tx, ctx, organiser, network_id, language_of(request))
    if page is None:
        return missing(request)
    return render(request, "proposals.html", problem=None, **page)


async def _decided(
    request: Request,
    tx: Transactions,
    ctx: ServiceContext,
    organiser: Principal,
    proposal_id: uuid.UUID,
    decide: Callable[[], Awaitable[None]],
) -> Response:
    """Run the decision; back to the list, or the list with the refusal at its top."""
    proposal = await proposals.get_proposal(tx, proposal_id)
    if proposal is None:
        return missing(request)
    lang = language_of(request)
    try:
        await decide()
    except ValidationError:
        problem = gettext(lang, "Check this value.")
    except Problem as error:
        if error.status in (403, 404):
            return missing(request)
        problem = error.detail  # decided meanwhile, a cancelled meeting: the page says so
    else:
        return RedirectResponse(f"/console/networks/{proposal['network_id']}/proposals", 303)
    page = await _proposals_page(tx, ctx, organiser, proposal["network_id"], lang)
    if page is None:
        return missing(request)
    return render(request, "proposals.html", status=409, problem=problem, **page)


@router.post("/networks/{network_id}/proposals/setting", response_model=None)
async def change_setting(
    network_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """Whether members propose topics: not at all, for an organiser's review, or at once."""
    form = await read_form(request)
    try:
        command = NetworkPatch.model_validate({"proposals": form.get("proposals")})
        await networks.update_network(tx, network_id, command, organiser=organiser)
    except ValidationError:
        pass  # not one of the three: nothing changes, the page shows the setting as it is
    except Problem:
        return missing(request)
    return RedirectResponse(f"/console/networks/{network_id}/proposals", 303)


@router.post("/proposals/{proposal_id}/publish", response_model=None)
async def publish(
    proposal_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    async def decide() -> None:
        await proposal_moderation.publish_proposal(
            tx, ctx, proposal_id, organiser=organiser, once=as_is()
        )

    return await _decided(request, tx, ctx, organiser, proposal_id, decide)


@router.post("/proposals/{proposal_id}/reject", response_model=None)
async def reject(
    proposal_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """Reject, with the reason the author is sent."""
    form = await read_form(request)

    async def decide() -> None:
        command = RejectIn.model_validate({"reason": form.get("reason", "").strip() or None})
        await proposal_moderation.reject_proposal(
            tx, ctx, proposal_id, reason=command.reason, organiser=organiser, once=as_is()
        )

    return await _decided(request, tx, ctx, organiser, proposal_id, decide)


@router.post("/proposals/{proposal_id}/schedule", response_model=None)
async def schedule(
    proposal_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    """Put the proposal on the chosen meeting's agenda (the author is told)."""
    form = await read_form(request)

    async def decide() -> None:
        command = ScheduleIn.model_validate({"meeting_id": form.get("meeting_id", "")})
        await proposal_moderation.schedule_proposal(
            tx, ctx, proposal_id, command.meeting_id, organiser=organiser, once=as_is()
        )

    return await _decided(request, tx, ctx, organiser, proposal_id, decide)
