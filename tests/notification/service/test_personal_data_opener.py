"""After a backlog a consumer batch holds hundreds of sealed people; the notification service
must have them all opened by the real registration API, whose request bodies are capped."""

from __future__ import annotations

import asyncpg

from notification.clients import PersonalDataOpener
from tests.builders import member
from tests.notification.conftest import notification_settings
from tests.registration.api.conftest import Api, api  # noqa: F401  (the fixture: the registration app in-process)
from tilmeld_shared.events import read_envelope

DEV_PERSONAL_DATA_TOKEN = "dev-only-personal-data:test-organiser-token"


async def test_a_batch_larger_than_one_request_body_is_opened_in_full(
    api: Api,  # noqa: F811  (the fixture imported above)
    database_url: str,
) -> None:
    network = await api.network()
    meeting = await api.meeting(network["network_id"], open_to_public=True)
    person = member(municipality="Herlev")
    registered = await api.client.post(
        f"/meetings/{meeting['meeting_id']}/registrations",
        json={"member": person, "companions": []},
    )
    assert registered.status_code == 201
    conn = await asyncpg.connect(database_url)
    try:
        raw = await conn.fetchval(
            "SELECT envelope::text FROM registration.outbox "
            "WHERE envelope ->> 'event_type' = 'RegistrationConfirmed'"
        )
    finally:
        await conn.close()
    event = read_envelope(raw.encode())
    # 600 copies of one sealed person are several times the 64 KiB a request may carry.
    backlog = [event] * 600

    opener = PersonalDataOpener(
        notification_settings(
            database_url,
            registration_url="http://registration",
            personal_data_token=DEV_PERSONAL_DATA_TOKEN,
        ),
        transport=api.transport,
    )
    try:
        opened = await opener.open_all(backlog)
    finally:
        await opener.close()

    assert len(opened) == 600
    assert {payload.personal.email for _, payload in opened} == {person["email"]}  # type: ignore[union-attr]
