"""Shaping a consultation's answers: every option and scale step in order, nothing counted lost."""

from __future__ import annotations

from typing import Any

from reporting.dialogue_reports import question_results, response_rate


def _choice(**more: Any) -> dict[str, Any]:
    return {"question_id": "q", "text": "Hvad?", "kind": "choice", "options": ["A", "B"], **more}


def test_every_option_is_listed_in_its_order_and_a_renamed_one_follows() -> None:
    shaped = question_results(_choice(), {"B": 2, "Gammel A": 1, "Andet": 3})

    assert shaped["answers"] == [
        {"value": "A", "count": 0},
        {"value": "B", "count": 2},
        {"value": "Andet", "count": 3},  # not an option (any more): after them, most first
        {"value": "Gammel A", "count": 1},
    ]
    assert (shaped["answered"], "mean" in shaped) == (6, False)


def test_a_scale_lists_each_step_and_reads_its_numbers_however_written() -> None:
    scale = {"question_id": "q", "text": "Hvor?", "kind": "scale", "min": 1, "max": 4}

    shaped = question_results(scale, {2: 1, "2": 1, 4: 2})

    assert shaped["answers"] == [
        {"value": v, "count": n} for v, n in ((1, 0), (2, 2), (3, 0), (4, 2))
    ]
    assert (shaped["answered"], shaped["mean"]) == (4, 3.0)


def test_a_scale_without_bounds_lists_the_numbers_given_in_order() -> None:
    scale = {"question_id": "q", "text": "Hvor?", "kind": "scale", "min": None, "max": None}

    shaped = question_results(scale, {7: 1, 3: 2})

    assert [a["value"] for a in shaped["answers"]] == [3, 7]
    assert shaped["mean"] == 4.33


def test_the_response_rate_needs_an_audience() -> None:
    assert (response_rate(2, 3), response_rate(2, None), response_rate(0, 0)) == (
        0.6667,
        None,
        None,
    )
