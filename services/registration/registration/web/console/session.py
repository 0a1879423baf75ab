"""The console's session: who is signed in, and the cookie that says so.

Signed in with the organiser's key, which is checked once and then never stored: the browser
keeps a signed, expiring session cookie (HttpOnly, SameSite=Strict, path /console).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from registration import tokens
from registration.api.deps import ContextDep
from registration.unit_of_work import ServiceContext
from tilmeld_shared.auth import Principal, Role

SESSION_COOKIE = "tilmeld_console"
SESSION_PURPOSE = "console-session"
# The session names whom it speaks for: an organisation's id, or this one for the platform.
PLATFORM_ORGANISER = uuid.UUID(int=0)
SESSION_HOURS = 12


class NotSignedIn(Exception):
    """Raised when a console request has no valid session; answered by `not_signed_in`."""


def signed_in(request: Request, ctx: ServiceContext) -> Principal:
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
    return signed_in(request, ctx)


# Every console handler takes the signed-in organiser; without a session it never runs.
ConsoleOrganiser = Annotated[Principal, Depends(_console_organiser)]


def start_session(
    response: Response, request: Request, ctx: ServiceContext, subject: uuid.UUID
) -> None:
    """Set the session cookie for `subject` (an organisation's id, or the platform's)."""
    expires = ctx.clock.now() + timedelta(hours=SESSION_HOURS)
    secret = ctx.settings.effective_token_secret
    token = tokens.issue(secret, SESSION_PURPOSE, subject, expires_at=expires)
    response.set_cookie(
        SESSION_COOKIE,
        f"{subject}:{token}",
        max_age=SESSION_HOURS * 3600,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def end_session(response: Response) -> None:
    """Drop the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/console")


async def not_signed_in(request: Request, _: Exception) -> Response:
    """Back to the sign-in page (a script's retry queue gets a 401 it can act on)."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"detail": "sign in again"}, status_code=401)
    return RedirectResponse("/console/login", 303)
