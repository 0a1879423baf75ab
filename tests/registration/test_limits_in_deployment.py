"""Registration's abuse limits as deployed: behind a reverse proxy, and across replicas.

- Behind a proxy every connection comes from the proxy. The per-address limit must count the
  client's address from `X-Forwarded-For`, but only when the peer is one `FORWARDED_ALLOW_IPS`
  trusts: from anyone else the header is a client's claim and is ignored. Served here exactly
  as the services serve (`tilmeld_shared.serving.server`, uvicorn on a loopback port).
- With several replicas each counts alone unless `RATE_LIMIT_STORAGE` is shared: a real
  `redis-server` (Debian's package, `make redis`) on a free loopback port proves two replicas
  share one count.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.requests import Request as StarletteRequest

from devstack.ports import free_port
from registration.api.abuse import AbuseLimits
from registration.settings import Settings
from tilmeld_shared import serving
from tilmeld_shared.problems import TooManyRequests

CLIENT = "203.0.113.7"
OTHER_CLIENT = "198.51.100.9"


def settings(**overrides: Any) -> Settings:
    chosen: dict[str, Any] = {
        "database_url": "postgresql://unused@127.0.0.1:1/unused",
        "kafka_bootstrap_servers": "127.0.0.1:1",
        "host": "127.0.0.1",
        "port": free_port(),
        "rate_limit_per_address": "2/minute",
        "rate_limit_per_email": "",
    }
    return Settings(**(chosen | overrides))


def probe_app(limits: AbuseLimits) -> FastAPI:
    """Answers the client address the limit counted, and whether the limit admitted it."""
    app = FastAPI()

    @app.post("/probe")
    async def probe(request: Request) -> dict[str, Any]:
        try:
            await limits.check_address(request)
        except TooManyRequests:
            admitted = False
        else:
            admitted = True
        return {"client": request.client.host if request.client else None, "admitted": admitted}

    return app


@pytest.fixture
async def serve_behind(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """Serve the probe as the services serve, trusting the proxies `FORWARDED_ALLOW_IPS` says."""
    servers: list[tuple[Any, asyncio.Task[None]]] = []

    async def start(forwarded_allow_ips: str) -> httpx.AsyncClient:
        monkeypatch.setenv("FORWARDED_ALLOW_IPS", forwarded_allow_ips)
        chosen = settings()
        server = serving.server(probe_app(AbuseLimits(chosen)), chosen)
        task = asyncio.create_task(server.serve())
        servers.append((server, task))
        deadline = time.monotonic() + 10
        while not server.started:
            assert not task.done(), "the server did not start"
            assert time.monotonic() < deadline, "the server did not start within 10 s"
            await asyncio.sleep(0.02)
        return httpx.AsyncClient(base_url=f"http://127.0.0.1:{chosen.port}")

    yield start
    for server, task in servers:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def probe(client: httpx.AsyncClient, forwarded_for: str | None) -> dict[str, Any]:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = await client.post("/probe", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_behind_a_trusted_proxy_the_limit_counts_each_forwarded_client(
    serve_behind: Any,
) -> None:
    # The proxy connects from 127.0.0.1, inside the trusted network.
    async with await serve_behind("127.0.0.0/8") as client:
        first = await probe(client, CLIENT)
        second = await probe(client, CLIENT)
        third = await probe(client, CLIENT)
        other = await probe(client, OTHER_CLIENT)
        # A client's own X-Forwarded-For arrives with the proxy's addition after it: the
        # right-most address not trusted is the one counted, not the one the client chose.
        forged = await probe(client, f"192.0.2.55, {CLIENT}")

    assert first == {"client": CLIENT, "admitted": True}
    assert second == {"client": CLIENT, "admitted": True}
    assert third == {"client": CLIENT, "admitted": False}  # 2/minute per address
    assert other == {"client": OTHER_CLIENT, "admitted": True}  # its own count
    assert forged == {"client": CLIENT, "admitted": False}


async def test_from_an_untrusted_peer_x_forwarded_for_is_ignored(serve_behind: Any) -> None:
    # The trusted proxies are elsewhere: this peer's header is a client's claim.
    async with await serve_behind("10.0.0.0/8") as client:
        answers = [await probe(client, address) for address in (CLIENT, OTHER_CLIENT, "192.0.2.1")]

    assert [a["client"] for a in answers] == ["127.0.0.1"] * 3
    # Changing the header does not buy a fresh count: the third request is refused.
    assert [a["admitted"] for a in answers] == [True, True, False]


def test_by_default_only_a_proxy_on_the_same_host_is_trusted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    config = serving.server(probe_app(AbuseLimits(settings())), settings()).config

    assert config.proxy_headers is True
    assert set(str(config.forwarded_allow_ips).split(",")) == {"127.0.0.1", "::1"}


# Shared limits in Redis ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(
            "redis-server is not installed: `make redis` installs Debian's package "
            "(the test starts its own on a loopback port; no service is needed)"
        )
    port = free_port()
    folder: Path = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            *(binary, "--bind", "127.0.0.1", "--port", str(port)),
            *("--save", "", "--appendonly", "no", "--dir", str(folder)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None, "redis-server exited at start"
            assert time.monotonic() < deadline, "redis-server did not listen within 10 s"
            time.sleep(0.05)
        yield f"async+redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def from_address(address: str) -> StarletteRequest:
    return StarletteRequest({"type": "http", "client": (address, 40000), "headers": []})


async def admitted(limits: AbuseLimits, address: str) -> bool:
    try:
        await limits.check_address(from_address(address))
    except TooManyRequests:
        return False
    return True


async def test_replicas_share_one_count_in_redis(redis_url: str) -> None:
    chosen = settings(rate_limit_storage=redis_url, rate_limit_per_address="3/minute")
    first, second = AbuseLimits(chosen), AbuseLimits(chosen)  # two replicas, one Redis

    answers = [
        await admitted(first, CLIENT),
        await admitted(second, CLIENT),
        await admitted(first, CLIENT),
        await admitted(second, CLIENT),
    ]

    assert answers == [True, True, True, False]  # 3/minute across both, not per replica
    assert await admitted(second, OTHER_CLIENT)
    with pytest.raises(TooManyRequests) as refused:
        await first.check_address(from_address(CLIENT))
    assert 0 < (refused.value.retry_after or 0) <= 60


async def test_in_memory_each_replica_counts_alone() -> None:
    chosen = settings(rate_limit_storage="async+memory://", rate_limit_per_address="3/minute")
    first, second = AbuseLimits(chosen), AbuseLimits(chosen)

    answers = [await admitted(limits, CLIENT) for limits in (first, second, first, second)]

    assert answers == [True, True, True, True]  # why RATE_LIMIT_STORAGE must be shared
