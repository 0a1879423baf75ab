"""The console's page for a meeting's questions: those asked at registration (dietary needs,
access) with how long their answers are kept, and the feedback asked of attendees afterwards.

One form of question rows (a row left without text is left out); saving is a PATCH of the
meeting, so the API's checks apply, and an edited question keeps its id (and its answers).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from registration.api.deps import ContextDep, TransactionsDep
from registration.service import meetings
from registration.service.commands import MeetingPatch
from registration.web.console.forms import field_errors
from registration.web.console.pages import missing, render, visible_meeting_page
from registration.web.console.session import ConsoleOrganiser
from registration.web.requests import language_of, read_form
from registration.web.words import gettext
from tilmeld_shared.events import Question
from tilmeld_shared.i18n import N_
from tilmeld_shared.problems import Problem

router = APIRouter(prefix="/console", include_in_schema=False)
ROWS = 5  # per list; a meeting with more (set through the API) shows them all, and one more
KINDS = (("text", N_("Free text")), ("choice", N_("A choice")), ("scale", N_("A scale")))
# The two lists of the form, by the prefix of their rows' fields and the field of the API.
LISTS = (("r", "questions"), ("f", "feedback"))


def _rows_of(prefix: str, questions: list[Question]) -> tuple[int, dict[str, Any]]:
    """How many rows the form shows for a list, and its questions as the rows' values."""
    values: dict[str, Any] = {}
    for number, question in enumerate(questions, start=1):
        row = f"{prefix}{number}_"
        values |= {
            row + "id": str(question.question_id),
            row + "text": question.text,
            row + "kind": question.kind,
            row + "options": "\n".join(question.options),
            row + "min": "" if question.min is None else question.min,
            row + "max": "" if question.max is None else question.max,
            row + "required": question.required,
        }
    return max(ROWS, len(questions) + 1), values


def _number(text: str) -> int | str | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text  # left for validation to refuse, beside the field


def _questions_from(form: dict[str, str], prefix: str) -> list[dict[str, Any]]:
    """A list's rows with text, in order, as the API's questions."""
    questions = []
    number = 1
    while f"{prefix}{number}_text" in form:
        row = f"{prefix}{number}_"
        number += 1
        text = form.get(row + "text", "").strip()
        if not text:
            continue
        kind = form.get(row + "kind", "text")
        question: dict[str, Any] = {
            "text": text,
            "kind": kind,
            "required": form.get(row + "required") == "yes",
        }
        if form.get(row + "id"):
            question["question_id"] = form[row + "id"]
        if kind == "choice":
            options = form.get(row + "options", "").splitlines()
            question["options"] = [option.strip() for option in options if option.strip()]
        if kind == "scale":
            for end in ("min", "max"):
                value = _number(form.get(row + end, ""))
                if value is not None:
                    question[end] = value
        questions.append({"row": row, **question})
    return questions


def _errors(error: ValidationError, lang: str, rows: dict[str, list[str]]) -> dict[str, str]:
    """pydantic's findings by the form's fields: a question's at its row's text."""
    found = {k: v for k, v in field_errors(error, lang).items() if k not in dict(LISTS).values()}
    for item in error.errors():
        location = [str(part) for part in item["loc"]]
        listed = location[:1] in (["questions"], ["feedback"]) and len(location) > 1
        if listed and location[1].isdigit() and int(location[1]) < len(rows[location[0]]):
            field = rows[location[0]][int(location[1])] + "text"
            found.setdefault(field, gettext(lang, "Check this question."))
    return found


def _page(request: Request, page: dict[str, Any], **context: Any) -> Response:
    meeting = page["meeting"]
    registration_rows, registration_values = _rows_of("r", page["questions"])
    feedback_rows, feedback_values = _rows_of("f", page["feedback_questions"])
    values = {
        **registration_values,
        **feedback_values,
        "answers_retention_days": meeting["answers_retention_days"] or "",
    }
    return render(
        request,
        "questions.html",
        **{
            "meeting": meeting,
            "network": page["network"],
            "kinds": KINDS,
            "rows": {"r": registration_rows, "f": feedback_rows},
            "values": values,
            "errors": {},
            "problem": None,
            "saved": request.query_params.get("saved") == "1",
            **context,
        },
    )


@router.get("/meetings/{meeting_id}/questions", response_model=None)
async def show_questions(
    meeting_id: uuid.UUID, request: Request, tx: TransactionsDep, organiser: ConsoleOrganiser
) -> Response:
    page = await visible_meeting_page(tx, organiser, meeting_id)
    if page is None:
        return missing(request)
    return _page(request, page)


@router.post("/meetings/{meeting_id}/questions", response_model=None)
async def save_questions(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    organiser: ConsoleOrganiser,
) -> Response:
    form = await read_form(request)
    lang = language_of(request)
    page = await visible_meeting_page(tx, organiser, meeting_id)
    if page is None:
        return missing(request)
    lists = {field: _questions_from(form, prefix) for prefix, field in LISTS}
    rows = {field: [question.pop("row") for question in found] for field, found in lists.items()}
    retention = _number(form.get("answers_retention_days", ""))
    errors: dict[str, str] = {}
    problem = None
    try:
        command = MeetingPatch.model_validate({**lists, "answers_retention_days": retention})
        await meetings.update_meeting(tx, ctx, meeting_id, command, organiser=organiser)
    except ValidationError as error:
        errors = _errors(error, lang, rows)
    except Problem as error:
        problem = error.detail
    else:
        return RedirectResponse(f"/console/meetings/{meeting_id}/questions?saved=1", 303)
    counts = {
        prefix: max(ROWS, sum(1 for name in form if name[:1] == prefix and name.endswith("_text")))
        for prefix, _ in LISTS
    }
    return _page(
        request,
        page,
        rows=counts,
        values=form,
        errors=errors,
        problem=problem,
        status=422 if errors else 409,
    )
