"""Keyboard focus is seen on every stylesheet's pages: the ring a focused link, button or field
draws stands out at least 3:1 against what is behind it (WCAG 2.2, focus appearance), measured
in Chromium from the styles as computed, not as written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser import chromium

ROOT = Path(__file__).parent.parent.parent
WEB = ROOT / "services/registration/registration/web/static"
DASHBOARD = ROOT / "services/reporting/reporting/static/dashboard.css"
# What each kind of page loads, as its template links it.
SHEETS = {
    "public": [WEB / "pages.css"],
    "console": [WEB / "pages.css", WEB / "console.css"],
    "sign-in": [WEB / "print.css"],
    "dashboard": [DASHBOARD],
}
PAGE = """<!doctype html><html lang="en"><head><style>{css}</style></head><body{body}>
<header class="top"><a class="brand" href="#h">Tilmeld</a></header>
<main><p>Text with <a id="link" href="#t">a link</a>.</p>
<div class="field"><label for="name">Name</label><input id="name" type="text"></div>
<button id="button" type="button">Register</button></main></body></html>"""


def _rgb(colour: str) -> tuple[float, float, float]:
    numbers = [float(n) for n in re.findall(r"[\d.]+", colour)[:3]]
    return numbers[0], numbers[1], numbers[2]


def _luminance(colour: str) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_is_measured_as_wcag_does() -> None:
    assert round(contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)"), 1) == 21.0
    assert contrast("rgb(255, 191, 71)", "rgb(255, 255, 255)") < 3  # the old amber ring on white


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


def _focused_by_keyboard(page: Page, target: str) -> dict[str, str]:
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == target:
            break
    assert page.evaluate("document.activeElement.id") == target
    ring: dict[str, str] = page.evaluate(
        """() => {
          const el = document.activeElement, style = getComputedStyle(el);
          let behind = el.parentElement, bg = 'rgba(0, 0, 0, 0)';
          while (behind) {
            bg = getComputedStyle(behind).backgroundColor;
            if (bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') break;
            behind = behind.parentElement;
          }
          if (!behind) bg = 'rgb(255, 255, 255)';
          return {outline: style.outlineColor, style: style.outlineStyle,
                  width: style.outlineWidth, behind: bg};
        }"""
    )
    return ring


@pytest.mark.parametrize("kind", SHEETS)
@pytest.mark.parametrize("target", ["link", "name", "button"])
def test_a_focused_element_draws_a_ring_at_least_3_to_1_against_the_page(
    browser: Browser, kind: str, target: str
) -> None:
    css = "\n".join(sheet.read_text() for sheet in SHEETS[kind])
    page = browser.new_page()
    page.set_content(PAGE.format(css=css, body=' class="sheet"' if kind == "sign-in" else ""))

    ring = _focused_by_keyboard(page, target)

    assert ring["style"] == "solid" and float(ring["width"].removesuffix("px")) >= 2, ring
    assert contrast(ring["outline"], ring["behind"]) >= 3, ring
    page.close()


def test_a_focused_link_in_the_dark_header_has_a_yellow_halo_that_stands_out(
    browser: Browser,
) -> None:
    page = browser.new_page()
    page.set_content(PAGE.format(css=(WEB / "pages.css").read_text(), body=""))

    page.keyboard.press("Tab")
    halo = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
    header = page.evaluate("getComputedStyle(document.querySelector('.top')).backgroundColor")

    assert page.evaluate("document.activeElement.className") == "brand"
    yellow = re.match(r"rgb\([^)]*\)", halo)
    assert yellow is not None, halo
    assert contrast(yellow.group(0), header) >= 3
    page.close()
