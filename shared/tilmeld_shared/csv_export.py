"""Every CSV the services write, written so that a spreadsheet opens it as data, never as code.

Names, municipalities and companions come from public forms; a cell that starts with `=`, `+`,
`-`, `@`, a tab or a carriage return is a formula to Excel, LibreOffice and Google Sheets (CSV
injection). OWASP's rule: such a text cell gets a leading `'`, which shows the text as typed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> object:
    """The cell as a spreadsheet should read it: text that starts like a formula is prefixed
    with `'`; numbers (the system's own, e.g. -3) stay numbers."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def write_csv(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, delimiter: str = ","
) -> str:
    """CSV text (RFC 4180 quoting) of a header and rows, every text cell neutralised. Excel
    expects `;` where the decimal mark is a comma (Danish, Norwegian, German settings)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow([neutralise(name) for name in header])
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return out.getvalue()
