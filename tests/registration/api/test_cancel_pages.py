"""The emailed cancel link: a mail scanner following it cancels nothing; the button does."""

from __future__ import annotations

from tests.registration.api.conftest import Api

ROOT = "http://registration"


async def booked(api: Api, language: str = "de") -> tuple[dict, dict]:
    network = await api.network(language=language)
    meeting = await api.meeting(network["network_id"])
    person = await api.enrolled(network["network_id"])
    registration = (
        await api.client.post(
            f"/meetings/{meeting['meeting_id']}/registrations",
            json={"member": person, "companions": []},
        )
    ).json()
    return meeting, registration


async def test_following_the_link_only_asks(api: Api) -> None:
    meeting, registration = await booked(api)
    url = f"{ROOT}/cancel/registrations/{registration['registration_id']}"

    page = await api.client.get(url, params={"token": registration["cancel_token"]})

    assert page.status_code == 200
    assert "Abmeldung bestätigen" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert (await api.client.get(f"/meetings/{meeting['meeting_id']}")).json()["seats_taken"] == 1


async def test_the_pages_button_cancels(api: Api) -> None:
    meeting, registration = await booked(api)
    url = f"{ROOT}/cancel/registrations/{registration['registration_id']}"

    done = await api.client.post(url, data={"token": registration["cancel_token"]})
    again = await api.client.post(url, data={"token": registration["cancel_token"]})

    assert done.status_code == 200
    assert "Sie sind abgemeldet" in done.text
    assert "bereits abgemeldet" in again.text
    assert (await api.client.get(f"/meetings/{meeting['meeting_id']}")).json()["seats_taken"] == 0


async def test_a_forged_link_shows_an_error_and_cancels_nothing(api: Api) -> None:
    meeting, registration = await booked(api)
    url = f"{ROOT}/cancel/registrations/{registration['registration_id']}"

    page = await api.client.post(url, data={"token": "0.forged"})

    assert page.status_code == 403
    assert (await api.client.get(f"/meetings/{meeting['meeting_id']}")).json()["seats_taken"] == 1


async def test_a_member_leaves_a_network_through_the_page(api: Api) -> None:
    network = await api.network(language="nb")
    enrolment = (
        await api.client.post(
            f"/networks/{network['network_id']}/enrolments",
            json={
                "member": {
                    "name": "Ingrid",
                    "email": "ingrid@tynset.example",
                    "municipality": "Tynset",
                    "role": "Kultursjef",
                },
                "consent": True,
            },
        )
    ).json()
    url = f"{ROOT}/cancel/enrolments/{enrolment['enrolment_id']}"

    asked = await api.client.get(url, params={"token": enrolment["cancel_token"]})
    left = await api.client.post(url, data={"token": enrolment["cancel_token"]})

    # Leaving a network in its own words, not a booking's cancellation.
    assert "Vil du melde deg ut av nettverket?" in asked.text
    assert "Bekreft: meld meg ut" in asked.text
    assert "Du er meldt ut av nettverket" in left.text
    assert "Du er ikke lenger medlem." in left.text
