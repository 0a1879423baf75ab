"""CSV files as an organiser's spreadsheet opens them: headings in their language, the
separator their Excel expects, local times to the minute, a file name that says what it is."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi.responses import Response

from registration.web import headers
from tilmeld_shared.csv_export import write_csv

# Excel splits a CSV on the list separator of the computer's region: `;` wherever the decimal
# mark is a comma (Denmark, Norway, Germany), `,` in English settings.
SEPARATORS = {"da": ";", "nb": ";", "de": ";", "en": ","}
# Letters an ASCII file name spells out rather than drops.
_SPELLED = str.maketrans(
    {"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}
)


def local_minute(moment: datetime | None, zone: str) -> str:
    """A time as people read it where the meeting is: `2026-12-16 14:05`, no seconds."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def file_name(*parts: str, extension: str = "csv") -> str:
    """`roster-varmeplaner-efter-2030-2026-12-16.csv`: ASCII, lower case, hyphens."""
    words = " ".join(parts).lower().translate(_SPELLED)
    ascii_only = unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")[:80].rstrip("-")
    return f"{slug or 'export'}.{extension}"


def attachment(name: str) -> str:
    """Content-Disposition for a download, with the name in UTF-8 too (RFC 6266)."""
    return f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"


def spreadsheet(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, language: str, name: str
) -> Response:
    """The CSV download: a BOM (so Excel reads æøå as UTF-8) and the locale's separator."""
    text = write_csv(header, rows, delimiter=SEPARATORS.get(language, ","))
    return Response(
        "\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers={**headers.SIGNED_IN, "Content-Disposition": attachment(name)},
    )
