"""How the public pages word a meeting's time and a companion row's mistake."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ValidationError

from registration.api.schemas import RegistrationIn
from registration.web.public.forms import companion_rows, companions_from, field_errors
from registration.web.public.page import span

PERSON = {"name": "Mette", "email": "mette@roskilde.example", "municipality": "Roskilde",
          "role": "Kulturkonsulent"}  # fmt: skip


def test_a_meeting_within_a_day_ends_at_a_time_of_day() -> None:
    starts = datetime(2027, 3, 4, 9, 0, tzinfo=UTC)
    ends = datetime(2027, 3, 4, 14, 30, tzinfo=UTC)

    assert span(starts, ends, "Europe/Copenhagen", "en") == (
        "Thursday, March 4, 2027, 10:00\u202fAM–3:30\u202fPM (CET)"
    )
    assert span(starts, ends, "Europe/Copenhagen", "de") == (
        "Donnerstag, 4. März 2027, 10:00–15:30 (CET)"
    )


def test_a_meeting_over_two_days_names_both_days() -> None:
    starts = datetime(2027, 3, 4, 9, 0, tzinfo=UTC)
    ends = datetime(2027, 3, 5, 14, 0, tzinfo=UTC)

    worded = span(starts, ends, "Europe/Copenhagen", "da")

    assert "torsdag den 4. marts 2027" in worded and "fredag den 5. marts 2027" in worded


def test_a_companions_mistake_is_named_by_the_row_it_was_typed_in() -> None:
    form = {"companion_1_name": "", "companion_2_role": "Planner", "companion_3_name": "Ole"}
    try:
        RegistrationIn.model_validate(
            {"member": {**PERSON, "language": "en"}, "companions": companions_from(form, 3)}
        )
    except ValidationError as error:
        errors = field_errors(error, "en", companion_rows=companion_rows(form, 3))
    else:
        raise AssertionError("a companion without a name was accepted")

    assert companion_rows(form, 3) == [2, 3]
    assert errors == {"companion_2_name": "Companion 2: Enter name."}
