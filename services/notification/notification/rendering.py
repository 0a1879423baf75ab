"""Turning an event into an email's subject and text, in the member's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
# Babel's locale names for our languages; Norwegian Bokmål is `nb`.
LOCALES = {"da": "da_DK", "nb": "nb_NO", "de": "de_DE", "en": "en_GB"}
FALLBACK_LANGUAGE = "en"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    # Plain-text templates take member input (names, titles) as is; HTML would be escaped.
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str


def available_languages() -> set[str]:
    return {path.name for path in TEMPLATES.iterdir() if path.is_dir()}


def format_when(starts_at: datetime, ends_at: datetime, timezone: str, language: str) -> str:
    """The meeting's time in the meeting's own time zone, written the member's way."""
    zone = ZoneInfo(timezone)
    locale = LOCALES.get(language, LOCALES[FALLBACK_LANGUAGE])
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    day = format_date(start, "full", locale=locale)
    hours = (
        f"{format_time(start, 'short', locale=locale)}–{format_time(end, 'short', locale=locale)}"
    )
    if end.date() != start.date():
        hours = (
            f"{format_time(start, 'short', locale=locale)} – "
            f"{format_date(end, 'long', locale=locale)} {format_time(end, 'short', locale=locale)}"
        )
    return f"{day}, {hours} ({start.tzname()})"


def render(template: str, language: str, context: dict[str, Any]) -> Rendered:
    if language not in available_languages():
        language = FALLBACK_LANGUAGE
    text = _environment.get_template(f"{language}/{template}.txt").render(**context)
    subject, _, body = text.partition("\n")
    return Rendered(subject=subject.strip(), text=body.lstrip("\n"))
