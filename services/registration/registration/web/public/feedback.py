"""The feedback page an attendee's link opens: GET shows the meeting's feedback questions,
POST gives the answers (once: the page says so after)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from registration.api.deps import AbuseLimitsDep, ContextDep, TransactionsDep
from registration.service import feedback
from registration.service.commands import FeedbackIn
from registration.unit_of_work import ServiceContext, Transactions, as_is
from registration.web.public.forms import problem_words
from registration.web.public.page import not_found, render, when
from registration.web.public.questions import answers_from, invalid_answers, refused_answers
from registration.web.requests import language_of, read_form
from registration.web.words import gettext
from tilmeld_shared.i18n import N_
from tilmeld_shared.problems import Conflict, Invalid, NotFound, Problem, TooManyRequests

router = APIRouter(include_in_schema=False)

# The refusals a person can meet on the page, in their words.
MESSAGES = {
    "no-feedback": N_("This meeting asks for no feedback."),
    "meeting-not-held": N_("You can give your feedback once the meeting is over."),
    "feedback-closed": N_("Feedback on this meeting has closed."),
    "not-attended": N_("Feedback is asked of those who attended the meeting."),
    "meeting-cancelled": N_("The meeting is cancelled."),
}


def _done(request: Request, lang: str, heading: str, message: str, status: int) -> HTMLResponse:
    return render(
        request, "done.html", lang, status=status, private=True, heading=heading, message=message
    )


def _conflict(request: Request, lang: str, problem: Problem) -> HTMLResponse:
    words = MESSAGES.get(problem.slug or "")
    return _done(
        request,
        lang,
        gettext(lang, "Feedback"),
        gettext(lang, words) if words else problem.detail,
        409,
    )


async def _form(
    request: Request,
    tx: Transactions,
    ctx: ServiceContext,
    meeting_id: uuid.UUID,
    registration: uuid.UUID,
    token: str,
) -> feedback.FeedbackForm | Response:
    try:
        return await feedback.feedback_form(tx, ctx, meeting_id, registration, token)
    except Conflict as problem:
        return _conflict(request, language_of(request), problem)
    except Problem:  # no such meeting, or the link is not one of ours: nothing to tell
        return not_found(request)


def _registration_id(text: str) -> uuid.UUID | None:
    """The link's registration, or None for a link that names none (a page, not a 422)."""
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _thanks(request: Request, lang: str, status: int = 200) -> HTMLResponse:
    return _done(
        request,
        lang,
        gettext(lang, "Thank you for your feedback"),
        gettext(lang, "Your answers have been received. Feedback can be given once."),
        status,
    )


def _page(
    request: Request,
    form: feedback.FeedbackForm,
    lang: str,
    *,
    registration: uuid.UUID,
    token: str,
    errors: dict[str, str],
    values: dict[str, str],
    problem: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    meeting = form.meeting
    return render(
        request,
        "feedback.html",
        lang,
        status=status,
        private=True,
        meeting=meeting,
        network=form.network,
        when=when(meeting["starts_at"], meeting["timezone"], lang),
        questions=form.questions,
        action=(
            f"/meetings/{meeting['id']}/feedback?registration={registration}"
            f"&token={token}&lang={lang}"
        ),
        errors=errors,
        values=values,
        problem=problem,
    )


@router.get("/meetings/{meeting_id}/feedback", response_class=HTMLResponse, response_model=None)
async def show_feedback(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    registration: str = "",
    token: str = "",
) -> Response:
    registration_id = _registration_id(registration)
    if registration_id is None:
        return not_found(request)
    found = await _form(request, tx, ctx, meeting_id, registration_id, token)
    if isinstance(found, Response):
        return found
    lang = language_of(request, found.network["language"])
    if found.given is not None:
        return _thanks(request, lang)
    return _page(
        request, found, lang, registration=registration_id, token=token, errors={}, values={}
    )


@router.post("/meetings/{meeting_id}/feedback", response_class=HTMLResponse, response_model=None)
async def give_feedback(
    meeting_id: uuid.UUID,
    request: Request,
    tx: TransactionsDep,
    ctx: ContextDep,
    abuse: AbuseLimitsDep,
    registration: str = "",
    token: str = "",
) -> Response:
    form = await read_form(request)
    lang = language_of(request)
    registration_id = _registration_id(registration)
    if registration_id is None:
        return not_found(request)
    found = await _form(request, tx, ctx, meeting_id, registration_id, token)
    if isinstance(found, Response):
        return found
    if found.given is not None:
        return _thanks(request, lang, status=409)
    sent = answers_from(form, found.questions)
    errors: dict[str, str] = {}
    problem = None
    try:
        await abuse.check_address(request)
        command = FeedbackIn.model_validate(
            {"registration_id": registration_id, "token": token, "answers": sent}
        )
        await feedback.submit_feedback(tx, ctx, meeting_id, command, once=as_is())
    except ValidationError as error:
        errors = invalid_answers(error, sent, found.questions, lang)
        problem = None if errors else gettext(lang, "Check your answers.")
    except Invalid as error:
        errors = refused_answers(error, found.questions, lang)
        problem = None if errors else problem_words(error, lang)
    except Conflict as error:
        if error.slug == "feedback-given":
            return _thanks(request, lang, status=409)
        return _conflict(request, lang, error)
    except TooManyRequests as error:
        problem = problem_words(error, lang)
    except (NotFound, Problem):
        return not_found(request)
    else:
        return RedirectResponse(
            f"/meetings/{meeting_id}/feedback?registration={registration_id}&token={token}"
            f"&lang={lang}",
            303,
        )
    return _page(
        request,
        found,
        lang,
        registration=registration_id,
        token=token,
        errors=errors,
        values=form,
        problem=problem,
        status=429 if problem and not errors else 422,
    )
