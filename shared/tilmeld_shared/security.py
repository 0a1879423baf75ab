"""HTTP hardening every service shares: security headers and a cap on request header size."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tilmeld_shared.problems import problem_response

# Pages that set their own policy (the sign-up pages, the console, /docs) keep it; everything
# else (JSON, CSV, problem details) may load nothing and be framed by no one.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
MAX_HEADER_BYTES = 16 * 1024


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, max_header_bytes: int = MAX_HEADER_BYTES) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        size = sum(len(name) + len(value) for name, value in scope["headers"])
        if size > self.max_header_bytes:
            response = problem_response(
                431, f"Request headers are limited to {self.max_header_bytes} bytes."
            )
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
                content_type = headers.get("content-type", "")
                if "text/html" not in content_type:
                    headers.setdefault("Content-Security-Policy", API_POLICY)
                if scope.get("scheme") == "https":
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, send_with_headers)
