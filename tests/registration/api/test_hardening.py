"""Security headers on every answer, a cap on header size, CORS off unless configured."""

from __future__ import annotations

import httpx

from registration.main import create_app
from tests.builders import ORGANISER, member
from tests.registration.api.conftest import Api, registration_settings


async def test_answers_carry_security_headers(api: Api) -> None:
    answer = await api.client.get("/networks")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert answer.headers["referrer-policy"] == "no-referrer"
    missing = await api.client.get("/networks/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.headers["x-content-type-options"] == "nosniff"


async def test_oversized_headers_are_refused_with_problem_details(api: Api) -> None:
    answer = await api.client.get("/networks", headers={"X-Padding": "x" * 20_000})
    assert answer.status_code == 431
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_cors_is_off_by_default_and_allows_only_configured_origins(
    api: Api, database_url: str
) -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    assert (
        "access-control-allow-origin"
        not in (await api.client.options("/networks", headers=preflight)).headers
    )

    settings = registration_settings(database_url, cors_allowed_origins="https://kl.example")
    app = create_app(settings, run_relay=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://r/api/v1") as client:
            allowed = await client.get("/networks", headers={"Origin": "https://kl.example"})
            assert allowed.headers["access-control-allow-origin"] == "https://kl.example"
            other = await client.get("/networks", headers={"Origin": "https://evil.example"})
            assert "access-control-allow-origin" not in other.headers


async def test_what_the_fuzzer_found_is_answered_422_not_500(api: Api) -> None:
    """Found by schemathesis: a NUL in a name and an explicit null on a PATCH used to be 500s
    (the database refused them); a 405 named only one route's methods."""
    network = await api.network()
    meeting = await api.meeting(network["network_id"], open_to_public=True)
    person = {**member(), "name": "Mette\u0000Hansen"}
    nul = await api.client.post(
        f"/meetings/{meeting['meeting_id']}/registrations", json={"member": person}
    )
    assert nul.status_code == 422
    for path, body in (
        (f"/networks/{network['network_id']}", {"language": None}),
        (f"/meetings/{meeting['meeting_id']}", {"open_to_public": None, "title": "x"}),
    ):
        nulled = await api.client.patch(path, json=body, headers=ORGANISER)
        assert nulled.status_code == 422, nulled.text
        assert "cannot be null" in nulled.text
    options = await api.client.options(f"/networks/{network['network_id']}")
    assert options.status_code == 405
    assert options.headers["allow"] == "GET, PATCH"
