"""Demo data drawn from the source documents (shared/seeds): KL's three culture networks (the
green-transition one a year of series enrolment, with a joint meeting with KL's climate-policy
network), KS's member dialogue, the German regional meeting series, the Kulturmetropolen
steering group (its municipalities as parties, one seat each) and KS's Kulturskole 3.0 pilot
(municipalities apply; some accepted, one declined, one waiting).

Loaded through the public API, so every record also flows as events to notification and
reporting, exactly as real use would.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from devstack import demo_dialogue

KL_ORGANISER = "KL – Kommunernes Landsforening, kultur- og fritidsteamet"


def _at(days: int, hour: int, minutes: int = 0) -> str:
    base = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (base + timedelta(days=days, hours=hour - 1, minutes=minutes)).isoformat()


def _end_of_year(days: int) -> str:
    """The last hour of the year `days` from today falls in (Copenhagen's midnight, in UTC)."""
    year = (datetime.now(UTC) + timedelta(days=days)).year
    return datetime(year, 12, 31, 23, tzinfo=UTC).isoformat()


NETWORKS: list[dict[str, Any]] = [
    {
        "network": {
            "title": "Netværk for kulturchefer",
            "description": "En platform for videndeling, inspiration og læring på tværs af "
            "kommunerne for kulturchefer, der navigerer i et komplekst felt.",
            "purpose": "Drøftelser af kulturens værdi og effekt, og hvordan vi italesætter og "
            "dokumenterer dette; fokus på aktuelle kulturpolitiske dagsordener.",
            "target_group": "Kulturchefer eller ledere med direkte kontakt til det politiske "
            "niveau.",
            "organisers": [KL_ORGANISER],
            "language": "da",
            "max_companions": 0,
        },
        "meetings": [
            {
                "title": "Kulturens værdi og effekt – hvordan dokumenterer vi den?",
                "starts_at": _at(21, 10),
                "ends_at": _at(21, 15),
                "location": "KL, Weidekampsgade 10, København S",
                "capacity": 40,
                "speakers": [{"name": "Ekstern oplægsholder", "title": "udpeges af deltagerne"}],
            },
        ],
    },
    {
        "network": {
            "title": "Kommunernes netværk for kunst i det offentlige rum",
            "description": "Erfaringsdeling, viden, inspiration og værdisættelse for kommuner, "
            "der arbejder strategisk med kunst i det offentlige rum.",
            "purpose": "Et fortroligt rum til refleksion, der kan højne kvaliteten og "
            "smidigheden i kunstprojekter, strategier og planer.",
            "target_group": "Konsulenter, der arbejder med kunst i det offentlige rum.",
            "organisers": [KL_ORGANISER, "BKF – Billedkunstnernes Forbund"],
            "language": "da",
            "max_companions": 1,
        },
        "meetings": [
            {
                "title": "Kunst på gavle og i byudvikling – studietur",
                "starts_at": _at(35, 9),
                "ends_at": _at(35, 16),
                "location": "Aarhus, mødested oplyses",
                "capacity": 25,
            },
        ],
    },
    {
        "network": {
            "title": "Netværk om grøn omstilling i kulturlivet",
            "description": "Hvordan kan kommuner og kulturliv forene kræfterne i den grønne "
            "omstilling? Oplæg, cases og workshops – tre møder og en offentlig konference.",
            "purpose": "At ruste kommuner til at arbejde med den grønne omstilling i det lokale "
            "kulturliv, med fokus på klimavenlige kulturinstitutioner og grøn dannelse.",
            "target_group": "Repræsentanter fra kommunale forvaltninger inden for kulturområdet.",
            "organisers": [KL_ORGANISER],
            "language": "da",
            "max_companions": 1,
            "period": "Tre møder og en afsluttende offentlig konference",
            # One enrolment is the year: each members' meeting registers the member by itself,
            # and the year ends after the conference.
            "auto_register": True,
            "term_ends_at": _end_of_year(120),
        },
        "meetings": [
            {
                "title": "Møde 1: Klima, demokrati og samskabelse",
                "starts_at": _at(14, 10),
                "ends_at": _at(14, 15, 30),
                "location": "Kulturværftet, Helsingør",
                "capacity": 30,
                "speakers": [
                    {
                        "name": "Katherine Richardson",
                        "title": "klimaekspert, professor, Københavns Universitet",
                    },
                    {"name": "Anne Tortzen Bager", "title": "ph.d. og forfatter"},
                ],
            },
            {
                "title": "Møde 2: Åbne strategier og distribueret ledelse",
                "starts_at": _at(56, 10),
                "ends_at": _at(56, 15, 30),
                "location": "Aarhus Universitet",
                "capacity": 30,
                "speakers": [
                    {"name": "Jesper Rosenberg Hansen", "title": "professor, Aarhus Universitet"}
                ],
            },
            {
                "title": "Møde 3: Verdensmål i folkebibliotekerne",
                "starts_at": _at(84, 10),
                "ends_at": _at(84, 15, 30),
                "online_url": "https://meet.example.org/groen-omstilling-3",
                "capacity": 60,
                "speakers": [
                    {"name": "Thomas Sture Rasmussen", "title": "verdensmålskoordinator, DB2030"},
                    {"name": "Jacob Teglgaard", "title": "Bæredygtigt Kulturliv NU"},
                ],
            },
            {
                "title": "Offentlig konference: grøn omstilling i kulturlivet",
                "starts_at": _at(120, 9),
                "ends_at": _at(120, 16),
                "location": "København",
                "capacity": 200,
                "open_to_public": True,
            },
        ],
    },
    {
        "network": {
            "title": "Kultur for framtida: medlemsdialog",
            "description": "KS vil ha innspill fra kommunene og fylkeskommunene om hvilke "
            "forventninger medlemmene har til KS på kulturområdet.",
            "purpose": "Identifisere medlemmenes forventninger til KS på kulturområdet og øke "
            "kommunenes oppmerksomhet på kultur.",
            "target_group": "Kommuner og fylkeskommuner: styrer, utvalg og kulturledere.",
            "organisers": ["KS – Kommunesektorens organisasjon"],
            "language": "nb",
            "max_companions": 1,
        },
        "meetings": [
            {
                "title": "Dialogmøte: kulturskolen som utviklingsaktør",
                "starts_at": _at(28, 12),
                "ends_at": _at(28, 15),
                "online_url": "https://meet.example.org/ks-kultur-for-framtida",
                "capacity": 100,
                "timezone": "Europe/Oslo",
            },
        ],
    },
    {
        "network": {
            "title": "Austausch kommunaler Kulturverwaltungen",
            "description": "Regionale Veranstaltungsreihe für Kulturverwaltungen von Städten, "
            "Gemeinden und Kreisen zur Unterstützung des bürgerschaftlichen Kulturengagements.",
            "target_group": "Vertreter:innen kommunaler Kulturverwaltungen und Kreisverwaltungen.",
            "organisers": ["Regionales Kulturbüro"],
            "language": "de",
            "max_companions": 1,
            "contact": {
                "name": "Anne Melzig",
                "title": "Wissenschaftliche Referentin für bürgerschaftliches Engagement",
                "phone": "0251 591 5081",
            },
        },
        "meetings": [
            {
                "title": "Künstliche Intelligenz in kommunalen Kulturverwaltungen – Praxisrunde",
                "starts_at": _at(42, 10),
                "ends_at": _at(42, 13),
                "location": "Münster",
                "capacity": 20,
                "timezone": "Europe/Berlin",
            },
            {
                "title": "Kreisverwaltungen und bürgerschaftliches Kulturengagement",
                "starts_at": _at(70, 10),
                "ends_at": _at(70, 13),
                "location": "Münster",
                "capacity": 20,
                "timezone": "Europe/Berlin",
            },
        ],
    },
    {
        "network": {
            "title": "KulturMetropolen – politisk styregruppe",
            "description": "Kulturaftalen KulturMetropolen 2021-2024 mellem Albertslund, Furesø, "
            "Halsnæs, Herlev, Ishøj, Køge, Roskilde og Rødovre kommuner.",
            "purpose": "Status på kulturaftalen og indsatsområderne Ungeindsatsen, "
            "Musikindsatsen samt Kultur- og sundhedsindsatsen.",
            "target_group": "Formænd for kultur- og fritidsudvalgene i de tilsluttede kommuner.",
            "organisers": ["KulturMetropolen"],
            "language": "da",
            "max_companions": 0,
            # The nine municipalities that signed the agreement are its members (seeds/003
            # names eight of them); each has one seat in the steering group.
            "membership": "municipalities",
            "admission": "open",
            "contact": {"name": "KulturMetropolen", "email": "kulturmetropolen@roedovre.example"},
        },
        "parties": [
            (municipality, f"Formand for kultur- og fritidsudvalget, {municipality} Kommune")
            for municipality in (
                "Albertslund",
                "Furesø",
                "Halsnæs",
                "Herlev",
                "Ishøj",
                "Køge",
                "Roskilde",
                "Rødovre",
            )
        ],
        # A second politician from one municipality waits: the meeting seats one from each.
        "deputies": [("Rødovre", "Næstformand for kultur- og fritidsudvalget")],
        "meetings": [
            {
                "title": "Møde i den politiske styregruppe",
                "starts_at": _at(10, 14),
                "ends_at": _at(10, 16),
                "location": "Rødovre Rådhus",
                "capacity": 12,
                "seats_per_municipality": 1,
            },
        ],
    },
    {
        "network": {
            "title": "Kulturskole 3.0 – Kulturskolen som utviklingsaktør i fremtidens kommune",
            "description": "KS og Norsk kulturskoleråd inviterer landets kommuner til å delta i "
            "et pilotprosjekt om kulturskolen som utviklingsaktør i fremtidens kommune.",
            "purpose": "Utvikle kulturskolen som en ressurs i kommunens helhetlige tjeneste- og "
            "samfunnsutvikling.",
            "target_group": "Kommuner som vil utvikle kulturskolen sin sammen med andre.",
            "organisers": ["KS – Kommunesektorens organisasjon", "Norsk kulturskoleråd"],
            "language": "nb",
            "max_companions": 1,
            "membership": "municipalities",
            "admission": "application",
            "applications_close_at": _at(30, 16),
            "contact": {"name": "KS Kultur", "email": "kulturskole3@ks.example"},
        },
        "meetings": [
            {
                "title": "Oppstartssamling for pilotkommunene",
                "starts_at": _at(45, 10),
                "ends_at": _at(45, 15),
                "location": "KS-huset, Haakon VIIs gate 9, Oslo",
                "capacity": 40,
                "timezone": "Europe/Oslo",
            },
        ],
        # Applications, and how KS decided them (None: still waiting).
        "parties": [
            ("Bodø", "Kulturskolerektor", "accept"),
            ("Tynset", "Kultursjef", "accept"),
            ("Alta", "Kulturskolerektor", "accept"),
            ("Stavanger", "Virksomhetsleder kulturskolen", None),
            ("Kristiansand", "Kulturskolerektor", "decline"),
        ],
    },
    {
        "network": {
            "title": "Netværk for kommunal klimapolitik",
            "description": "KL's netværk for kommunernes klimafolk: klimaplaner, "
            "borgerinddragelse og den grønne omstilling på tværs af forvaltningerne.",
            "purpose": "Erfaringsudveksling om kommunale klimaplaner og deres gennemførelse.",
            "target_group": "Klimakoordinatorer og ledere med ansvar for kommunens klimaplan.",
            "organisers": [KL_ORGANISER],
            "language": "da",
            "max_companions": 0,
        },
        "meetings": [],
    },
]
# Held by the green-transition network together with the climate-policy network (the last
# above): members of either may register, and it counts for both.
JOINT_MEETING: dict[str, Any] = {
    "title": "Fællesmøde: kulturlivet i kommunens klimaplan",
    "description": "Grøn omstilling i kulturlivet og kommunal klimapolitik mødes: hvordan "
    "kulturinstitutionerne får en plads i kommunens klimaplan.",
    "starts_at": _at(70, 10),
    "ends_at": _at(70, 15),
    "location": "KL, Weidekampsgade 10, København S",
    "capacity": 60,
}
DECLINED_BECAUSE = (
    "Piloten har plass til et begrenset antall kommuner, og vi prioriterer i denne runden "
    "kommuner uten et etablert utviklingssamarbeid. Takk for en god søknad."
)

# The German series' meetings that took place (seeds/004): title, start, registered, came.
HISTORIC_GERMAN_MEETINGS = [
    ("Personal und Aufgabenverständnis", "2024-05-17T08:00:00Z", 6, 5),
    ("Lokale Vernetzung und Netzwerke", "2024-11-20T09:00:00Z", 8, 6),
    ("Künstliche Intelligenz in kommunalen Kulturverwaltungen", "2025-03-06T09:00:00Z", 10, 9),
    ("Kreisverwaltungen und bürgerschaftliches Kulturengagement", "2025-09-08T08:00:00Z", 7, 4),
]
# What each of them was about (seeds/004), for the archive.
GERMAN_TOPICS = [
    "Das Selbstverständnis der Arbeit der Teilnehmenden: welche Aufgabenbereiche die kommunale "
    "Engagementförderung und -beratung abdeckt, wie die Zusammenarbeit mit Ehrenamtlichen "
    "aussieht und gestaltet werden kann, und welche Herausforderungen sich zuletzt aufgetan "
    "haben.",
    "Welchen Mehrwert lokale Netzwerke bieten, innerhalb der eigenen Verwaltung und darüber "
    "hinaus: Stadtgesellschaft, andere Engagementsparten, Freiwilligenagenturen und "
    "Unternehmen als Partner:innen, und wie man den Herausforderungen der Vernetzung begegnet.",
    "KI und ihre Anwendungsmöglichkeiten in der Arbeit von Kulturverwaltungen: Mehrwert und "
    "Chancen im Arbeitsalltag, Datensicherheit und Kompetenzentwicklung, konkrete Erfahrungen, "
    "Hürden und Probleme.",
    "Wie Kulturarbeit auf Kreisebene aussehen kann, welche Rollen Kreisverwaltungen übernehmen, "
    "wie sie Städte und Gemeinden entlasten und das bürgerschaftliche Engagement stärken, und "
    "wie aktive Kulturbüros auf Kreisebene entstehen.",
]
# Each meeting's agenda: minutes after the start, item, speakers.
GERMAN_AGENDAS = [
    [
        (0, "Begrüßung und Vorstellungsrunde", ["Anne Melzig"]),
        (30, "Aufgaben der kommunalen Engagementförderung", ["Anne Melzig"]),
        (90, "Zusammenarbeit mit Ehrenamtlichen: Erfahrungen aus den Kommunen", []),
        (150, "Herausforderungen und erprobte Lösungen", []),
    ],
    [
        (0, "Begrüßung", ["Anne Melzig"]),
        (20, "Impuls: Lokale Netzwerke und ihr Mehrwert", ["Jonas Weber"]),
        (75, "Austausch: Welche Netzwerke nutzen wir, wie sind sie entstanden?", []),
        (150, "Herausforderungen der Vernetzung", []),
    ],
    [
        (0, "Begrüßung", ["Anne Melzig"]),
        (15, "Input: Mehrwert von KI in der Kulturverwaltung", ["Dr. Miriam Schulte"]),
        (75, "Datensicherheit und Kompetenzentwicklung", ["Dr. Miriam Schulte", "Anne Melzig"]),
        (135, "Erfahrungen, Hürden und Probleme aus der Praxis", []),
    ],
    [
        (0, "Begrüßung", ["Anne Melzig"]),
        (20, "Kulturarbeit auf Kreisebene: Rollen und Aufgaben", ["Jonas Weber"]),
        (90, "Wie entsteht ein aktives Kulturbüro im Kreis?", []),
        (150, "Ausblick auf die Reihe", ["Anne Melzig"]),
    ],
]
# The one public document of the archive: the slides of the meeting on AI (index 2).
GERMAN_DOCUMENT = (2, "Folien: KI in kommunalen Kulturverwaltungen", "ki-kulturverwaltung.pdf")
GERMAN_MUNICIPALITIES = [
    "Münster",
    "Kreis Steinfurt",
    "Kreis Borken",
    "Bielefeld",
    "Kreis Coesfeld",
    "Hamm",
    "Kreis Warendorf",
    "Gütersloh",
]

MEMBERS = [
    ("Mette Kulturchef", "mette.kulturchef@roskilde.example", "Roskilde", "Kulturchef", "da"),
    ("Lars Konsulent", "lars.konsulent@herlev.example", "Herlev", "Kulturkonsulent", "da"),
    ("Ingrid Nordmann", "ingrid.nordmann@tynset.example", "Tynset", "Kultursjef", "nb"),
    (
        "Jonas Weber",
        "jonas.weber@kreis-steinfurt.example",
        "Kreis Steinfurt",
        "Kulturreferent",
        "de",
    ),
    ("Sara Green", "sara.green@koege.example", "Køge", "Klimakoordinator", "en"),
]


def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.is_error:
        raise RuntimeError(f"demo data refused: {response.status_code} {response.text}")
    body: dict[str, Any] = response.json()
    return body


# Each demo network belongs to the body that runs it (by its first organiser).
ORGANISATIONS = {
    KL_ORGANISER: "KL",
    "KS – Kommunesektorens organisasjon": "KS",
    "Regionales Kulturbüro": "Regionales Kulturbüro",
    "KulturMetropolen": "KulturMetropolen",
}


def load(base_url: str, organiser_token: str, keys_file: Path) -> int:
    """Create the demo organisations, networks, meetings and a few members, unless networks
    already exist. Each organisation's organiser API key is written to `keys_file` (it is shown
    once by the API), so `make run` can print it again."""
    headers = {"Authorization": f"Bearer {organiser_token}"}
    with httpx.Client(base_url=f"{base_url}/api/v1", headers=headers, timeout=10) as client:
        if client.get("/networks", params={"limit": 1}).json()["items"]:
            return 0
        organisations: dict[str, str] = {}
        keys: dict[str, str] = {}
        for name in ORGANISATIONS.values():
            organisation = _ok(client.post("/organisations", json={"name": name}))
            organisations[name] = organisation["organisation_id"]
            issued = _ok(
                client.post(
                    f"/organisations/{organisation['organisation_id']}/api-keys",
                    json={"name": "demo organiser"},
                )
            )
            keys[name] = issued["key"]
        keys_file.write_text(json.dumps(keys, ensure_ascii=False, indent=2))
        network_ids = []
        for entry in NETWORKS:
            owner = ORGANISATIONS[entry["network"]["organisers"][0]]
            body = {**entry["network"], "organisation_id": organisations[owner]}
            network = _ok(client.post("/networks", json=body))
            network_ids.append(network["network_id"])
            for meeting in entry["meetings"]:
                _ok(client.post(f"/networks/{network['network_id']}/meetings", json=meeting))
        for entry, network_id in zip(NETWORKS, network_ids, strict=True):
            _add_parties(client, network_id, entry)
        green, climate = network_ids[2], network_ids[-1]
        _ok(
            client.post(
                f"/networks/{green}/meetings", json={**JOINT_MEETING, "co_hosts": [climate]}
            )
        )
        # Enrolling in the green-transition year registers each member for its meetings.
        for name, email, municipality, role, language in MEMBERS:
            member = {
                "name": name,
                "email": email,
                "municipality": municipality,
                "role": role,
                "language": language,
            }
            _ok(
                client.post(
                    f"/networks/{green}/enrolments", json={"member": member, "consent": True}
                )
            )
        _record_history(client, network_ids[4])
        _record_steering_group_history(client, network_ids[5], NETWORKS[5])
        demo_dialogue.load(client, MEMBERS)
        return len(network_ids)


def _record_history(client: httpx.Client, network_id: str) -> None:
    """The series' meetings that took place, recorded as held: each registration at its own
    date in the weeks before, attendance on the day, and nobody emailed about any of it; each
    with its topic and agenda, and the slides of one, for the network's archive."""
    for number, (title, held_at, registered, came) in enumerate(HISTORIC_GERMAN_MEETINGS):
        starts = datetime.fromisoformat(held_at)
        people = []
        for i in range(registered):
            people.append(
                {
                    "member": {
                        "name": f"Teilnehmer:in {number}-{i}",
                        "email": f"teilnahme-{number}-{i}@kultur.example",
                        "municipality": GERMAN_MUNICIPALITIES[
                            (i + number) % len(GERMAN_MUNICIPALITIES)
                        ],
                        "role": "Kulturverwaltung",
                        "language": "de",
                    },
                    "registered_at": (starts - timedelta(days=28 - 3 * i)).isoformat(),
                    "attended": i < came,
                }
            )
        held = _ok(
            client.post(
                f"/networks/{network_id}/held-meetings",
                json={
                    "title": title,
                    "description": GERMAN_TOPICS[number],
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(hours=3)).isoformat(),
                    "location": "Münster",
                    "capacity": 20,
                    "timezone": "Europe/Berlin",
                    "agenda": [
                        {
                            "starts_at": (starts + timedelta(minutes=minutes)).isoformat(),
                            "title": item,
                            "speakers": speakers,
                        }
                        for minutes, item, speakers in GERMAN_AGENDAS[number]
                    ],
                    "registrations": people,
                },
            )
        )
        if number == GERMAN_DOCUMENT[0]:
            _, document_title, filename = GERMAN_DOCUMENT
            _ok(
                client.post(
                    f"/meetings/{held['meeting_id']}/documents",
                    data={"title": document_title, "visibility": "public"},
                    files={"file": (filename, _slides_pdf(document_title), "application/pdf")},
                )
            )


