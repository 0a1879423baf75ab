"""An upload judged before a meeting's documents take it: by its bytes, whatever the client
said it was (service/document_types.py), scanned if a scanner is set (VIRUS_SCAN_COMMAND),
named safely, with its size and digest.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import shlex
from typing import IO, NamedTuple

from registration.service.document_types import ACCEPTED, Kind, safe_filename, sniff
from registration.settings import Settings
from tilmeld_shared.problems import Invalid, Problem

log = logging.getLogger(__name__)
_HASH_CHUNK = 1024 * 1024


class Unsupported(Problem):
    status = 415
    slug = "unsupported-document-type"


class ScannerUnavailable(Problem):
    status = 503
    slug = "virus-scanner-unavailable"


class Inspected(NamedTuple):
    """An upload judged and ready to store."""

    file: IO[bytes]
    kind: Kind
    filename: str
    title: str
    visibility: str
    size: int
    sha256: str

    @property
    def fingerprint(self) -> str:
        """What an Idempotency-Key's retry must repeat: the same bytes, title and visibility."""
        return json.dumps([self.sha256, self.title, self.visibility])


def _title(claimed: str | None, filename: str) -> str:
    title = " ".join((claimed or "").split())
    if len(title) > 200:
        raise Invalid(
            "The title is at most 200 characters.",
            errors=[{"field": "title", "in": "body", "message": "longer than 200 characters"}],
        )
    return title or filename.rsplit(".", 1)[0]


def _digest(file: IO[bytes]) -> tuple[int, str]:
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := file.read(_HASH_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return size, digest.hexdigest()


async def inspect(
    settings: Settings,
    file: IO[bytes],
    *,
    claimed_name: str | None,
    title: str | None,
    visibility: str,
) -> Inspected:
    """Judge an upload by its bytes (415 for a kind not accepted, whatever the client said it
    was), scan it if a scanner is set, and name it safely."""
    kind = await asyncio.to_thread(sniff, file)
    if kind is None:
        accepted = ", ".join(sorted({k.extension for k in ACCEPTED}))
        raise Unsupported(
            f"The file is not a document this service accepts ({accepted}); it was judged by "
            "its content, not by its name or Content-Type.",
            accepted=sorted({k.content_type for k in ACCEPTED}),
        )
    size, sha256 = await asyncio.to_thread(_digest, file)
    if size == 0:
        raise Invalid(
            "The file is empty.", errors=[{"field": "file", "in": "body", "message": "empty"}]
        )
    await scan(settings, file)
    filename = safe_filename(claimed_name, kind, fallback="document")
    return Inspected(
        file, kind, filename, _title(title, filename), visibility, size=size, sha256=sha256
    )


async def scan(settings: Settings, file: IO[bytes]) -> None:
    """Run VIRUS_SCAN_COMMAND with the file on standard input: exit 0 clean, 1 infected (422);
    anything else, or no answer in time, is a 503 and nothing is stored."""
    if not settings.virus_scan_command.strip():
        return
    command = shlex.split(settings.virus_scan_command)
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError as error:
        log.error("virus scanner cannot start: %s", type(error).__name__)
        raise ScannerUnavailable("The virus scanner is unavailable; try again later.") from None

    async def feed() -> None:
        # In chunks, so a large upload is never in memory whole; a scanner that has its verdict
        # before the end may close its input.
        assert process.stdin is not None
        file.seek(0)
        try:
            while chunk := await asyncio.to_thread(file.read, _HASH_CHUNK):
                process.stdin.write(chunk)
                await process.stdin.drain()
            process.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            file.seek(0)

    try:
        await asyncio.wait_for(
            asyncio.gather(feed(), process.wait()), settings.virus_scan_timeout_s
        )
    except TimeoutError:
        process.kill()
        await process.wait()
        raise ScannerUnavailable("The virus scan took too long; try again later.") from None
    if process.returncode == 1:
        raise Invalid(
            "The virus scanner found something in this file; it was not stored.",
            slug="document-infected",
            errors=[{"field": "file", "in": "body", "message": "refused by the virus scanner"}],
        )
    if process.returncode != 0:
        log.error("virus scanner failed", extra={"exit_code": process.returncode})
        raise ScannerUnavailable("The virus scanner failed; try again later.")
