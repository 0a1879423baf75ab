"""How a public page is answered: in the person's language, with its words and the headers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from fastapi import Request
from fastapi.responses import HTMLResponse

from registration.web import headers
from registration.web.rendering import render_page
from registration.web.requests import language_of
from registration.web.words import gettext


def render(
    request: Request,
    template: str,
    lang: str,
    *,
    status: int = 200,
    private: bool = False,
    **context: Any,
) -> HTMLResponse:
    """A public page; `private` for one whose address carries a token."""
    page_headers = dict(headers.PRIVATE if private else headers.PAGE)
    if context.get("retry_after") is not None:
        page_headers["Retry-After"] = str(context["retry_after"])
    return render_page(
        request,
        f"public/{template}",
        lang,
        headers=page_headers,
        status=status,
        **context,
    )


def when(moment: datetime, zone: str, lang: str) -> str:
    """The meeting's own local time, as people of the page's language write it."""
    local = moment.astimezone(ZoneInfo(zone))
    day = format_date(local, "full", locale=lang)
    return f"{day}, {format_time(local, 'short', locale=lang)} ({local.tzname()})"


def span(starts: datetime, ends: datetime, zone: str, lang: str) -> str:
    """When a meeting starts and ends, in its own local time: the end as a time of day when
    it ends the same day, else in full."""
    start, end = starts.astimezone(ZoneInfo(zone)), ends.astimezone(ZoneInfo(zone))
    if start.date() != end.date():
        return f"{when(starts, zone, lang)} – {when(ends, zone, lang)}"
    day = format_date(start, "full", locale=lang)
    times = f"{format_time(start, 'short', locale=lang)}–{format_time(end, 'short', locale=lang)}"
    return f"{day}, {times} ({start.tzname()})"


def not_found(request: Request) -> HTMLResponse:
    """The page that says there is no such page, in the person's language."""
    lang = language_of(request)
    return render(request, "done.html", lang, status=404, heading=gettext(lang, "Page not found"))
