"""The member dialogue in a real browser: a member answers a consultation on a phone with
JavaScript off (a mistake first), confirms the address through the link in the email (the page
the link opens confirms nothing until its button is pressed), and changes the answers through
the receipt's link; another votes for a topic; the organiser reads the results and moderates on
a tablet. Every page is checked with axe-core."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Browser, expect

from devstack.smtp import MailCatcher
from tests.builders import ORGANISER, ORGANISER_TOKEN, member, network_body
from tests.e2e.conftest import Services
from tests.web.conftest import PHONE, TABLET, Visit

CHOICE = "Hvilket område bør KS prioritere?"
SCALE = "Hvor godt ivaretar KS kommunenes interesser?"
TEXT = "Hvilke forventninger har dere til KS?"


def _api(services: Services, method: str, path: str, body: dict[str, Any]) -> Any:
    response = httpx.request(
        method, f"{services.url('registration')}{path}", json=body, headers=ORGANISER, timeout=10
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def _link(smtp: MailCatcher, email: str, pattern: str) -> str:
    """The first link in the person's email whose path matches `pattern`."""
    found = re.compile(rf"https?://[^\s]+{pattern}[^\s]*")
    mail = smtp.wait_for(lambda m: m.is_to(email) and found.search(m.text) is not None)[-1]
    link = found.search(mail.text)
    assert link is not None
    return link.group(0)


def _results(services: Services, consultation_id: str) -> Any:
    return httpx.get(
        f"{services.url('registration')}/consultations/{consultation_id}/results",
        headers=ORGANISER,
    ).json()


