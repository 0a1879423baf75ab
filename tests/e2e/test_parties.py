"""A municipality applies to a pilot, is accepted, sends its representative, and the coverage
report moves: through the real processes, Kafka, SMTP and Postgres."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, ORGANISER_TOKEN, REPORTING, network_body
from tests.e2e.conftest import Services

HELD_AT = datetime(2024, 9, 12, 8, tzinfo=UTC)


def _post(
    url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Any:
    response = httpx.post(url, json=body or {}, headers=headers or {}, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _contact(name: str, place: str) -> dict[str, Any]:
    return {
        "name": name,
        "email": f"{uuid.uuid4().hex[:8]}@{place}.kommune.example",
        "role": "Kultursjef",
        "language": "nb",
    }


def test_an_accepted_municipality_sends_its_representative_and_coverage_follows(
    services: Services, smtp: MailCatcher
) -> None:
    api = services.url("registration")
    organiser_address = f"{uuid.uuid4().hex[:8]}@ks.example"
    network = _post(
        f"{api}/networks",
        network_body(
            title="Kulturskole 3.0",
            language="nb",
            organisers=["KS"],
            membership="municipalities",
            admission="application",
            contact={"name": "KS Kultur", "email": organiser_address},
        ),
        ORGANISER,
    )
    network_id = network["network_id"]
    bodo_contact = _contact("Kari Nordmann", "bodo")
    alta_contact = _contact("Ola Alta", "alta")

    bodo = _post(
        f"{api}/networks/{network_id}/parties",
        {"municipality": "Bodø kommune", "contact": bodo_contact, "statement": "Vi vil være med."},
    )
    alta = _post(
        f"{api}/networks/{network_id}/parties", {"municipality": "Alta", "contact": alta_contact}
    )
    assert (bodo["status"], alta["status"]) == ("applied", "applied")

    # The contact gets a receipt and the organiser hears of the application, in Norwegian.
    smtp.wait_for(
        lambda m: m.is_to(bodo_contact["email"]) and m.subject.startswith("Søknad mottatt")
    )
    notices = smtp.wait_for(
        lambda m: m.is_to(organiser_address) and m.subject.startswith("Ny søknad"), count=2
    )
    assert all(m.subject.endswith("til Kulturskole 3.0") for m in notices)

    for party in (bodo, alta):
        _post(f"{api}/parties/{party['party_id']}/accept", headers=ORGANISER)
    smtp.wait_for(
        lambda m: m.is_to(bodo_contact["email"]) and m.subject.startswith("Søknad godkjent")
    )

    # Only a joined municipality's people may enrol.
    outsider = httpx.post(
        f"{api}/networks/{network_id}/enrolments",
        json={
            "member": {**_contact("Per Tromsø", "tromso"), "municipality": "Tromsø"},
            "consent": True,
        },
        timeout=10,
    )
    assert outsider.status_code == 409
    assert outsider.json()["type"].endswith("municipality-not-party")

    # Bodø's representative came to the pilot's first gathering; Alta sent nobody.
    representative = {
        "name": bodo_contact["name"],
        "email": bodo_contact["email"],
        "municipality": "Bodø",
        "role": "Kultursjef",
    }
    _post(
        f"{api}/networks/{network_id}/held-meetings",
        {
            "title": "Samling 1",
            "starts_at": HELD_AT.isoformat(),
            "ends_at": (HELD_AT + timedelta(hours=6)).isoformat(),
            "timezone": "Europe/Oslo",
            "location": "Bodø",
            "capacity": 40,
            "registrations": [
                {
                    "member": representative,
                    "registered_at": (HELD_AT - timedelta(days=10)).isoformat(),
                    "attended": True,
                }
            ],
        },
        ORGANISER,
    )

    reports = services.url("reporting")
    deadline = time.monotonic() + 20
    parties: dict[str, Any] = {}
    while time.monotonic() < deadline:
        answer = httpx.get(f"{reports}/reports/networks/{network_id}/parties", headers=REPORTING)
        if answer.status_code == 200:
            parties = answer.json()
            by_id = {p["municipality_id"]: p for p in parties.get("items", [])}
            if by_id.get(bodo["municipality_id"], {}).get("coverage") == 1.0:
                break
        time.sleep(0.2)
    by_id = {p["municipality_id"]: p for p in parties["items"]}
    bodo_counts, alta_counts = by_id[bodo["municipality_id"]], by_id[alta["municipality_id"]]
    assert (bodo_counts["status"], alta_counts["status"]) == ("joined", "joined")
    assert (bodo_counts["meetings_attended"], bodo_counts["coverage"]) == (1, 1.0)
    assert (alta_counts["meetings_attended"], alta_counts["coverage"]) == (0, 0.0)
    assert (parties["meetings_held"], parties["parties_absent"]) == (1, 1)
    # The console shows the same coverage beside each party (asked of reporting).
    root = api.removesuffix("/api/v1")
    with httpx.Client(base_url=root, timeout=10) as console:
        assert console.post("/console/login", data={"token": ORGANISER_TOKEN}).status_code in (
            302,
            303,
        )
        page = console.get(f"/console/networks/{network_id}").text
    bodo_row = next(row for row in page.split("<tr>") if ">Bodø" in row)
    alta_row = next(row for row in page.split("<tr>") if ">Alta" in row)
    assert "1 / 1" in bodo_row and "100 %" in bodo_row
    assert "0 / 1" in alta_row and "0 %" in alta_row
    # The organiser's email about an application names no person.
    assert all(bodo_contact["name"] not in m.text for m in notices)
