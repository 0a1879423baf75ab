"""A consultation's public page: its questions as a form (free text, a choice, a scale), the
person's fields, and the page the form leads to.

Answered as the enrol form is: Post/Redirect/Get, an error summary linking to each field,
what was typed kept; no JavaScript needed. A choice or a scale is a group of radio buttons
under the question as its legend.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from registration.api.deps import AbuseLimitsDep, ContextDep, TransactionsDep
from registration.service import (
    consultation_answers,
    consultation_responses,
    consultations,
    networks,
)
from registration.service.dialogue_commands import AnswerIn, ResponseIn, ResponsePatch
from registration.unit_of_work import ServiceContext, Transactions, as_is
from registration.web.public.dialogue import (
    NEEDS_SMTPUTF8,
    admit_voice,
    person_errors,
    person_from,
    refusal_words,
    refused_status,
    undeliverable,
    zone_of,
)
from registration.web.public.page import not_found, render, when
from registration.web.requests import language_of, read_form
from registration.web.words import gettext
from tilmeld_shared.i18n import N_
from tilmeld_shared.problems import Forbidden, Invalid, NotFound, Problem, TooManyRequests

router = APIRouter(include_in_schema=False)

AUDIENCES = {
    "members": N_("The network's members"),
    "parties": N_("The contact persons of the network's member municipalities"),
    "public": N_("Everyone"),
}


def audience_words(audience: str, lang: str) -> str:
    """Who a consultation asks, as the page says it."""
    return gettext(lang, AUDIENCES[audience])


def field_name(question_id: object) -> str:
    """A question's form field (and the id the error summary links to)."""
    return f"q_{question_id}"


