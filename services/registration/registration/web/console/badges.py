"""Name badges as a PDF: eight to an A4 sheet (two columns of four, 90 × 60 mm each, with cut
lines), the name as large as fits on two lines, job title and organisation, municipality, and
the meeting along the foot.

reportlab draws the page; DejaVu Sans (Debian's fonts-dejavu-core, in the image too) covers
every European script. Where it is missing, Helvetica covers the Latin-1 names of the seed
countries, and a letter it lacks is printed without its accent rather than as a box."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

BADGE_WIDTH, BADGE_HEIGHT = 90 * mm, 60 * mm
COLUMNS, ROWS = 2, 4
PADDING = 6 * mm
LARGEST_NAME, SMALLEST_NAME = 24, 13
# Below SMALLEST_NAME only for a name that needs a third line.
LEAST_NAME = 9
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class Badge:
    name: str
    detail: str  # job title and organisation, or whose companion
    municipality: str


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    unicode: bool


@cache
def _fonts() -> Fonts:
    regular, bold = _DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"
    if regular.is_file() and bold.is_file():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
        return Fonts("DejaVuSans", "DejaVuSans-Bold", unicode=True)
    return Fonts("Helvetica", "Helvetica-Bold", unicode=False)


def _printable(text: str, fonts: Fonts) -> str:
    if fonts.unicode:
        return text
    try:
        text.encode("cp1252")
        return text
    except UnicodeEncodeError:  # e.g. Ł, ő: keep the letter, drop what Helvetica lacks
        kept = (
            char if _in_cp1252(char) else unicodedata.normalize("NFKD", char)[0] for char in text
        )
        return "".join(char if _in_cp1252(char) else "?" for char in kept)


def _in_cp1252(char: str) -> bool:
    try:
        char.encode("cp1252")
        return True
    except UnicodeEncodeError:
        return False


def _name_lines(name: str, font: str) -> tuple[list[str], int]:
    """The name in the largest size at which it fits the badge on at most two lines; a name too
    long for that takes a third line, smaller still, but is never cut short."""
    width = BADGE_WIDTH - 2 * PADDING
    for size in range(LARGEST_NAME, SMALLEST_NAME - 1, -1):
        lines = simpleSplit(name, font, size, width)
        if len(lines) <= 2 and all(stringWidth(line, font, size) <= width for line in lines):
            return lines, size
    for size in range(SMALLEST_NAME, LEAST_NAME - 1, -1):
        lines = simpleSplit(name, font, size, width)
        if len(lines) <= 3:
            return lines, size
    return lines, LEAST_NAME


def badges_pdf(badges: Sequence[Badge], *, footer: str, title: str) -> bytes:
    """The badges, eight per A4 page, as PDF bytes (an empty sheet when there are none)."""
    fonts = _fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(_printable(title, fonts))
    page_width, page_height = A4
    left = (page_width - COLUMNS * BADGE_WIDTH) / 2
    top = page_height - (page_height - ROWS * BADGE_HEIGHT) / 2
    per_page = COLUMNS * ROWS
    for index, badge in enumerate(badges):
        if index and index % per_page == 0:
            canvas.showPage()
        slot = index % per_page
        x = left + (slot % COLUMNS) * BADGE_WIDTH
        y = top - (slot // COLUMNS + 1) * BADGE_HEIGHT
        _draw(canvas, fonts, badge, x, y, _printable(footer, fonts))
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw(canvas: Canvas, fonts: Fonts, badge: Badge, x: float, y: float, footer: str) -> None:
    canvas.setStrokeGray(0.75)
    canvas.setDash(2, 3)
    canvas.rect(x, y, BADGE_WIDTH, BADGE_HEIGHT)  # where to cut
    canvas.setDash()
    lines, size = _name_lines(_printable(badge.name, fonts), fonts.bold)
    cursor = y + BADGE_HEIGHT - PADDING - size
    canvas.setFillGray(0)
    canvas.setFont(fonts.bold, size)
    for line in lines:
        canvas.drawString(x + PADDING, cursor, line)
        cursor -= size * 1.15
    width = BADGE_WIDTH - 2 * PADDING
    canvas.setFont(fonts.regular, 10)
    for text in (badge.detail, badge.municipality):
        for line in simpleSplit(_printable(text, fonts), fonts.regular, 10, width)[:2]:
            cursor -= 2
            canvas.drawString(x + PADDING, cursor, line)
            cursor -= 12
    canvas.setFont(fonts.regular, 7.5)
    canvas.setFillGray(0.35)
    [foot, *_] = simpleSplit(footer, fonts.regular, 7.5, width) or [""]
    canvas.drawString(x + PADDING, y + PADDING - 2, foot)
