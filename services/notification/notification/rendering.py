"""Turning a notification into an email's subject, text and HTML, in the member's language.

Each kind has one text template (`templates/<kind>.txt`, the first line is the subject) whose
sentences are `{% trans %}` blocks, translated from the notification catalogue
(`locale/<lang>/LC_MESSAGES/notification.po`); adding a language is adding a catalogue. Counted
words go in `{% trans count=n %}…{% pluralize %}…{% endtrans %}`, chosen by the catalogue's plural
rule. The HTML part wraps the same words in `templates/layout.html`, autoescaped; only the links
the system itself put in (the cancel link, the meeting's online link) are clickable, never a link
someone typed into a name or a title.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from tilmeld_shared.i18n import LANGUAGE_VARIABLE, Catalogues, install_in_jinja
from tilmeld_shared.validation import INVISIBLE, LINE_BREAKS

TEMPLATES = Path(__file__).parent / "templates"
CATALOGUES = Catalogues(Path(__file__).parent / "locale", "notification")
# Babel's locale per language, for dates; a language not listed here is its own locale name.
LOCALES = {"da": "da_DK", "nb": "nb_NO", "de": "de_DE", "en": "en_GB"}
FALLBACK_LANGUAGE = "en"
_BREAK = re.compile(f"[{LINE_BREAKS}]")
_UNSEEN = re.compile(f"[{INVISIBLE}]")


def _one_line(value: Any) -> Any:
    """Every value a template prints stays on its line and in its order: a line break someone
    typed (registration refuses them now, older data may hold one) becomes a space, and
    invisible or bidirectional controls go."""
    return _UNSEEN.sub("", _BREAK.sub(" ", value)) if isinstance(value, str) else value


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    # Text templates take names and titles as people typed them; the HTML layout escapes them.
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    finalize=_one_line,
)
install_in_jinja(_environment, CATALOGUES)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def available_languages() -> set[str]:
    return set(CATALOGUES.languages)


def language_or_fallback(language: str) -> str:
    return language if language in CATALOGUES.languages else FALLBACK_LANGUAGE


def format_when(starts_at: datetime, ends_at: datetime, timezone: str, language: str) -> str:
    """The meeting's time in the meeting's own time zone, written the member's way."""
    zone = ZoneInfo(timezone)
    locale = LOCALES.get(language, language)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)

    def clock(moment: datetime) -> str:
        return format_time(moment, "short", locale=locale)

    day = format_date(start, "full", locale=locale)
    hours = f"{clock(start)}–{clock(end)}"
    if end.date() != start.date():
        hours = f"{clock(start)} – {format_date(end, 'long', locale=locale)} {clock(end)}"
    return f"{day}, {hours} ({start.tzname()})"


def system_links(context: dict[str, Any]) -> set[str]:
    """The links the system puts into an email: the person's cancel link, the link for what the
    email asks of them (`action_url`: accept an offered seat, answer, confirm), the meeting's
    link."""
    meeting = context.get("meeting") or {}
    links = (context.get("cancel_url"), context.get("action_url"), meeting.get("online_url"))
    return {link for link in links if link}


def _paragraphs(
    text: str, links: Collection[str], action: str | None = None
) -> list[list[list[tuple[str, str]]]]:
    """Blank-line separated paragraphs of lines, each line split into text and the given links
    (`action`, the email's main link, marked as such).

    Lines break at "\n" only: str.splitlines() also breaks at U+2028, U+0085 and the like."""
    linked = re.compile(
        "(" + "|".join(re.escape(link) for link in sorted(links, key=len, reverse=True)) + ")"
    )
    paragraphs = []
    for block in re.split(r"\n[ \t]*\n", text.strip("\n")):
        lines = []
        for line in block.split("\n"):
            pieces = linked.split(line) if links else [line]
            lines.append([(_kind(p, links, action), p) for p in pieces if p])
        paragraphs.append(lines)
    return paragraphs


def _kind(piece: str, links: Collection[str], action: str | None) -> str:
    if piece == action:
        return "action"
    return "link" if piece in links else "text"


def html_part(
    subject: str, body: str, language: str, links: Collection[str], action: str | None = None
) -> str:
    """The email's words as HTML, escaped, with exactly `links` clickable wherever they occur;
    a paragraph of one line that ends in the `action` link (the main thing the email asks)
    shows as a button, labelled with the words before the link."""
    return _environment.get_template("layout.html").render(
        language=language, subject=subject, paragraphs=_paragraphs(body, links, action)
    )


def render(template: str, language: str, context: dict[str, Any]) -> Rendered:
    language = language_or_fallback(language)
    text = _environment.get_template(f"{template}.txt").render(
        {**context, LANGUAGE_VARIABLE: language}
    )
    subject, _, body = text.partition("\n")
    subject = subject.strip()
    body = re.sub(r"\n{3,}", "\n\n", body.lstrip("\n"))
    html = html_part(subject, body, language, system_links(context), context.get("action_url"))
    return Rendered(subject=subject, text=body, html=html)