def _choices(question: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """The radio buttons of a choice or a scale: (value, label); a scale's ends say which
    end is which."""
    if question["kind"] == "choice":
        return [(option, option) for option in question["options"]]
    low, high = question["min"], question["max"]
    labels = {
        low: gettext(lang, "%(n)s (lowest)", n=low),
        high: gettext(lang, "%(n)s (highest)", n=high),
    }
    return [(str(n), labels.get(n, str(n))) for n in range(low, high + 1)]


def _questions(consultation: Any, lang: str) -> list[dict[str, Any]]:
    questions = [dict(question) for question in consultation["questions"]]
    for question in questions:
        question.setdefault("options", [])
        question.setdefault("required", False)
        if question["kind"] == "scale":
            question["min"] = question.get("min") if question.get("min") is not None else 1
            question["max"] = question.get("max") if question.get("max") is not None else 5
        question["choices"] = [] if question["kind"] == "text" else _choices(question, lang)
    return questions


async def _consultation_page(
    ctx: ServiceContext,
    tx: Transactions,
    consultation_id: uuid.UUID,
    choose: Callable[[str], str],
) -> dict[str, Any] | None:
    """The page's data, in the language `choose` picks given the network's own; None if there
    is no such consultation."""
    consultation = await consultations.get_consultation(tx, ctx, consultation_id)
    if consultation is None:
        return None
    network = await networks.get_network(tx, consultation["network_id"])
    lang = choose(network["language"])
    zone = zone_of(network)
    return {
        "lang": lang,
        "consultation": consultation,
        "network": network,
        "questions": _questions(consultation, lang),
        "state": consultation["status"],
        "opens": when(consultation["opens_at"], zone, lang),
        "closes": when(consultation["closes_at"], zone, lang),
        "opens_iso": consultation["opens_at"].isoformat(),
        "closes_iso": consultation["closes_at"].isoformat(),
        "audience": audience_words(consultation["audience"], lang),
        "action": f"/consultations/{consultation_id}/respond?lang={lang}",
        "amending": False,
    }


def answers_from(form: dict[str, str], questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answers the person gave (a question left empty is not answered); a scale's number
    as a number, anything else for the service to refuse beside its question."""
    answers = []
    for question in questions:
        text = form.get(field_name(question["question_id"]), "").strip()
        if not text:
            continue
        value: str | int = text
        if question["kind"] == "scale" and text.lstrip("-").isdigit():
            value = int(text)
        answers.append({"question_id": question["question_id"], "value": value})
    return answers


def _answer_message(question: dict[str, Any], lang: str, missing: bool) -> str:
    if question["kind"] == "choice":
        return gettext(lang, "Choose one of the options.")
    if question["kind"] == "scale":
        return gettext(
            lang,
            "Choose a number from %(low)s to %(high)s.",
            low=question["min"],
            high=question["max"],
        )
    if missing:
        return gettext(lang, "Answer the question.")
    return gettext(lang, "The answer is too long.")


def answer_errors(
    error: Invalid, questions: list[dict[str, Any]], lang: str
) -> dict[str, str] | None:
    """The service's findings on the answers, beside the question each is about; None when
    they name no question of the page."""
    by_id = {str(question["question_id"]): question for question in questions}
    found: dict[str, str] = {}
    for item in error.extensions.get("errors", []):
        question = by_id.get(str(item.get("question_id", "")))
        if question is None:
            continue
        missing = item.get("field", "").rstrip(".") in {"answers", ""}
        found.setdefault(
            field_name(question["question_id"]), _answer_message(question, lang, missing)
        )
    return found or None


def unfit_answers(
    answers: list[dict[str, Any]], questions: list[dict[str, Any]], lang: str
) -> dict[str, str]:
    """The answers judged against their questions as the use case judges them, beside each
    question that is not answered as it asks."""
    try:
        consultation_answers.check_answers(questions, [AnswerIn.model_validate(a) for a in answers])
    except Invalid as error:
        return answer_errors(error, questions, lang) or {}
    except ValidationError:
        pass  # a text beyond its length: answer_length_errors says so
    return {}


def answer_length_errors(
    error: ValidationError,
    answers: list[dict[str, Any]],
    questions: list[dict[str, Any]],
    lang: str,
) -> dict[str, str]:
    """pydantic's findings on the answers given (a text beyond its length), beside the
    question each answered."""
    by_id = {question["question_id"]: question for question in questions}
    found: dict[str, str] = {}
    for item in error.errors():
        location = [str(part) for part in item["loc"]]
        if location[:1] != ["answers"] or len(location) < 2 or not location[1].isdigit():
            continue
        number = int(location[1])
        if number < len(answers):
            question = by_id[answers[number]["question_id"]]
            found.setdefault(
                field_name(question["question_id"]), _answer_message(question, lang, False)
            )
    return found


@router.get("/consultations/{consultation_id}/thanks", response_class=HTMLResponse)
async def responded(
    consultation_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    status: str = "",
) -> HTMLResponse:
    """Where the form leads: counted at once, or waiting for the person to confirm their
    address (the page says only what the address of the request says)."""
    lang = language_of(request)
    consultation = await consultations.get_consultation(tx, ctx, consultation_id)
    if consultation is None:
        return not_found(request)
    if status == "amended":
        heading = gettext(lang, "Your answers are changed")
        message = gettext(lang, "Thank you. We have sent you a short receipt by email.")
    elif status == "pending":
        heading = gettext(lang, "Check your email")
        message = gettext(
            lang,
            "Thank you for your answers. We have sent you a link to confirm your email address: "
            "your answers count once you have confirmed it.",
        )
    else:
        heading = gettext(lang, "Thank you for your answers")
        message = gettext(
            lang,
            "Your answers are counted. We have sent you a receipt by email; its link lets you "
            "change your answers until the consultation closes.",
        )
    return render(
        request,
        "dialogue_state.html",
        lang,
        done=True,
        heading=heading,
        message=message,
        waiting=status == "pending",
        details=[(gettext(lang, "Consultation"), consultation["title"], None)],
        back_url=f"/networks/{consultation['network_id']}?lang={lang}",
        back_label=gettext(lang, "Back to the network"),
    )


@router.get("/networks/{network_id}/consultations", response_class=HTMLResponse)
async def list_consultations(
    network_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    """The network's consultations: open ones to answer, coming ones, and those closed."""
    try:
        network = await networks.get_network(tx, network_id)
    except Problem:
        return not_found(request)
    lang = language_of(request, network["language"])
    zone = zone_of(network)
    found = await consultations.list_consultations(tx, ctx, network_id, limit=100, cursor=None)
    order = {"open": 0, "scheduled": 1, "closed": 2}
    listed = []
    for row in sorted(found.rows, key=lambda row: order[row["status"]]):
        if row["status"] == "open":
            said = gettext(lang, "Open until %(when)s", when=when(row["closes_at"], zone, lang))
        elif row["status"] == "scheduled":
            said = gettext(lang, "Opens on %(when)s", when=when(row["opens_at"], zone, lang))
        else:
            said = gettext(lang, "Closed")
        listed.append(
            {"id": row["id"], "title": row["title"], "state": row["status"], "when": said}
        )
    return render(request, "consultations.html", lang, network=network, consultations=listed)


@router.get("/consultations/{consultation_id}", response_class=HTMLResponse)
async def show_consultation(
    consultation_id: uuid.UUID, request: Request, tx: TransactionsDep, ctx: ContextDep
) -> HTMLResponse:
    def choose(fallback: str) -> str:
        return language_of(request, fallback)

    page = await _consultation_page(ctx, tx, consultation_id, choose)
    if page is None:
        return not_found(request)
    return render(request, "consultation.html", errors={}, values={}, problem=None, **page)


@router.post("/consultations/{consultation_id}/respond", response_class=HTMLResponse)
async def respond_from_page(
    consultation_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
) -> Response:
    form = await read_form(request, max_chars=5000)
    lang = language_of(request)
    page = await _consultation_page(ctx, tx, consultation_id, lambda _: lang)
    if page is None:
        return not_found(request)
    questions = page["questions"]
    answers = answers_from(form, questions)
    errors: dict[str, str] = {}
    problem = None
    refused = 409
    retry_after = None
    try:
        command = ResponseIn.model_validate({"member": person_from(form, lang), "answers": answers})
        if undeliverable(command.member.email, smtputf8=ctx.settings.smtp_accepts_smtputf8):
            errors = {"email": gettext(lang, NEEDS_SMTPUTF8)}
        else:
            await admit_voice(abuse, request, command.member.email)
            submitted = await consultation_responses.submit_response(
                tx, ctx, consultation_id, command, once=as_is()
            )
            return RedirectResponse(
                f"/consultations/{consultation_id}/thanks"
                f"?status={submitted.response['status']}&lang={lang}",
                303,
            )
    except ValidationError as error:
        # Every mistake at once: the answers are judged too, though the person's fields failed.
        errors = {
            **unfit_answers(answers, questions, lang),
            **answer_length_errors(error, answers, questions, lang),
            **person_errors(error, lang),
        }
    except Invalid as error:
        errors = answer_errors(error, questions, lang) or {}
        problem = None if errors else refusal_words(error, lang)
    except Problem as error:
        if error.status == 404:
            return not_found(request)
        problem, refused = refusal_words(error, lang), error.status
        retry_after = error.retry_after if isinstance(error, TooManyRequests) else None
    return render(
        request,
        "consultation.html",
        status=refused_status(errors, retry_after, refused),
        retry_after=retry_after,
        errors=errors,
        values=form,
        problem=problem,
        **page,
    )


# The receipt's link: the person's own response, to change until the consultation closes. The
# address carries the response's token, so the page is private (no-store, no referrer).


def _invalid_link(request: Request, lang: str) -> HTMLResponse:
    return render(
        request,
        "dialogue_state.html",
        lang,
        status=403,
        private=True,
        heading=gettext(lang, "The link does not work"),
        message=gettext(lang, "The link is invalid or has expired."),
    )


async def _own_response_page(
    request: Request,
    ctx: ServiceContext,
    tx: Transactions,
    consultation_id: uuid.UUID,
    response_id: uuid.UUID,
    token: str,
) -> dict[str, Any] | None:
    """The consultation's page with the person's answers in its form; None when the link's
    token is not the response's (or the response is not of this consultation)."""
    try:
        view = await consultation_responses.get_response(tx, ctx, response_id, token)
    except (Forbidden, NotFound):
        return None
    if view.consultation["id"] != consultation_id:
        return None

    def choose(fallback: str) -> str:
        return language_of(request, fallback)

    page = await _consultation_page(ctx, tx, consultation_id, choose)
    if page is None:
        return None
    lang = page["lang"]
    page.update(
        amending=True,
        token=token,
        action=f"/consultations/{consultation_id}/responses/{response_id}?lang={lang}",
        values={field_name(qid): str(value) for qid, value in view.answers.items()},
    )
    return page


@router.get("/consultations/{consultation_id}/responses/{response_id}", response_class=HTMLResponse)
async def show_own_response(
    consultation_id: uuid.UUID,
    response_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    token: str = "",
) -> HTMLResponse:
    page = await _own_response_page(request, ctx, tx, consultation_id, response_id, token)
    if page is None:
        return _invalid_link(request, language_of(request))
    return render(request, "consultation.html", private=True, errors={}, problem=None, **page)


@router.post(
    "/consultations/{consultation_id}/responses/{response_id}", response_class=HTMLResponse
)
async def amend_from_page(
    consultation_id: uuid.UUID,
    response_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
) -> Response:
    """The answers as they now stand replace the ones given."""
    form = await read_form(request, max_chars=5000)
    token = form.get("token", "")
    page = await _own_response_page(request, ctx, tx, consultation_id, response_id, token)
    if page is None:
        return _invalid_link(request, language_of(request))
    lang, questions = page["lang"], page["questions"]
    answers = answers_from(form, questions)
    errors: dict[str, str] = {}
    problem = None
    refused = 409
    retry_after = None
    try:
        await abuse.check_address(request)
        command = ResponsePatch.model_validate({"token": token, "answers": answers})
        await consultation_responses.amend_response(tx, ctx, response_id, command)
        return RedirectResponse(
            f"/consultations/{consultation_id}/thanks?status=amended&lang={lang}", 303
        )
    except ValidationError as error:
        errors = answer_length_errors(error, answers, questions, lang)
    except Invalid as error:
        errors = answer_errors(error, questions, lang) or {}
        problem = None if errors else refusal_words(error, lang)
    except Problem as error:
        problem, refused = refusal_words(error, lang), error.status
        retry_after = error.retry_after if isinstance(error, TooManyRequests) else None
    page["values"] = form
    return render(
        request,
        "consultation.html",
        private=True,
        status=refused_status(errors, retry_after, refused),
        retry_after=retry_after,
        errors=errors,
        problem=problem,
        **page,
    )
