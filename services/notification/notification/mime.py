"""A ledger row as the bytes an SMTP server is handed: text and HTML alternatives, and the
invitation both inline (so calendar clients offer to add it in one click) and as an .ics
attachment.

Written out here rather than by the `email` package's generator, which made building the message
most of a send's CPU (0.84 ms for a confirmation: a random boundary checked against every line,
each part's headers folded, base64 in a Python loop). The parts are the same: each body base64
in UTF-8, 76-character lines, under boundaries no base64 line can hold. The headers are still
folded by the `email` package's policies, and those a meeting's emails share (sender, Reply-To,
subject, language) once per distinct value: an email to a meeting's hundred people folds them
once, not a hundred times.
"""

from __future__ import annotations

import base64
import contextlib
import email.policy
import time
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from typing import Any, cast

ASCII = email.policy.compat32
# RFC 6532 headers, for a server that took SMTPUTF8: a non-ASCII address cannot be an RFC 2047
# encoded word, which would turn the whole address into unreadable text.
UTF8 = email.policy.SMTPUTF8


def smtp_address(address: str) -> str:
    """The address as SMTP carries it: an internationalised domain in its IDNA (xn--) form.

    A local part beyond ASCII has no such form: only a server offering SMTPUTF8 takes it."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{_idna(domain)}"


@lru_cache(maxsize=1024)
def _idna(domain: str) -> str:
    # Most emails go to a few domains; the codec is the costly part of the address.
    return domain.encode("idna").decode("ascii")


def sender(row: Any, mail_from: str) -> str:
    """The configured sender's address under the name of those the email is sent for (the
    network's organisers): the address stays the one SPF and DKIM vouch for."""
    name = row.get("sender_name")
    if not name:
        return mail_from
    return _sender_as(name, mail_from)


@lru_cache(maxsize=1024)
def _sender_as(name: str, mail_from: str) -> str:
    return formataddr((name, parseaddr(mail_from)[1]), charset="utf-8")


def build_message(row: Any, *, mail_from: str, utf8: bool = False) -> bytes:
    """The whole message; `utf8` writes the headers as UTF-8 (RFC 6532)."""
    alternatives = [_part(b'text/plain; charset="utf-8"', row["body_text"])]
    if row["body_html"]:
        alternatives.append(_part(b'text/html; charset="utf-8"', row["body_html"]))
    # A boundary of characters base64 never writes ("_") cannot occur in a part.
    mark = row["id"].hex.encode()
    calendar = row["calendar"]
    if calendar:
        method = b"CANCEL" if "METHOD:CANCEL" in calendar else b"REQUEST"
        alternatives.append(
            _part(b'text/calendar; charset="utf-8"; method="' + method + b'"', calendar)
        )
        body = _multipart(
            b"mixed",
            b"=_mixed_" + mark,
            [
                _multipart(b"alternative", b"=_alternative_" + mark, alternatives),
                _part(
                    b"application/ics",
                    calendar,
                    b'Content-Disposition: attachment; filename="invite.ics"\n',
                ),
            ],
        )
    else:
        body = _multipart(b"alternative", b"=_alternative_" + mark, alternatives)
    # The top part's Content-Type leads the message's headers.
    content_type, _, parts = body.partition(b"\n\n")
    return b"".join(
        (
            content_type,
            b"\nMIME-Version: 1.0\n",
            _headers(row, mail_from=mail_from, utf8=utf8),
            b"\n",
            parts,
        )
    )


def _headers(row: Any, *, mail_from: str, utf8: bool) -> bytes:
    policy = UTF8 if utf8 else ASCII
    headers = [
        _shared_header("From", sender(row, mail_from), utf8),
        _to_header(smtp_address(row["recipient"]), policy),
    ]
    reply_to = row.get("reply_to")
    if reply_to and (utf8 or reply_to.rpartition("@")[0].isascii()):
        # The network's contact: a reply reaches the organisers, not the unattended sender. An
        # address no header can carry is left out rather than costing the person their email.
        with contextlib.suppress(UnicodeError):
            headers.append(_shared_header("Reply-To", smtp_address(reply_to), utf8))
    headers += [
        _shared_header("Subject", row["subject"], utf8),
        f"Message-ID: <{row['id']}@tilmeld>\n".encode(),
        _date_header(int(time.time())),
        _shared_header("Content-Language", row["language"], utf8),
    ]
    return b"".join(headers)


def _to_header(address: str, policy: email.policy.Policy) -> bytes:
    if (
        policy is ASCII
        and len(address) < 70
        and address.isascii()
        and address.isprintable()
        and " " not in address
    ):
        return b"To: " + address.encode() + b"\n"  # what folding it would write
    return policy.fold_binary("To", address)


@lru_cache(maxsize=2)
def _date_header(second: int) -> bytes:
    """The Date header of the emails written in that second (formatted once for them all)."""
    return f"Date: {formatdate(second, localtime=False)}\n".encode()


@lru_cache(maxsize=1024)
def _shared_header(name: str, value: str, utf8: bool) -> bytes:
    """A header many emails carry alike, folded (and RFC 2047 encoded unless `utf8`) once."""
    if utf8:
        return UTF8.fold_binary(name, value)
    if name != "Subject":
        return ASCII.fold_binary(name, value)
    # compat32 encodes a Header object as RFC 2047 words (a str with non-ASCII it would not).
    return ASCII.fold_binary(name, cast(str, Header(value, "utf-8")))


def _part(content_type: bytes, text: str, more_headers: bytes = b"") -> bytes:
    return b"".join(
        (
            b"Content-Type: ",
            content_type,
            b"\nContent-Transfer-Encoding: base64\n",
            more_headers,
            b"\n",
            base64.encodebytes(text.encode()),
        )
    )


def _multipart(subtype: bytes, boundary: bytes, parts: list[bytes]) -> bytes:
    delimiter = b"--" + boundary
    return b"".join(
        (
            b"Content-Type: multipart/" + subtype + b';\n boundary="' + boundary + b'"\n\n',
            *(delimiter + b"\n" + part + b"\n" for part in parts),
            delimiter + b"--\n",
        )
    )
