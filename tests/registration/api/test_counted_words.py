"""Words that count something follow each language's plural rule on the public pages."""

from __future__ import annotations

import pytest

from tests.registration.api.conftest import Api

COUNTED = {
    "da": ("1 ledig plads", "2 ledige pladser", "Du kan tage 1 ledsager med."),
    "nb": ("1 ledig plass", "2 ledige plasser", "Du kan ta med 1 ledsager."),
    "de": ("1 freier Platz", "2 freie Plätze", "Sie können 1 Begleitperson mitbringen."),
    "en": ("1 seat left", "2 seats left", "You can bring 1 companion."),
}


@pytest.mark.parametrize("language", COUNTED)
async def test_one_seat_left_is_said_in_the_singular_and_two_in_the_plural(
    api: Api, language: str
) -> None:
    one_seat, two_seats, one_companion = COUNTED[language]
    network = await api.network(max_companions=1)
    single = await api.meeting(network["network_id"], capacity=1, open_to_public=True)
    double = await api.meeting(network["network_id"], capacity=2, open_to_public=True)

    async def page(path: str) -> str:
        answer = await api.client.get(f"http://registration{path}?lang={language}")
        assert answer.status_code == 200
        return answer.text

    single_page = await page(f"/meetings/{single['meeting_id']}")
    double_page = await page(f"/meetings/{double['meeting_id']}")
    network_page = await page(f"/networks/{network['network_id']}")

    assert one_seat in single_page and two_seats not in single_page
    assert two_seats in double_page
    assert one_seat in network_page and two_seats in network_page
    assert one_companion in single_page