def _slides_pdf(title: str) -> bytes:
    """A one-page PDF with the title on it, its cross-references right (made here, so the demo
    needs no file of its own)."""
    text = title.encode("latin-1", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 20 Tf 60 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 842 595] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(pdf)


# The steering group's meetings before this one, and who did not come: the parties report and
# the dashboard then show coverage, and Halsnæs as a party that attended none.
STEERING_GROUP_HISTORY = [
    ("2023-11-09T13:00:00+00:00", ("Halsnæs",)),
    ("2024-05-30T12:00:00+00:00", ("Halsnæs", "Køge")),
]


def _record_steering_group_history(
    client: httpx.Client, network_id: str, entry: dict[str, Any]
) -> None:
    """Held steering-group meetings, each party's representative there or not."""
    language = entry["network"]["language"]
    for held_at, absent in STEERING_GROUP_HISTORY:
        starts = datetime.fromisoformat(held_at)
        registrations = [
            {
                "member": {**_contact(municipality, role, language), "municipality": municipality},
                "registered_at": (starts - timedelta(days=14)).isoformat(),
                "attended": True,
            }
            for municipality, role in entry["parties"]
            if municipality not in absent
        ]
        _ok(
            client.post(
                f"/networks/{network_id}/held-meetings",
                json={
                    "title": "Møde i den politiske styregruppe",
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(hours=2)).isoformat(),
                    "location": "Rødovre Rådhus",
                    "capacity": 12,
                    "timezone": "Europe/Copenhagen",
                    "registrations": registrations,
                },
            )
        )


