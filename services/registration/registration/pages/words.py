# ruff: noqa: E501  (sentences read better unbroken than wrapped to the line limit)
"""The words of the public pages in each language, and how a page's language is chosen.

Words that count something come in two: `key` for one and `key_plural` for the rest, as
gettext's msgid and msgid_plural; `counted` picks by the language's plural rule.

Chosen in this order: `?lang=` (the switcher's links, remembered in a cookie), the cookie, the
browser's Accept-Language, the network's own language, English.
"""

from __future__ import annotations

from typing import Final

from tilmeld_shared.plurals import ngettext

LANGUAGES: Final = ("da", "nb", "de", "en")
LANGUAGE_NAMES: Final = {"da": "Dansk", "nb": "Norsk bokmål", "de": "Deutsch", "en": "English"}

WORDS: Final[dict[str, dict[str, str]]] = {
    "da": {
        "rate_limited": "Der er kommet for mange tilmeldinger herfra. Prøv igen om lidt.",
        "registration_cap": "Du har allerede det højeste antal aktive tilmeldinger.",
        "skip": "Gå til indholdet",
        "networks": "Netværk",
        "networks_intro": "Netværk, du kan melde dig ind i, og deres kommende møder.",
        "no_networks": "Der er ingen åbne netværk lige nu.",
        "upcoming": "Kommende møder",
        "no_meetings": "Der er ingen planlagte møder.",
        "purpose": "Formål",
        "target_group": "Målgruppe",
        "organisers": "Arrangører",
        "contact": "Kontakt",
        "enrol": "Meld dig ind i netværket",
        "enrol_button": "Meld mig ind",
        "consent": "Jeg accepterer, at arrangøren gemmer mine oplysninger til netværket.",
        "name": "Navn",
        "email": "E-mail",
        "municipality": "Kommune",
        "role": "Stilling",
        "organisation": "Organisation",
        "optional": "valgfri",
        "companions": "Ledsagere",
        "companions_hint": "Du kan tage {n} ledsager med. Lad felterne stå tomme, hvis du kommer alene.",
        "companions_hint_plural": "Du kan tage op til {n} ledsagere med. Lad felterne stå tomme, hvis du kommer alene.",
        "companion": "Ledsager {n}",
        "companion_role": "Ledsagers stilling",
        "register": "Tilmeld dig mødet",
        "register_button": "Tilmeld mig",
        "seats_left": "{n} ledig plads",
        "seats_left_plural": "{n} ledige pladser",
        "waitlist_only": "Mødet er fuldt. Tilmelder du dig, kommer du på venteliste.",
        "when": "Tidspunkt",
        "where": "Sted",
        "online": "Online",
        "online_later": "Linket sendes til tilmeldte deltagere.",
        "past": "Afholdte møder",
        "held": "Mødet er afholdt.",
        "speakers": "Oplægsholdere",
        "deadline": "Tilmeldingsfrist",
        "confirmed": "Du er tilmeldt",
        "confirmed_text": "Vi har sendt en bekræftelse til din e-mail.",
        "waitlisted": "Du er på ventelisten",
        "waitlisted_text": "Du er nummer {n} på ventelisten. Vi skriver til dig, hvis der bliver en plads.",
        "calendar": "Hent kalenderfil",
        "cancel": "Frameld",
        "enrolled": "Du er meldt ind",
        "enrolled_text": "Velkommen i {network}. Vi har sendt en bekræftelse til din e-mail.",
        "problem": "Der er et problem",
        "err_missing": "Udfyld {field}.",
        "err_email": "Skriv en gyldig e-mailadresse, fx navn@kommune.dk.",
        "err_email_smtputf8": "Vores mailserver kan ikke skrive til en adresse med bogstaver som æ, ø eller ü før @. Skriv en anden adresse.",
        "err_too_long": "{field} er for lang.",
        "err_consent": "Du skal acceptere for at melde dig ind.",
        "err_invalid": "Tjek {field}.",
        "cancelled_meeting": "Mødet er aflyst.",
        "closed": "Tilmeldingen er lukket.",
        "members_only": "Mødet er kun for netværkets medlemmer. Meld dig ind i netværket først.",
        "already_registered": "Du er allerede tilmeldt dette møde.",
        "already_enrolled": "Du er allerede medlem af netværket.",
        "network_closed": "Netværket optager ikke nye medlemmer.",
        "language": "Sprog",
        "not_found": "Siden findes ikke",
        "back": "Tilbage til netværket",
    },
    "nb": {
        "rate_limited": "Det har kommet for mange påmeldinger herfra. Prøv igjen om litt.",
        "registration_cap": "Du har allerede det høyeste antallet aktive påmeldinger.",
        "skip": "Gå til innholdet",
        "networks": "Nettverk",
        "networks_intro": "Nettverk du kan melde deg inn i, og de kommende møtene deres.",
        "no_networks": "Det er ingen åpne nettverk akkurat nå.",
        "upcoming": "Kommende møter",
        "no_meetings": "Det er ingen planlagte møter.",
        "purpose": "Formål",
        "target_group": "Målgruppe",
        "organisers": "Arrangører",
        "contact": "Kontakt",
        "enrol": "Meld deg inn i nettverket",
        "enrol_button": "Meld meg inn",
        "consent": "Jeg godtar at arrangøren lagrer opplysningene mine for nettverket.",
        "name": "Navn",
        "email": "E-post",
        "municipality": "Kommune",
        "role": "Stilling",
        "organisation": "Organisasjon",
        "optional": "valgfritt",
        "companions": "Ledsagere",
        "companions_hint": "Du kan ta med {n} ledsager. La feltene stå tomme hvis du kommer alene.",
        "companions_hint_plural": "Du kan ta med opptil {n} ledsagere. La feltene stå tomme hvis du kommer alene.",
        "companion": "Ledsager {n}",
        "companion_role": "Ledsagerens stilling",
        "register": "Meld deg på møtet",
        "register_button": "Meld meg på",
        "seats_left": "{n} ledig plass",
        "seats_left_plural": "{n} ledige plasser",
        "waitlist_only": "Møtet er fullt. Melder du deg på, kommer du på venteliste.",
        "when": "Tidspunkt",
        "where": "Sted",
        "online": "Nett",
        "online_later": "Lenken sendes til påmeldte deltakere.",
        "past": "Avholdte møter",
        "held": "Møtet er avholdt.",
        "speakers": "Innledere",
        "deadline": "Påmeldingsfrist",
        "confirmed": "Du er påmeldt",
        "confirmed_text": "Vi har sendt en bekreftelse til e-posten din.",
        "waitlisted": "Du står på venteliste",
        "waitlisted_text": "Du er nummer {n} på ventelisten. Vi skriver til deg hvis det blir ledig plass.",
        "calendar": "Last ned kalenderfil",
        "cancel": "Meld av",
        "enrolled": "Du er meldt inn",
        "enrolled_text": "Velkommen i {network}. Vi har sendt en bekreftelse til e-posten din.",
        "problem": "Det er et problem",
        "err_missing": "Fyll inn {field}.",
        "err_email": "Skriv en gyldig e-postadresse, for eksempel navn@kommune.no.",
        "err_email_smtputf8": "E-postserveren vår kan ikke skrive til en adresse med bokstaver som æ, ø eller ü før @. Skriv en annen adresse.",
        "err_too_long": "{field} er for lang.",
        "err_consent": "Du må godta for å melde deg inn.",
        "err_invalid": "Sjekk {field}.",
        "cancelled_meeting": "Møtet er avlyst.",
        "closed": "Påmeldingen er stengt.",
        "members_only": "Møtet er bare for nettverkets medlemmer. Meld deg inn i nettverket først.",
        "already_registered": "Du er allerede påmeldt dette møtet.",
        "already_enrolled": "Du er allerede medlem av nettverket.",
        "network_closed": "Nettverket tar ikke opp nye medlemmer.",
        "language": "Språk",
        "not_found": "Siden finnes ikke",
        "back": "Tilbake til nettverket",
    },
    "de": {
        "rate_limited": "Von hier kamen zu viele Anmeldungen. Bitte versuchen Sie es gleich noch einmal.",
        "registration_cap": "Sie haben bereits die höchste Zahl aktiver Anmeldungen.",
        "skip": "Zum Inhalt",
        "networks": "Netzwerke",
        "networks_intro": "Netzwerke, denen Sie beitreten können, und ihre nächsten Treffen.",
        "no_networks": "Zurzeit gibt es keine offenen Netzwerke.",
        "upcoming": "Nächste Treffen",
        "no_meetings": "Es sind keine Treffen geplant.",
        "purpose": "Ziel",
        "target_group": "Zielgruppe",
        "organisers": "Veranstalter",
        "contact": "Kontakt",
        "enrol": "Dem Netzwerk beitreten",
        "enrol_button": "Beitreten",
        "consent": "Ich bin einverstanden, dass der Veranstalter meine Angaben für das Netzwerk speichert.",
        "name": "Name",
        "email": "E-Mail",
        "municipality": "Kommune",
        "role": "Funktion",
        "organisation": "Organisation",
        "optional": "optional",
        "companions": "Begleitpersonen",
        "companions_hint": "Sie können {n} Begleitperson mitbringen. Lassen Sie die Felder leer, wenn Sie allein kommen.",
        "companions_hint_plural": "Sie können bis zu {n} Begleitpersonen mitbringen. Lassen Sie die Felder leer, wenn Sie allein kommen.",
        "companion": "Begleitperson {n}",
        "companion_role": "Funktion der Begleitperson",
        "register": "Zum Treffen anmelden",
        "register_button": "Anmelden",
        "seats_left": "{n} freier Platz",
        "seats_left_plural": "{n} freie Plätze",
        "waitlist_only": "Das Treffen ist ausgebucht. Wenn Sie sich anmelden, kommen Sie auf die Warteliste.",
        "when": "Zeit",
        "where": "Ort",
        "online": "Online",
        "online_later": "Den Link erhalten angemeldete Teilnehmende.",
        "past": "Vergangene Treffen",
        "held": "Das Treffen hat stattgefunden.",
        "speakers": "Referentinnen und Referenten",
        "deadline": "Anmeldeschluss",
        "confirmed": "Sie sind angemeldet",
        "confirmed_text": "Wir haben Ihnen eine Bestätigung per E-Mail geschickt.",
        "waitlisted": "Sie stehen auf der Warteliste",
        "waitlisted_text": "Sie sind Nummer {n} auf der Warteliste. Wir schreiben Ihnen, sobald ein Platz frei wird.",
        "calendar": "Kalenderdatei herunterladen",
        "cancel": "Abmelden",
        "enrolled": "Sie sind beigetreten",
        "enrolled_text": "Willkommen bei {network}. Wir haben Ihnen eine Bestätigung per E-Mail geschickt.",
        "problem": "Es gibt ein Problem",
        "err_missing": "Bitte geben Sie {field} an.",
        "err_email": "Geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@kommune.de.",
        "err_email_smtputf8": "Unser Mailserver kann an eine Adresse mit Buchstaben wie ä, ö oder ü vor dem @ nicht schreiben. Bitte geben Sie eine andere Adresse an.",
        "err_too_long": "{field} ist zu lang.",
        "err_consent": "Bitte stimmen Sie zu, um beizutreten.",
        "err_invalid": "Bitte prüfen Sie {field}.",
        "cancelled_meeting": "Das Treffen ist abgesagt.",
        "closed": "Die Anmeldung ist geschlossen.",
        "members_only": "Das Treffen ist nur für Mitglieder des Netzwerks. Treten Sie zuerst dem Netzwerk bei.",
        "already_registered": "Sie sind für dieses Treffen bereits angemeldet.",
        "already_enrolled": "Sie sind bereits Mitglied des Netzwerks.",
        "network_closed": "Das Netzwerk nimmt keine neuen Mitglieder auf.",
        "language": "Sprache",
        "not_found": "Die Seite gibt es nicht",
        "back": "Zurück zum Netzwerk",
    },
    "en": {
        "rate_limited": "Too many sign-ups have come from here. Please try again in a little while.",
        "registration_cap": "You already hold the most active registrations allowed.",
        "skip": "Skip to content",
        "networks": "Networks",
        "networks_intro": "Networks you can join, and their coming meetings.",
        "no_networks": "There are no open networks at the moment.",
        "upcoming": "Coming meetings",
        "no_meetings": "No meetings are planned.",
        "purpose": "Purpose",
        "target_group": "Who it is for",
        "organisers": "Organisers",
        "contact": "Contact",
        "enrol": "Join the network",
        "enrol_button": "Join",
        "consent": "I agree that the organiser keeps my details for the network.",
        "name": "Name",
        "email": "Email",
        "municipality": "Municipality",
        "role": "Job title",
        "organisation": "Organisation",
        "optional": "optional",
        "companions": "Companions",
        "companions_hint": "You can bring {n} companion. Leave the fields empty if you come alone.",
        "companions_hint_plural": "You can bring up to {n} companions. Leave the fields empty if you come alone.",
        "companion": "Companion {n}",
        "companion_role": "Companion's job title",
        "register": "Register for the meeting",
        "register_button": "Register",
        "seats_left": "{n} seat left",
        "seats_left_plural": "{n} seats left",
        "waitlist_only": "The meeting is full. If you register, you join the waitlist.",
        "when": "When",
        "where": "Where",
        "online": "Online",
        "online_later": "The link is sent to registered participants.",
        "past": "Past meetings",
        "held": "The meeting has taken place.",
        "speakers": "Speakers",
        "deadline": "Registration closes",
        "confirmed": "You are registered",
        "confirmed_text": "We have sent a confirmation to your email.",
        "waitlisted": "You are on the waitlist",
        "waitlisted_text": "You are number {n} on the waitlist. We will write to you if a seat comes free.",
        "calendar": "Download calendar file",
        "cancel": "Cancel",
        "enrolled": "You have joined",
        "enrolled_text": "Welcome to {network}. We have sent a confirmation to your email.",
        "problem": "There is a problem",
        "err_missing": "Enter {field}.",
        "err_email": "Enter a valid email address, like name@council.gov.uk.",
        "err_email_smtputf8": "Our mail server cannot write to an address with letters like ø or ü before the @. Enter another address.",
        "err_too_long": "{field} is too long.",
        "err_consent": "You need to agree to join.",
        "err_invalid": "Check {field}.",
        "cancelled_meeting": "The meeting is cancelled.",
        "closed": "Registration has closed.",
        "members_only": "The meeting is for the network's members only. Join the network first.",
        "already_registered": "You are already registered for this meeting.",
        "already_enrolled": "You are already a member of the network.",
        "network_closed": "The network is not taking new members.",
        "language": "Language",
        "not_found": "Page not found",
        "back": "Back to the network",
    },
}


