"""A Hypothesis state machine drives the registration API at random and checks the invariants
after every step: never over capacity nor over a municipality's share of seats, the waitlist
promoted in order (each one that fits both), and at most one active registration per person
and meeting."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from registration.main import create_app
from tests.builders import ORGANISER, companion, meeting_body, member, network_body
from tests.registration.api.conftest import registration_settings

PEOPLE = 6
MEETINGS = 2
# Two spellings of one municipality, another one, and a name the register does not know (in
# two spellings): shares are held by the resolved municipality, or by the typed name's key.
MUNICIPALITIES = ["Rødovre", "Rødovre Kommune", "Roskilde", "Atlantis", "ATLANTIS kommune", "Køge"]

STATE = """
SELECT m.id, m.capacity, m.seats_taken, m.status, m.seats_per_municipality AS share,
       coalesce(json_agg(json_build_object('id', r.id, 'member', r.member_id, 'status', r.status,
                                           'seats', r.seats, 'position', r.position,
                                           'municipality', coalesce(mb.municipality_id::text,
                                                                    'name:' || mb.municipality_key))
                         ORDER BY r.position) FILTER (WHERE r.id IS NOT NULL), '[]') AS regs
FROM registration.meetings m LEFT JOIN registration.registrations r ON r.meeting_id = m.id
LEFT JOIN registration.members mb ON mb.id = r.member_id
WHERE m.id = ANY($1::uuid[])
GROUP BY m.id
"""


class RegistrationMachine(RuleBasedStateMachine):
    database_url = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.app = create_app(registration_settings(self.database_url), run_relay=False)
        self.lifespan = self.app.router.lifespan_context(self.app)
        self.loop.run_until_complete(self.lifespan.__aenter__())
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://registration/api/v1"
        )
        self.conn: asyncpg.Connection = self.loop.run_until_complete(
            asyncpg.connect(self.database_url)
        )
        self.registrations: list[str] = []

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        response = self.run(self.client.post(path, json=body, **kwargs))
        assert response.status_code < 500, response.text
        return response

    @initialize()
    def a_network_with_meetings_and_members(self) -> None:
        network = self.post("/networks", network_body(max_companions=1), headers=ORGANISER)
        self.network_id = network.json()["network_id"]
        self.meetings = [
            self.post(
                f"/networks/{self.network_id}/meetings",
                meeting_body(capacity=3, seats_per_municipality=share),
                headers=ORGANISER,
            ).json()["meeting_id"]
            for share in (1, None)
        ]
        self.people = [
            member(name=f"Person {i}", municipality=MUNICIPALITIES[i % len(MUNICIPALITIES)])
            for i in range(PEOPLE)
        ]
        for person in self.people:
            self.post(
                f"/networks/{self.network_id}/enrolments", {"member": person, "consent": True}
            )

    @rule(
        person=st.integers(0, PEOPLE - 1),
        meeting=st.integers(0, MEETINGS - 1),
        companions=st.integers(0, 1),
    )
    def register(self, person: int, meeting: int, companions: int) -> None:
        response = self.post(
            f"/meetings/{self.meetings[meeting]}/registrations",
            {"member": self.people[person], "companions": [companion()] * companions},
        )
        assert response.status_code in (201, 409)
        if response.status_code == 201:
            self.registrations.append(response.json()["registration_id"])

    @rule(which=st.integers(0, 50))
    def cancel_a_registration(self, which: int) -> None:
        if not self.registrations:
            return
        registration = self.registrations[which % len(self.registrations)]
        response = self.post(f"/registrations/{registration}/cancel", headers=ORGANISER)
        assert response.status_code in (200, 409)

    @rule(meeting=st.integers(0, MEETINGS - 1), capacity=st.integers(0, 8))
    def change_capacity(self, meeting: int, capacity: int) -> None:
        response = self.run(
            self.client.patch(
                f"/meetings/{self.meetings[meeting]}",
                json={"capacity": capacity},
                headers=ORGANISER,
            )
        )
        assert response.status_code in (200, 409), response.text

    @rule(meeting=st.integers(0, MEETINGS - 1), share=st.none() | st.integers(1, 3))
    def change_the_share(self, meeting: int, share: int | None) -> None:
        response = self.run(
            self.client.patch(
                f"/meetings/{self.meetings[meeting]}",
                json={"seats_per_municipality": share},
                headers=ORGANISER,
            )
        )
        assert response.status_code in (200, 409), response.text

    @rule(meeting=st.integers(0, MEETINGS - 1))
    def cancel_a_meeting(self, meeting: int) -> None:
        response = self.post(f"/meetings/{self.meetings[meeting]}/cancel", headers=ORGANISER)
        assert response.status_code in (200, 409)

    @invariant()
    def seats_never_exceed_capacity_and_the_waitlist_moves_in_order(self) -> None:
        if not hasattr(self, "meetings"):
            return
        import json

        for row in self.run(self.conn.fetch(STATE, self.meetings)):
            registrations = json.loads(row["regs"]) if isinstance(row["regs"], str) else row["regs"]
            confirmed = [r for r in registrations if r["status"] == "confirmed"]
            assert row["seats_taken"] == sum(r["seats"] for r in confirmed)
            assert row["seats_taken"] <= row["capacity"]
            active = [r["member"] for r in registrations if r["status"] != "cancelled"]
            assert len(active) == len(set(active)), "a person registered twice"
            held: dict[str, int] = {}
            for r in confirmed:
                held[r["municipality"]] = held.get(r["municipality"], 0) + r["seats"]
            share = row["share"]
            if share is not None:
                assert all(seats <= share for seats in held.values()), (
                    f"a municipality holds more than its share of {share}: {held}"
                )
            if row["status"] == "scheduled":
                free = row["capacity"] - row["seats_taken"]
                waiting = [r for r in registrations if r["status"] == "waitlisted"]
                fitting = [
                    r
                    for r in waiting
                    if r["seats"] <= free
                    and (share is None or held.get(r["municipality"], 0) + r["seats"] <= share)
                ]
                assert not fitting, (
                    f"{free} free seats while a party that fits them and its share waits: {fitting}"
                )

    def teardown(self) -> None:
        self.run(self.conn.close())
        self.run(self.client.aclose())
        self.run(self.lifespan.__aexit__(None, None, None))
        self.loop.close()


def test_the_registration_rules_hold_whatever_happens(database_url: str) -> None:
    RegistrationMachine.database_url = database_url
    machine = RegistrationMachine.TestCase
    machine.settings = settings(
        max_examples=20,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    machine().runTest()
