"""Reports kept apart: an organisation's API key reads its own networks' reports, and gets 404
(or, for the cross-organisation pipeline view, 403) for everything else."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.builders import ORGANISER, REPORTING, meeting_body, member, network_body
from tests.e2e.conftest import Services


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_organisations_key_reads_only_its_own_reports(services: Services) -> None:
    api, reports = services.url("registration"), services.url("reporting")
    client = httpx.Client(timeout=10)
    keys: dict[str, str] = {}
    meetings: dict[str, Any] = {}
    for name in ("KL", "KS"):
        org = client.post(f"{api}/organisations", json={"name": name}, headers=ORGANISER).json()
        keys[name] = client.post(
            f"{api}/organisations/{org['organisation_id']}/api-keys",
            json={"name": "reports", "role": "reporting"},
            headers=ORGANISER,
        ).json()["key"]
        organiser_key = client.post(
            f"{api}/organisations/{org['organisation_id']}/api-keys",
            json={"name": "team"},
            headers=ORGANISER,
        ).json()["key"]
        body = network_body(title=f"{name} net")
        network = client.post(f"{api}/networks", json=body, headers=_bearer(organiser_key)).json()
        meetings[name] = client.post(
            f"{api}/networks/{network['network_id']}/meetings",
            json=meeting_body(open_to_public=True),
            headers=_bearer(organiser_key),
        ).json()
        client.post(
            f"{api}/meetings/{meetings[name]['meeting_id']}/registrations",
            json={"member": member()},
        ).raise_for_status()

    ks_meeting = f"{reports}/reports/meetings/{meetings['KS']['meeting_id']}"
    deadline = time.monotonic() + 30
    while client.get(ks_meeting, headers=REPORTING).status_code != 200:
        assert time.monotonic() < deadline, "reporting never saw the meeting"
        time.sleep(0.2)

    kl = _bearer(keys["KL"])
    own = client.get(f"{reports}/reports/meetings/{meetings['KL']['meeting_id']}", headers=kl)
    assert own.status_code == 200 and own.json()["registrations_confirmed"] == 1
    assert client.get(ks_meeting, headers=kl).status_code == 404
    visible = client.get(f"{reports}/reports/networks", headers=kl).json()["items"]
    assert [n["title"] for n in visible] == ["KL net"]
    assert client.get(f"{reports}/reports/pipeline", headers=kl).status_code == 403
    unknown = client.get(f"{reports}/reports/networks", headers=_bearer("tlm_unknown"))
    assert unknown.status_code == 401
    # The platform's reporting token still sees both.
    everyone = client.get(f"{reports}/reports/networks", headers=REPORTING).json()["items"]
    assert {"KL net", "KS net"} <= {n["title"] for n in everyone}