def counted(language: str, key: str, n: int) -> str:
    """The words `key` for `n` things, in the form `language`'s plural rule gives `n`."""
    words = WORDS[language]
    return ngettext(language, words[key], words[f"{key}_plural"], n).format(n=n)


# Conflicts the service layer raises (by slug), as the person reads them.
CONFLICT_WORDS: Final = {
    "meeting-cancelled": "cancelled_meeting",
    "deadline-passed": "closed",
    "not-enrolled": "members_only",
    "already-registered": "already_registered",
    "already-enrolled": "already_enrolled",
    "network-closed": "network_closed",
    "rate-limited": "rate_limited",
    "registration-cap": "registration_cap",
}


def choose_language(
    *, asked: str | None, remembered: str | None, accept_language: str | None, fallback: str
) -> str:
    for candidate in (asked, remembered):
        if candidate in LANGUAGES:
            return candidate
    for part in sorted(_weighted(accept_language or ""), key=lambda item: -item[1]):
        primary = part[0].split("-")[0].lower()
        primary = "nb" if primary in {"no", "nn"} else primary  # Norwegian means Bokmål here
        if primary in LANGUAGES:
            return primary
    return fallback if fallback in LANGUAGES else "en"


def _weighted(header: str) -> list[tuple[str, float]]:
    weighted = []
    for item in header.split(","):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            weighted.append((tag, quality))
    return weighted