def _slug(municipality: str) -> str:
    return municipality.lower().replace("ø", "oe").replace("æ", "ae").replace("å", "aa")


def _contact(municipality: str, role: str, language: str) -> dict[str, Any]:
    return {
        "name": f"Kontakt {municipality}",
        "email": f"kultur@{_slug(municipality)}.example",
        "role": role,
        "language": language,
    }


def _add_parties(client: httpx.Client, network_id: str, entry: dict[str, Any]) -> None:
    """The network's municipalities: each joins (or applies, and is decided as the demo says);
    in the steering group each party's contact is its member and takes its one seat, and a
    deputy from the same municipality waits for it."""
    language = entry["network"]["language"]
    meetings = client.get(f"/networks/{network_id}/meetings").json()["items"]
    for municipality, role, *decision in entry.get("parties", []):
        contact = _contact(municipality, role, language)
        party = _ok(
            client.post(
                f"/networks/{network_id}/parties",
                json={"municipality": municipality, "contact": contact},
            )
        )
        if decision == ["accept"]:
            _ok(client.post(f"/parties/{party['party_id']}/accept"))
        elif decision == ["decline"]:
            _ok(
                client.post(
                    f"/parties/{party['party_id']}/decline", json={"reason": DECLINED_BECAUSE}
                )
            )
        if party["status"] == "joined" and meetings:  # an open network: its representative
            member = {**contact, "municipality": municipality}
            _ok(
                client.post(
                    f"/networks/{network_id}/enrolments", json={"member": member, "consent": True}
                )
            )
            _ok(
                client.post(
                    f"/meetings/{meetings[0]['meeting_id']}/registrations",
                    json={"member": member, "companions": []},
                )
            )
    for municipality, role in entry.get("deputies", []):
        member = {
            **_contact(municipality, role, language),
            "name": f"Næstformand {municipality}",
            "email": f"naestformand@{_slug(municipality)}.example",
            "municipality": municipality,
        }
        _ok(
            client.post(
                f"/networks/{network_id}/enrolments", json={"member": member, "consent": True}
            )
        )
        _ok(
            client.post(
                f"/meetings/{meetings[0]['meeting_id']}/registrations",
                json={"member": member, "companions": []},
            )
        )
