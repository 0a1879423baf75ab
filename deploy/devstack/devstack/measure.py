"""`python -m devstack measure`: latency of the flow on a running `make run` stack.

At a steady rate, enrols and registers new people for a demo meeting and times, for each, the
POST's answer, the confirmation email's arrival in the SMTP catcher, and the report's update.
The load generator shares the machine's cores with the services it measures.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from typing import Any

import httpx

from devstack.stack import DEV_ORGANISER_TOKEN, DEV_REPORTING_TOKEN, SERVICES


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# Long on purpose: one measurement read top to bottom (stack, traffic, waiting, figures); split,
# the order that matters would be scattered over helpers.
def run(
    *,
    count: int = 50,
    rate_per_s: float = 5.0,
    mailbox: str = "http://127.0.0.1:8025",
    organiser_token: str = DEV_ORGANISER_TOKEN,
    reporting_token: str = DEV_REPORTING_TOKEN,
) -> dict[str, Any]:
    api = f"http://127.0.0.1:{SERVICES['registration']}/api/v1"
    reports = f"http://127.0.0.1:{SERVICES['reporting']}/api/v1"
    organiser = {"Authorization": f"Bearer {organiser_token}"}
    client = httpx.Client(timeout=10)
    network = client.post(
        f"{api}/networks",
        headers=organiser,
        json={
            "title": f"Latency probe {uuid.uuid4().hex[:6]}",
            "description": "measure",
            "organisers": ["devstack"],
            "language": "da",
            "max_companions": 1,
        },
    ).json()
    starts = time.time() + 30 * 86400
    meeting = client.post(
        f"{api}/networks/{network['network_id']}/meetings",
        headers=organiser,
        json={
            "title": "Probe",
            "capacity": count * 2,
            "starts_at": time.strftime("%Y-%m-%dT10:00:00Z", time.gmtime(starts)),
            "ends_at": time.strftime("%Y-%m-%dT12:00:00Z", time.gmtime(starts)),
        },
    ).json()
    post_ms: list[float] = []
    email_ms: list[float] = []
    report_ms: list[float] = []
    lock = threading.Lock()

    def follow(address: str, seats_expected: int, posted_at: float) -> None:
        mail_at = report_at = None
        deadline = posted_at + 30
        with httpx.Client(timeout=5) as watcher:
            while (mail_at is None or report_at is None) and time.monotonic() < deadline:
                if mail_at is None and any(
                    address in m["to"] and "bekræftet" in m["subject"]
                    for m in watcher.get(f"{mailbox}/api/mails").json()
                ):
                    mail_at = time.monotonic()
                if report_at is None:
                    body = watcher.get(
                        f"{reports}/reports/meetings/{meeting['meeting_id']}",
                        headers={"Authorization": f"Bearer {reporting_token}"},
                    )
                    if body.status_code == 200 and body.json()["seats_confirmed"] >= seats_expected:
                        report_at = time.monotonic()
                time.sleep(0.005)
        with lock:
            if mail_at:
                email_ms.append((mail_at - posted_at) * 1000)
            if report_at:
                report_ms.append((report_at - posted_at) * 1000)

    watchers = []
    for i in range(count):
        person = {
            "name": f"Probe {i}",
            "email": f"probe-{uuid.uuid4().hex[:8]}@example.org",
            "municipality": "Roskilde",
            "role": "Kulturkonsulent",
        }
        client.post(
            f"{api}/networks/{network['network_id']}/enrolments",
            json={"member": person, "consent": True},
        ).raise_for_status()
        started = time.monotonic()
        client.post(
            f"{api}/meetings/{meeting['meeting_id']}/registrations",
            json={"member": person, "companions": []},
        ).raise_for_status()
        post_ms.append((time.monotonic() - started) * 1000)
        watcher = threading.Thread(target=follow, args=(person["email"], i + 1, started))
        watcher.start()
        watchers.append(watcher)
        time.sleep(1 / rate_per_s)
    for watcher in watchers:
        watcher.join()
    return {
        "count": count,
        "rate_per_s": rate_per_s,
        **{
            f"{name}_{label}_ms": round(_percentile(values, share), 1)
            for name, values in (("post", post_ms), ("email", email_ms), ("report", report_ms))
            for label, share in (("p50", 0.5), ("p99", 0.99))
        },
        "emails_seen": len(email_ms),
        "reports_seen": len(report_ms),
        "email_mean_ms": round(statistics.mean(email_ms), 1) if email_ms else None,
    }
