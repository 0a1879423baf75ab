"""Organisations kept apart. Every organiser route is walked with no token, a wrong token, a
revoked API key, an expired JWT, a JWT of another organisation and reporting credentials:
every answer is 401, 403 or 404, never data. The organisation's own key and JWT do get in."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.routing import APIRoute

from devstack.ports import free_port
from registration.api import deps
from registration.main import create_app
from tests.builders import ORGANISER, REPORTING, meeting_body, member, network_body
from tests.registration.api.conftest import Api, registration_settings

ISSUER = "https://login.kl.example"
AUDIENCE = "tilmeld"
GUARDS = {deps._organiser, deps._platform_organiser, deps._platform_reader}
# Routes a person may use with their own token, where an organiser's token only widens access.
PERSON_OR_ORGANISER = {
    ("POST", "/api/v1/registrations/{registration_id}/cancel"),
    ("POST", "/api/v1/enrolments/{enrolment_id}/cancel"),
    ("POST", "/api/v1/parties/{party_id}/withdraw"),
}

# Routes every organisation's organiser may use, each for itself: a network of its own, an
# addition to the register all share, the unresolved names among its own members.
CONSULTATION = {
    "title": "Medlemsdialog",
    "description": "Hva forventer dere?",
    "questions": [{"text": "Hvor viktig?", "kind": "scale"}],
    "opens_at": "2030-01-01T08:00:00Z",
    "closes_at": "2030-02-01T08:00:00Z",
    "audience": "members",
}
# The smallest PDF a sniffer takes for one.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

ANY_ORGANISATIONS_OWN = {
    ("POST", "/api/v1/networks"),
    ("POST", "/api/v1/municipalities"),
    ("GET", "/api/v1/unresolved-municipalities"),
}


@dataclass
class IdentityProvider:
    """A stand-in OpenID Connect provider: its signing key and a JWKS served over HTTP."""

    key: rsa.RSAPrivateKey
    jwks_url: str

    def token(self, *, organisation: uuid.UUID, roles: list[str], expires_in: int = 300) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "someone",
            "iat": now,
            "exp": now + expires_in,
            "roles": roles,
            "organisation": str(organisation),
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "test-key"})


@pytest.fixture
def identity_provider() -> Iterator[IdentityProvider]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "test-key", "use": "sig", "alg": "RS256"}]})

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield IdentityProvider(key, f"http://127.0.0.1:{server.server_port}/jwks.json")
    server.shutdown()


@pytest.fixture
async def oidc_api(database_url: str, identity_provider: IdentityProvider) -> AsyncIterator[Api]:
    settings = registration_settings(
        database_url,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=identity_provider.jwks_url,
    )
    app = create_app(settings, run_relay=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registration") as c:
            c.app = app  # type: ignore[attr-defined]
            yield Api(c)


def _api_routes(app: Any) -> list[Any]:
    """Every API route with its full path (FastAPI wraps included routers)."""
    found: list[Any] = []
    for item in app.routes:
        if isinstance(item, APIRoute):
            found.append(item)
        elif hasattr(item, "effective_route_contexts"):
            found.extend(item.effective_route_contexts())
    return found


def _guards(route: Any) -> set[Any]:
    found, stack = set(), list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        found |= {dependency.call} & GUARDS
        stack.extend(dependency.dependencies)
    return found


def _guarded(route: Any) -> bool:
    person_or_organiser = (next(iter(route.methods)), route.path) in PERSON_OR_ORGANISER
    return bool(_guards(route)) or person_or_organiser


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _post(client: httpx.AsyncClient, path: str, body: Any, headers: dict[str, str]) -> Any:
    answer = await client.post(f"/api/v1{path}", json=body, headers=headers)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


async def test_no_credential_but_the_organisations_own_reaches_its_data(
    oidc_api: Api, identity_provider: IdentityProvider
) -> None:
    client = oidc_api.client
    org_a = await _post(client, "/organisations", {"name": "KL"}, ORGANISER)
    org_b = await _post(client, "/organisations", {"name": "KS"}, ORGANISER)
    keys_of_a = f"/organisations/{org_a['organisation_id']}/api-keys"
    a_key = (await _post(client, keys_of_a, {"name": "culture team"}, ORGANISER))["key"]
    reporting = {"name": "dashboards", "role": "reporting"}
    a_reporting_key = (await _post(client, keys_of_a, reporting, ORGANISER))["key"]
    old = await _post(client, keys_of_a, {"name": "old laptop"}, ORGANISER)
    await _post(client, f"/api-keys/{old['api_key_id']}/revoke", None, ORGANISER)

    # Organisation A's data, created with A's own key.
    a = _bearer(a_key)
    network = await _post(client, "/networks", network_body(), a)
    assert network["organisation_id"] == org_a["organisation_id"]
    meeting = await _post(
        client, f"/networks/{network['network_id']}/meetings", meeting_body(open_to_public=True), a
    )
    person = member()
    registration = await _post(
        client, f"/meetings/{meeting['meeting_id']}/registrations", {"member": person}, {}
    )
    enrolment = await _post(
        client,
        f"/networks/{network['network_id']}/enrolments",
        {"member": person, "consent": True},
        {},
    )
    of_municipalities = await _post(
        client, "/networks", network_body(membership="municipalities", admission="application"), a
    )
    contact = member()
    del contact["municipality"]
    party = await _post(
        client,
        f"/networks/{of_municipalities['network_id']}/parties",
        {"municipality": "Rødovre", "contact": contact},
        {},
    )
    # The year's and the dialogue's things of A: a consultation, a proposal, a document.
    await client.patch(
        f"/api/v1/networks/{network['network_id']}", json={"proposals": "open"}, headers=a
    )
    consultation = await _post(
        client, f"/networks/{network['network_id']}/consultations", CONSULTATION, a
    )
    proposal = await _post(
        client,
        f"/networks/{network['network_id']}/proposals",
        {"member": person, "title": "Kultur og klima", "body": "Et emne."},
        {},
    )
    uploaded = await client.post(
        f"/api/v1/meetings/{meeting['meeting_id']}/documents",
        files={"file": ("program.pdf", PDF, "application/pdf")},
        data={"visibility": "public"},
        headers=a,
    )
    assert uploaded.status_code == 201, uploaded.text
    ids = {
        "consultation_id": consultation["consultation_id"],
        "proposal_id": proposal["proposal_id"],
        "document_id": uploaded.json()["document_id"],
        "party_id": party["party_id"],
        "network_id": network["network_id"],
        "meeting_id": meeting["meeting_id"],
        "registration_id": registration["registration_id"],
        "enrolment_id": enrolment["enrolment_id"],
        "member_id": registration["member_id"],
        "organisation_id": org_a["organisation_id"],
        "api_key_id": old["api_key_id"],
    }
    bodies = {
        ("PATCH", "/api/v1/networks/{network_id}"): {"title": "Taken over"},
        ("POST", "/api/v1/networks/{network_id}/meetings"): meeting_body(),
        ("POST", "/api/v1/networks/{network_id}/held-meetings"): meeting_body(days_ahead=-30),
        ("PATCH", "/api/v1/meetings/{meeting_id}"): {"title": "Taken over"},
        ("POST", "/api/v1/meetings/{meeting_id}/messages"): {
            "subject": "Not yours",
            "body": "Hello",
            "to": "all",
        },
        ("POST", "/api/v1/networks/{network_id}/consultations"): CONSULTATION,
        ("POST", "/api/v1/proposals/{proposal_id}/reject"): {"reason": "Not yours"},
        ("POST", "/api/v1/proposals/{proposal_id}/schedule"): {"meeting_id": meeting["meeting_id"]},
        ("POST", "/api/v1/organisations"): {"name": "Intruders"},
        ("POST", "/api/v1/organisations/{organisation_id}/api-keys"): {"name": "mine now"},
    }
    a_org, b_org = uuid.UUID(org_a["organisation_id"]), uuid.UUID(org_b["organisation_id"])
    callers = {
        "no token": {},
        "wrong token": _bearer("not-a-token"),
        "revoked key": _bearer(old["key"]),
        "expired JWT": _bearer(
            identity_provider.token(organisation=a_org, roles=["organiser"], expires_in=-60)
        ),
        "other organisation's JWT": _bearer(
            identity_provider.token(organisation=b_org, roles=["organiser"])
        ),
        "reporting token": REPORTING,
        "reporting key": _bearer(a_reporting_key),
    }
    revoked = await client.get(f"/api/v1/networks/{ids['network_id']}/enrolments")  # warm-up
    assert revoked.status_code == 401

    routes = [
        route
        for route in _api_routes(client.app)  # type: ignore[attr-defined]
        if _guarded(route)
        and (next(iter(route.methods)), route.path) not in ANY_ORGANISATIONS_OWN
    ]  # fmt: skip
    answers: dict[int, int] = {}
    for route in routes:
        method = next(iter(route.methods))
        path = route.path.format(**{k: v for k, v in ids.items() if "{" + k + "}" in route.path})
        for caller, headers in callers.items():
            if caller == "reporting token" and deps._platform_reader in _guards(route):
                continue  # the platform's reporting token reads the platform's own status
            answer = await client.request(
                method, path, json=bodies.get((method, route.path)), headers=headers
            )
            answers[answer.status_code] = answers.get(answer.status_code, 0) + 1
            assert answer.status_code in (401, 403, 404), (caller, method, route.path, answer.text)
            unknown = caller in {"no token", "wrong token", "revoked key", "expired JWT"}
            if unknown and (method, route.path) not in PERSON_OR_ORGANISER:
                assert answer.status_code == 401, (caller, method, route.path)
    print(f"tenancy: {len(routes)} guarded routes x {len(callers)} callers: {answers}")
    assert len(routes) >= 15

    # The organisation's own credentials do get in: its key, and its provider's JWT.
    roster = f"/api/v1/meetings/{ids['meeting_id']}/registrations"
    a_jwt = _bearer(identity_provider.token(organisation=a_org, roles=["organiser"]))
    for headers in (a, a_jwt):
        answer = await client.get(roster, headers=headers)
        assert answer.status_code == 200 and len(answer.json()["items"]) == 1
    # And the network is unchanged by all of the above.
    unchanged = await client.get(f"/api/v1/networks/{ids['network_id']}")
    assert unchanged.json()["title"] == network["title"]
