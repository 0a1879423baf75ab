"""Serving a service's app with uvicorn, plus the two deadlines uvicorn does not have.

uvicorn closes a kept-alive connection that sits idle, but nothing bounds how long a client may
take to send a request: one that trickles its headers or its body a byte every few seconds
holds a connection, a parser and a request task for as long as it likes, and a few hundred of
them starve the process (slowloris). Middleware cannot help, since the app is called only once
the headers are in. So the HTTP protocol itself keeps two deadlines: a request's headers must
be complete within `header_timeout_s` of its first byte (of the connection opening, for the
first request), and its body within `body_timeout_s` of the headers. A request that misses one
is answered 408 and its connection closed. Time the app spends answering is not limited here.

Behind a reverse proxy the peer of every connection is the proxy, so the client's address
(which registration's per-address rate limit counts) comes from `X-Forwarded-For`, and only
when the peer is trusted: uvicorn's proxy headers, trusting the addresses and networks in the
setting `FORWARDED_ALLOW_IPS` (comma-separated, CIDR allowed; by default only the
loopback addresses, 127.0.0.1 and ::1). From an untrusted peer the header is ignored, so a
client cannot pick its own address.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

_REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 29\r\n"
    b"connection: close\r\n"
    b"\r\n"
    b"The request came too slowly.\n"
)


class ServingSettings(Protocol):
    """What each service's Settings says about serving HTTP."""

    host: str
    port: int
    log_level: str
    header_timeout_s: float
    body_timeout_s: float
    forwarded_allow_ips: str


class DeadlineHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline on reading each request."""

    header_timeout_s = 10.0
    body_timeout_s = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._mid_request = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout_s, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._mid_request = True
        if self._deadline is None:  # the first request's clock runs from the connection
            self._arm(self.header_timeout_s, "headers")

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_timeout_s, "body")

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._mid_request = False
        self._disarm()

    def _arm(self, seconds: float, part: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow, part)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self, part: str) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        # Debug only: under a slowloris attack this would be a line per connection.
        log.debug("closing a connection whose request %s came too slowly", part)
        cycle = self.cycle
        answerable = cycle is None or cycle.response_complete or not cycle.response_started
        if self._mid_request and answerable:  # a connection that sent nothing just closes
            self.transport.write(_REQUEST_TIMEOUT)
        if cycle is not None and not cycle.response_complete:
            # The app, if it is waiting for the body, hears the client is gone; what it would
            # still send is dropped rather than written after the 408.
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()


def server(app: Any, settings: ServingSettings) -> uvicorn.Server:
    """A uvicorn server for the app, as every service runs it."""

    class Protocol(DeadlineHttpProtocol):
        header_timeout_s = settings.header_timeout_s
        body_timeout_s = settings.body_timeout_s

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=Protocol,
        log_level=settings.log_level.lower(),
        access_log=False,
        # X-Forwarded-For/-Proto only from the trusted peers; see the module's docstring.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        # Longer than a load balancer's idle timeout, so the server never closes a kept-alive
        # connection just as a client reuses it.
        timeout_keep_alive=75,
    )
    return uvicorn.Server(config)


def serve(app: Any, settings: ServingSettings) -> None:
    """Run the app until the process is told to stop."""
    server(app, settings).run()
