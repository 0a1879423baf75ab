"""Turning a notification into an email's subject, text and HTML, in the member's language.

Each kind has one text template per language (`templates/<lang>/<kind>.txt`, the first line is
the subject); adding a language is adding a folder of files. The HTML part wraps the same words
in `templates/layout.html`, autoescaped, with links made clickable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
# Babel's locale per language folder; a folder not listed here formats dates as its own name.
LOCALES = {"da": "da_DK", "nb": "nb_NO", "de": "de_DE", "en": "en_GB"}
FALLBACK_LANGUAGE = "en"
_LINK = re.compile(r"(https?://\S+)")

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    # Text templates take names and titles as people typed them; the HTML layout escapes them.
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def available_languages() -> set[str]:
    return {path.name for path in TEMPLATES.iterdir() if path.is_dir()}


def language_or_fallback(language: str) -> str:
    return language if language in available_languages() else FALLBACK_LANGUAGE


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


def _paragraphs(text: str) -> list[list[list[tuple[str, str]]]]:
    """Blank-line separated paragraphs of lines, each line split into text and links."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = []
        for line in block.splitlines():
            parts = [
                ("link" if _LINK.fullmatch(piece) else "text", piece)
                for piece in _LINK.split(line)
                if piece
            ]
            lines.append(parts)
        paragraphs.append(lines)
    return paragraphs


def render(template: str, language: str, context: dict[str, Any]) -> Rendered:
    language = language_or_fallback(language)
    text = _environment.get_template(f"{language}/{template}.txt").render(**context)
    subject, _, body = text.partition("\n")
    body = re.sub(r"\n{3,}", "\n\n", body.lstrip("\n"))
    html = _environment.get_template("layout.html").render(
        language=language, subject=subject.strip(), paragraphs=_paragraphs(body)
    )
    return Rendered(subject=subject.strip(), text=body, html=html)
