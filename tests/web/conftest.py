"""A real headless Chromium (Debian's, driven by Playwright) against the three services running
as processes; every test saves screenshots under artifacts/screenshots/ and checks each page it
visits with axe-core."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser import chromium
from tests.e2e.conftest import services  # noqa: F401  (the three services as processes)

AXE = (Path(__file__).parent.parent / "vendor" / "axe.min.js").read_text()
SCREENSHOTS = Path(__file__).parent.parent.parent / "artifacts" / "screenshots"
PHONE = {"width": 360, "height": 740}
TABLET = {"width": 810, "height": 1080}


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    """Per test, and only once the services are up: Playwright's sync driver runs an event
    loop of its own while open, and the async fixtures beneath must not see it running."""
    request.getfixturevalue("services")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    # Evaluated through the DevTools protocol, so the pages' CSP (no inline script) stays on.
    page.evaluate(AXE)
    violations: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => ({id: v.id, impact: v.impact, help: v.help,
                          nodes: v.nodes.map(n => n.target.join(' '))}))"""
    )
    return violations


@dataclass
class Visit:
    """Screenshots named after the test, and axe-core's findings on every page seen.

    The person's pages may run with JavaScript off (that is what is tested), so axe runs in a
    second, scripted tab on a copy of the page's HTML, at the same size, on the same origin."""

    folder: Path
    auditor: Page
    audited: list[str] = field(default_factory=list)
    findings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def snap(self, page: Page, name: str) -> Path:
        path = self.folder / f"{len(list(self.folder.glob('*.png'))):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def audit(self, page: Page, name: str) -> None:
        self.snap(page, name)
        origin = re.match(r"https?://[^/]+", page.url)
        assert origin is not None
        if page.viewport_size:
            self.auditor.set_viewport_size(page.viewport_size)
        self.auditor.goto(f"{origin.group(0)}/static/pages.css")
        self.auditor.set_content(page.content())
        self.audited.append(name)
        found = serious_violations(self.auditor)
        if found:
            self.findings[name] = found


@pytest.fixture
def visit(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Visit]:
    folder = SCREENSHOTS / re.sub(r"[^\w-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    context = browser.new_context()
    yield Visit(folder, context.new_page())
    context.close()
