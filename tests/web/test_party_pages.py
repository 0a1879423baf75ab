"""A municipality applies to a pilot on a phone with JavaScript off (a mistake shown in the
error summary and beside its field), and the organiser accepts it in the console, after which
the network's page lists it."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, ORGANISER_TOKEN, PERSONAL_DATA, network_body
from tests.e2e.conftest import Services
from tests.web.conftest import PHONE, TABLET, Visit


def test_a_municipality_applies_on_a_phone_and_the_organiser_accepts_it(
    services: Services, smtp: MailCatcher, browser: Browser, visit: Visit
) -> None:
    site = f"http://127.0.0.1:{services.ports['registration']}"
    created = httpx.post(
        f"{services.url('registration')}/networks",
        json=network_body(
            title="Kulturskole 3.0",
            language="nb",
            membership="municipalities",
            admission="application",
        ),
        headers=ORGANISER,
    )
    assert created.status_code == 201, created.text
    network_id = created.json()["network_id"]
    PERSONAL_DATA.update(("Kari Kontakt", "kari@bodo.example"))

    phone = browser.new_context(
        viewport=PHONE, java_script_enabled=False, extra_http_headers={"Accept-Language": "nb-NO"}
    )
    page = phone.new_page()
    page.goto(f"{site}/networks/{network_id}")
    expect(page.locator("#apply")).to_have_text("Søk for kommunen din")
    page.fill("#party_municipality", "Bodø")
    page.fill("#party_name", "Kari Kontakt")
    page.fill("#party_email", "kari-at-bodo")
    page.fill("#party_role", "Kulturskolerektor")
    page.click("button:has-text('Søk')")
    expect(page.locator(".summary a[href='#party_email']")).to_be_visible()
    expect(page.locator("#party_email-error")).to_be_visible()
    expect(page.locator("#party_municipality")).to_have_value("Bodø")
    visit.audit(page, "application-error")
    page.fill("#party_email", "kari@bodo.example")
    page.fill("#party_statement", "Vi vil utvikle kulturskolen sammen med andre.")
    page.click("button:has-text('Søk')")
    expect(page.locator("h1")).to_have_text("Søknaden er mottatt")
    visit.audit(page, "application-received")
    phone.close()

    tablet = browser.new_context(viewport=TABLET)
    console = tablet.new_page()
    console.goto(f"{site}/console/login?lang=en")
    console.fill("#token", ORGANISER_TOKEN)
    console.click("button[type=submit]")
    console.goto(f"{site}/console/networks/{network_id}?lang=en")
    row = console.locator("tr", has_text="Bodø")
    expect(row).to_contain_text("Applied")
    visit.audit(console, "console-applications")
    row.locator("button:has-text('Accept')").click()
    expect(console.locator("tr", has_text="Bodø")).to_contain_text("Joined")
    tablet.close()

    public = httpx.get(f"{site}/networks/{network_id}", params={"lang": "nb"})
    assert "<li>Bodø</li>" in public.text
    assert not visit.findings, visit.findings
