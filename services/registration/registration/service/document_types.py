"""What a document is, judged from its bytes alone: a client's Content-Type and file name are
its own claims and decide nothing.

Accepted: PDF, the OOXML office formats (docx, xlsx, pptx: a zip whose [Content_Types].xml
names the main part), the OpenDocument formats (odt, ods, odp: a zip whose first entry is the
`mimetype` file) and PNG or JPEG images (a slide as a picture). Macro-enabled office files are
refused: a document handed to participants must not carry code.
"""

from __future__ import annotations

import zipfile
from pathlib import PurePosixPath, PureWindowsPath
from typing import IO, NamedTuple

# Read at most this much of a zip's small descriptor files: a hostile archive cannot make the
# sniffing inflate a bomb.
_DESCRIPTOR_BYTES = 64 * 1024


class Kind(NamedTuple):
    content_type: str
    extension: str


PDF = Kind("application/pdf", "pdf")
PNG = Kind("image/png", "png")
JPEG = Kind("image/jpeg", "jpg")
DOCX = Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
PPTX = Kind("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx")
ODT = Kind("application/vnd.oasis.opendocument.text", "odt")
ODS = Kind("application/vnd.oasis.opendocument.spreadsheet", "ods")
ODP = Kind("application/vnd.oasis.opendocument.presentation", "odp")

# The main part's content type in [Content_Types].xml says which OOXML document it is.
_OOXML_MAIN = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
_ODF = {kind.content_type.encode(): kind for kind in (ODT, ODS, ODP)}

ACCEPTED = (PDF, DOCX, XLSX, PPTX, ODT, ODS, ODP, PNG, JPEG)


def sniff(file: IO[bytes]) -> Kind | None:
    """The kind of document the bytes are, or None for anything not accepted. Leaves the file
    at its start."""
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return PDF
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return PNG
        if head.startswith(b"\xff\xd8\xff"):
            return JPEG
        if head.startswith(b"PK\x03\x04"):
            return _office(file)
        return None
    finally:
        file.seek(0)


def _office(file: IO[bytes]) -> Kind | None:
    try:
        with zipfile.ZipFile(file) as archive:
            entries = archive.infolist()
            if entries and entries[0].filename == "mimetype":
                with archive.open(entries[0]) as mimetype:
                    return _ODF.get(mimetype.read(200).strip())
            names = {entry.filename for entry in entries}
            if "[Content_Types].xml" not in names:
                return None
            with archive.open("[Content_Types].xml") as types:
                declared = types.read(_DESCRIPTOR_BYTES)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError):
        return None
    if b"macroEnabled" in declared or b"vbaProject" in declared:
        return None
    found = {kind for main, kind in _OOXML_MAIN.items() if main in declared}
    return found.pop() if len(found) == 1 else None


def safe_filename(claimed: str | None, kind: Kind, *, fallback: str) -> str:
    """The client's file name without any path, control characters or a misleading extension:
    the extension is the sniffed kind's."""
    name = PureWindowsPath(PurePosixPath(claimed or "").name).name
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"\\/')
    stem = name.rsplit(".", 1)[0].strip(" .") if "." in name else name.strip(" .")
    stem = stem[:150] or fallback
    return f"{stem}.{kind.extension}"