def test_a_member_answers_on_a_phone_confirms_from_the_email_and_changes_the_answers(
    services: Services, smtp: MailCatcher, browser: Browser, visit: Visit
) -> None:
    site = f"http://127.0.0.1:{services.ports['registration']}"
    network = _api(
        services, "POST", "/networks", network_body(title="Kultur for framtida", language="nb")
    )
    network_id = network["network_id"]
    _api(services, "PATCH", f"/networks/{network_id}", {"proposals": "open"})
    kari = member(name="Kari Fjell", municipality="Tynset", language="nb")
    ola = member(name="Ola Strand", municipality="Bodø", language="nb")
    for person in (kari, ola):
        _api(
            services,
            "POST",
            f"/networks/{network_id}/enrolments",
            {"member": person, "consent": True},
        )
    opens = datetime.now(UTC) - timedelta(minutes=1)
    consultation = _api(
        services,
        "POST",
        f"/networks/{network_id}/consultations",
        {
            "title": "Kultur for framtida: Medlemsdialog",
            "description": "KS vil ha innspill fra kommunene og fylkeskommunene.",
            "questions": [
                {
                    "text": CHOICE,
                    "kind": "choice",
                    "options": ["Kulturskolen", "Bibliotek"],
                    "required": True,
                },
                {"text": SCALE, "kind": "scale", "required": True},
                {"text": TEXT, "kind": "text"},
            ],
            "opens_at": opens.isoformat(),
            "closes_at": (opens + timedelta(days=14)).isoformat(),
            "audience": "members",
        },
    )
    consultation_id = consultation["consultation_id"]

    phone = browser.new_context(
        viewport=PHONE, java_script_enabled=False, extra_http_headers={"Accept-Language": "nb-NO"}
    )
    page = phone.new_page()
    page.goto(f"{site}/networks/{network_id}")
    page.click("a:has-text('Spørreundersøkelser')")
    visit.audit(page, "consultations")
    page.click("a:has-text('Medlemsdialog')")
    expect(page.locator("h1")).to_have_text("Kultur for framtida: Medlemsdialog")
    page.fill("#name", kari["name"])
    page.fill("#email", kari["email"])
    page.fill("#municipality", kari["municipality"])
    page.fill("#role", kari["role"])
    page.get_by_label("4", exact=True).check()
    page.get_by_label(TEXT).fill("Mer erfaringsdeling mellom små kommuner.")
    page.click("button:has-text('Send svar')")
    # The choice was left out: the summary links to its first option, what was typed is kept.
    summary_link = page.locator(".summary a").first
    expect(summary_link).to_have_text("Velg ett av alternativene.")
    expect(page.get_by_label(TEXT)).to_have_value("Mer erfaringsdeling mellom små kommuner.")
    expect(page.get_by_label("4", exact=True)).to_be_checked()
    visit.audit(page, "consultation-error")
    summary_link.click()
    page.get_by_label("Kulturskolen").check()
    page.click("button:has-text('Send svar')")
    expect(page.locator("h1")).to_have_text("Sjekk e-posten din")
    visit.audit(page, "check-your-email")
    assert _results(services, consultation_id)["pending"] == 1

    # The link in the email shows what it confirms; only the button confirms.
    page.goto(_link(smtp, kari["email"], "/confirm/"))
    expect(page.locator("h1")).to_have_text("Bekreft e-postadressen din")
    visit.audit(page, "confirm-ask")
    assert (
        _results(services, consultation_id)["responses"],
        _results(services, consultation_id)["pending"],
    ) == (0, 1)
    page.click("button:has-text('Bekreft adressen min')")
    expect(page.locator("h1")).to_have_text("Adressen din er bekreftet")
    visit.audit(page, "confirm-done")
    assert _results(services, consultation_id)["responses"] == 1

    # The receipt's link opens the answers to change them.
    page.goto(_link(smtp, kari["email"], f"/consultations/{consultation_id}/responses/"))
    expect(page.get_by_label("Kulturskolen")).to_be_checked()
    visit.audit(page, "amend")
    page.get_by_label("Bibliotek").check()
    page.click("button:has-text('Lagre endringene')")
    expect(page.locator("h1")).to_have_text("Svarene dine er endret")
    phone.close()

    # Kari, confirmed, proposes a topic; Ola votes for it from the list and is asked to confirm.
    _api(
        services,
        "POST",
        f"/networks/{network_id}/proposals",
        {
            "member": kari,
            "title": "Kulturskolen i kommuneplanen",
            "body": "Hvordan får vi kulturskolen inn i planarbeidet?",
        },
    )
    phone = browser.new_context(
        viewport=PHONE, java_script_enabled=False, extra_http_headers={"Accept-Language": "nb-NO"}
    )
    page = phone.new_page()
    page.goto(f"{site}/networks/{network_id}/proposals")
    expect(page.locator("h1")).to_have_text("Innspill til tema")
    page.fill("#name", ola["name"])
    page.fill("#email", ola["email"])
    page.fill("#municipality", ola["municipality"])
    page.fill("#role", ola["role"])
    visit.audit(page, "proposals")
    page.click("button:has-text('Stem på dette temaet')")
    expect(page.locator("h1")).to_have_text("Sjekk e-posten din")
    page.goto(_link(smtp, ola["email"], "/confirm/"))
    page.click("button:has-text('Bekreft adressen min')")
    page.goto(f"{site}/networks/{network_id}/proposals")
    expect(page.locator(".ranking .meta").first).to_contain_text("1 stemme")
    phone.close()

    tablet = browser.new_context(viewport=TABLET)
    console = tablet.new_page()
    console.goto(f"{site}/console/login?lang=en")
    console.fill("#token", ORGANISER_TOKEN)
    console.click("button[type=submit]")
    console.goto(f"{site}/console/networks/{network_id}")
    console.click("a:has-text('Consultations')")
    visit.audit(console, "console-consultations")
    console.click("summary:has-text('New consultation')")
    console.fill("#title", "Uten spørsmål")
    console.click("form[action$='/consultations'] button[type=submit]")
    expect(console.locator(".summary a[href='#q1_text']")).to_be_visible()
    expect(console.locator("#title")).to_have_value("Uten spørsmål")
    visit.audit(console, "console-consultation-errors")
    console.click("a:has-text('Kultur for framtida')")
    console.click("a:has-text('Consultations')")
    console.click("a:has-text('Medlemsdialog')")
    expect(console.locator("table").first).to_contain_text("Bibliotek")
    row = console.locator("tr", has_text="Bibliotek")
    expect(row.locator("td").first).to_have_text("1")
    visit.audit(console, "console-results")
    console.goto(f"{site}/console/networks/{network_id}/proposals")
    expect(console.locator("tr", has_text="Kulturskolen i kommuneplanen")).to_contain_text(
        "Published"
    )
    visit.audit(console, "console-proposals")
    tablet.close()
    assert not visit.findings, visit.findings
