"""A client that sends its request too slowly is answered 408 and cut off, over a real socket to
the registration service served as its entry point serves it (tilmeld_shared.serving)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from registration.main import create_app
from tests.registration.api.conftest import registration_settings
from tilmeld_shared import serving

TIMEOUT_S = 1.0
# What the test allows beyond the deadline before calling the connection "not cut off".
SLACK_S = 1.5
Address = tuple[str, int]


@pytest.fixture
async def served(database_url: str) -> AsyncIterator[Address]:
    settings = registration_settings(
        database_url, header_timeout_s=TIMEOUT_S, body_timeout_s=TIMEOUT_S
    )
    server = serving.server(create_app(settings, run_relay=False), settings)
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    running = asyncio.create_task(server.serve(sockets=[listening]))
    async with asyncio.timeout(15):
        while not server.started:
            await asyncio.sleep(0.02)
    yield listening.getsockname()
    server.should_exit = True
    await asyncio.wait_for(running, 15)


async def trickle(writer: asyncio.StreamWriter, head: bytes, drip: bytes) -> None:
    """Send `head`, then `drip` every 0.2 s until the server hangs up."""
    writer.write(head)
    try:
        for _ in range(100):
            await asyncio.sleep(0.2)
            writer.write(drip)
            await writer.drain()
    except OSError:
        return


async def until_closed(address: Address, head: bytes, drip: bytes) -> tuple[bytes, float]:
    """What the server answers a trickling client, and after how long it hangs up."""
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection(*address)
    started = loop.time()
    sending = asyncio.create_task(trickle(writer, head, drip))
    answer = b""
    try:
        async with asyncio.timeout(TIMEOUT_S + 10):
            while chunk := await reader.read(65536):
                answer += chunk
    except ConnectionResetError:
        pass
    finally:
        elapsed = loop.time() - started
        sending.cancel()
        writer.close()
    return answer, elapsed


async def test_a_client_trickling_its_headers_is_cut_off(served: Address) -> None:
    answer, elapsed = await until_closed(
        served, b"GET /api/v1/networks HTTP/1.1\r\nHost: tilmeld\r\n", b"X-Slow: y\r\n"
    )

    assert answer.startswith(b"HTTP/1.1 408")
    assert TIMEOUT_S <= elapsed < TIMEOUT_S + SLACK_S


async def test_a_client_trickling_its_body_is_cut_off(served: Address) -> None:
    head = (
        b"POST /api/v1/networks/00000000-0000-0000-0000-000000000000/enrolments HTTP/1.1\r\n"
        b"Host: tilmeld\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"
    )

    answer, elapsed = await until_closed(served, head, b" ")

    assert answer.startswith(b"HTTP/1.1 408")
    assert TIMEOUT_S <= elapsed < TIMEOUT_S + SLACK_S


async def test_a_connection_that_sends_nothing_is_closed(served: Address) -> None:
    answer, elapsed = await until_closed(served, b"", b"")

    assert answer == b""
    assert elapsed < TIMEOUT_S + SLACK_S


async def test_a_prompt_client_keeps_its_connection_between_requests(served: Address) -> None:
    reader, writer = await asyncio.open_connection(*served)
    request = b"GET /api/v1/networks HTTP/1.1\r\nHost: tilmeld\r\n\r\n"
    statuses = []
    for _ in range(2):
        writer.write(request)
        async with asyncio.timeout(10):
            statuses.append(await reader.readline())
            length = 0
            while (line := await reader.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
        await asyncio.sleep(TIMEOUT_S * 1.5)  # idle longer than a request may take to arrive
    writer.close()

    assert statuses == [b"HTTP/1.1 200 OK\r\n"] * 2
