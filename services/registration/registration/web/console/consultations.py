"""The console's consultations: a network's consultations (the list, and the form that asks a
new one), and a consultation's results as registration counts them with the responses as CSV.

Each handler reads the form, calls one use case scoped to the organiser, and answers
Post/Redirect/Get, as the rest of the console does.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from registration.api.deps import ContextDep, TransactionsDep
from registration.service import consultations
from registration.service.dialogue_commands import ConsultationIn
from registration.unit_of_work import ServiceContext, Transactions, as_is
from registration.web import headers
from registration.web.console.dialogue import own_network, word
from registration.web.console.forms import _moment, field_errors
from registration.web.console.pages import local_time, missing, render
from registration.web.console.session import ConsoleOrganiser
from registration.web.public.dialogue import zone_of
from registration.web.requests import language_of, read_form
from registration.web.words import gettext, pgettext
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
                "audience": word(lang, audiences, row["audience"]),
                "status": word(lang, STATUSES, row["status"]),
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
    own = await own_network(tx, network_id, organiser)
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
    own = await own_network(tx, network_id, organiser)
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
        own = await own_network(tx, consultation["network_id"], organiser) if consultation else None
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
        audience=word(lang, dict(AUDIENCES), consultation["audience"]),
        state=word(lang, STATUSES, consultation["status"]),
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
