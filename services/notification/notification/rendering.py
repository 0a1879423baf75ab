"""Turning a notification into an email's subject, text and HTML, in the member's language.

Each kind has one text template (`templates/<kind>.txt`, the first line is the subject) whose
sentences are `{% trans %}` blocks, translated from the notification catalogue
(`locale/<lang>/LC_MESSAGES/notification.po`); adding a language is adding a catalogue. Counted
words go in `{% trans count=n %}…{% pluralize %}…{% endtrans %}`, chosen by the catalogue's plural
rule. The HTML part wraps the same words in `templates/layout.html`, autoescaped; only the links
the system itself put in (the cancel link, the meeting's online link, the email's main link) and
the network's contact address are clickable, never a link someone typed into a name or a title.
The main link is a button and the cancel link is labelled with its words; what follows the
signature delimiter (the organiser's name and contact, see `_signature.txt`) is the footer. The
layout is one column that fits a phone: long words and links wrap.
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
from markupsafe import Markup

from tilmeld_shared.i18n import LANGUAGE_VARIABLE, Catalogues, install_in_jinja
from tilmeld_shared.validation import INVISIBLE, LINE_BREAKS

TEMPLATES = Path(__file__).parent / "templates"
CATALOGUES = Catalogues(Path(__file__).parent / "locale", "notification")
# Babel's locale per language, for dates; a language not listed here is its own locale name.
LOCALES = {"da": "da_DK", "nb": "nb_NO", "de": "de_DE", "en": "en_GB"}
FALLBACK_LANGUAGE = "en"
_BREAK = re.compile(f"[{LINE_BREAKS}]")
# The line that parts an email's words from its footer (RFC 3676's signature delimiter: mail
# clients grey out or fold what follows it).
SIGNATURE_DELIMITER = "-- "
_UNSEEN = re.compile(f"[{INVISIBLE}]")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_BLANK_LINES = re.compile(r"\n{3,}")


def _one_line(value: Any) -> Any:
    """Every value a template prints stays on its line and in its order: a line break someone
    typed (registration refuses them now, older data may hold one) becomes a space, and
    invisible or bidirectional controls go. Markup is the layout's own (a macro's output, its
    values already through here) and stays as it is."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return _UNSEEN.sub("", _BREAK.sub(" ", value))


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    # Text templates take names and titles as people typed them; the HTML layout escapes them.
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    finalize=_one_line,
    # The templates ship with the code: no stat of the file on every email.
    auto_reload=False,
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


def labelled_links(context: dict[str, Any]) -> set[str]:
    """The system's links that mean something only as a thing to click (the person's cancel
    link, the email's main link): in the HTML part the words before them become their label,
    never 150 characters of token. The meeting's online link stays readable, to be copied."""
    links = (context.get("cancel_url"), context.get("action_url"))
    return {link for link in links if link}


def mail_addresses(context: dict[str, Any]) -> set[str]:
    """The addresses the HTML part may offer to write to: the network's public contact."""
    organiser = context.get("organiser") or {}
    return {address for address in (organiser.get("contact_email"),) if address}


# A piece of a line: its kind ("text", "link", "labelled", "action", "mail"), what is shown, and
# where it leads ("" for text).
Piece = tuple[str, str, str]


def _paragraphs(
    text: str,
    links: Collection[str],
    action: str | None = None,
    labelled: Collection[str] = (),
    addresses: Collection[str] = (),
) -> list[list[list[Piece]]]:
    """Blank-line separated paragraphs of lines, each line split into text, the given links
    (`action`, the email's main link, marked as such) and the given mail addresses. A line
    that ends in one of the `labelled` links after a colon ("To leave the waitlist: <link>")
    becomes one link labelled with its words.

    Lines break at "\n" only: str.splitlines() also breaks at U+2028, U+0085 and the like."""
    # Longest first, so a link that extends another is found whole.
    found = sorted(filter(None, [*links, *addresses]), key=len, reverse=True)
    paragraphs = []
    for block in _BLANK_LINE.split(text.strip("\n")):
        lines = []
        for line in block.split("\n"):
            pieces = _split_at(line, found)
            kept = [_piece(p, links, action, addresses) for p in pieces if p]
            lines.append(_labelled(kept, labelled, action))
        paragraphs.append(lines)
    return paragraphs


def _split_at(line: str, found: list[str]) -> list[str]:
    """The line cut around each occurrence of the strings, left to right, the first of them
    that occurs at a place winning (as a regular expression alternating them would, without
    compiling one for every email's own links)."""
    pieces = []
    start = 0
    while True:
        at, match = len(line), ""
        for candidate in found:
            position = line.find(candidate, start, at + len(candidate))
            if position != -1 and position < at:
                at, match = position, candidate
        if not match:
            break
        pieces += [line[start:at], match]
        start = at + len(match)
    pieces.append(line[start:])
    return pieces


def _piece(
    piece: str, links: Collection[str], action: str | None, addresses: Collection[str]
) -> Piece:
    if piece == action:
        return ("action", piece, piece)
    if piece in links:
        return ("link", piece, piece)
    if piece in addresses:
        return ("mail", piece, f"mailto:{piece}")
    return ("text", piece, "")


def _labelled(line: list[Piece], labelled: Collection[str], action: str | None) -> list[Piece]:
    """ "Words: <link>" as one link labelled "Words" (the action stays the action: alone in its
    paragraph it is a button)."""
    if len(line) != 2 or line[0][0] != "text" or line[1][2] not in labelled:
        return line
    words = line[0][1].rstrip()
    if not words.endswith(":") or not words.rstrip(":").strip():
        return line
    label = words.rstrip(":").strip()
    kind = "action" if line[1][2] == action else "labelled"
    return [(kind, label, line[1][2])]


def html_part(
    subject: str,
    body: str,
    language: str,
    links: Collection[str],
    action: str | None = None,
    *,
    labelled: Collection[str] = (),
    addresses: Collection[str] = (),
) -> str:
    """The email's words as HTML, escaped, with exactly `links` (and `addresses`, as mailto)
    clickable wherever they occur; a paragraph of one line that ends in the `action` link (the
    main thing the email asks) shows as a button, labelled with the words before the link.
    What follows the signature delimiter ("-- " on a line of its own) is the footer: who the
    email is from and how to reach them."""
    # The last delimiter: one typed into an organiser's message is theirs, not the footer's.
    main, delimiter, footer = body.rpartition(f"\n{SIGNATURE_DELIMITER}\n")
    if not delimiter:
        main, footer = body, ""
    return _environment.get_template("layout.html").render(
        language=language,
        subject=subject,
        paragraphs=_paragraphs(main, links, action, labelled, addresses),
        footer=_paragraphs(footer, links, action, labelled, addresses) if footer.strip() else [],
    )


def render(template: str, language: str, context: dict[str, Any]) -> Rendered:
    language = language_or_fallback(language)
    # What an email names when it is given it: who sends it (the network's organiser, see
    # service.networks), whom the member brings.
    context = {"organiser": None, "companion_names": [], **context}
    text = _environment.get_template(f"{template}.txt").render(
        {**context, LANGUAGE_VARIABLE: language}
    )
    subject, _, body = text.partition("\n")
    subject = subject.strip()
    body = _BLANK_LINES.sub("\n\n", body.strip("\n")) + "\n"
    html = html_part(
        subject,
        body,
        language,
        system_links(context),
        context.get("action_url"),
        labelled=labelled_links(context),
        addresses=mail_addresses(context),
    )
    return Rendered(subject=subject, text=body, html=html)
