"""The words of the self-service pages, per language (the member's, else the network's)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "da": {
        "registration": "Frameld mødet",
        "enrolment": "Frameld netværket",
        "confirm": "Bekræft framelding",
        "meeting": "Møde",
        "when": "Tidspunkt",
        "network": "Netværk",
        "seats": "Pladser",
        "name": "Navn",
        "ask": "Vil du framelde dig? Der sker intet, før du trykker på knappen.",
        "done": "Du er nu frameldt. Tak fordi du gav besked.",
        "already": "Denne tilmelding er allerede annulleret.",
        "invalid": "Linket er ugyldigt eller udløbet.",
        "invalid_heading": "Linket virker ikke",
    },
    "nb": {
        "registration": "Meld av møtet",
        "enrolment": "Meld deg ut av nettverket",
        "confirm": "Bekreft avmelding",
        "meeting": "Møte",
        "when": "Tidspunkt",
        "network": "Nettverk",
        "seats": "Plasser",
        "name": "Navn",
        "ask": "Vil du melde deg av? Ingenting skjer før du trykker på knappen.",
        "done": "Du er nå avmeldt. Takk for at du sa fra.",
        "already": "Denne påmeldingen er allerede avmeldt.",
        "invalid": "Lenken er ugyldig eller utløpt.",
        "invalid_heading": "Lenken virker ikke",
    },
    "de": {
        "registration": "Vom Treffen abmelden",
        "enrolment": "Aus dem Netzwerk austreten",
        "confirm": "Abmeldung bestätigen",
        "meeting": "Treffen",
        "when": "Termin",
        "network": "Netzwerk",
        "seats": "Plätze",
        "name": "Name",
        "ask": "Möchten Sie sich abmelden? Erst der Klick auf die Schaltfläche meldet Sie ab.",
        "done": "Sie sind abgemeldet. Danke für Ihre Nachricht.",
        "already": "Diese Anmeldung ist bereits storniert.",
        "invalid": "Der Link ist ungültig oder abgelaufen.",
        "invalid_heading": "Der Link funktioniert nicht",
    },
    "en": {
        "registration": "Cancel your registration",
        "enrolment": "Leave the network",
        "confirm": "Confirm cancellation",
        "meeting": "Meeting",
        "when": "When",
        "network": "Network",
        "seats": "Seats",
        "name": "Name",
        "ask": "Do you want to cancel? Nothing happens until you press the button.",
        "done": "You are cancelled. Thank you for letting us know.",
        "already": "This registration is already cancelled.",
        "invalid": "The link is invalid or has expired.",
        "invalid_heading": "The link does not work",
    },
}


def texts(language: str | None) -> dict[str, str]:
    return TEXTS.get(language or "en", TEXTS["en"])
