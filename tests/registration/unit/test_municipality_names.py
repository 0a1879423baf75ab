"""The municipality register's shipped data, its migration, and resolving free-text names."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import registration
from registration.municipalities import (
    DATA_FILE,
    SEED_BEGIN,
    SEED_END,
    Ambiguous,
    Match,
    Municipality,
    Register,
    load_csv,
    loose_key,
    normalise,
    render_seed_sql,
    resolve,
)

MIGRATIONS = Path(registration.__file__).parent / "migrations"
ENTRIES = load_csv()
REGISTER = Register(ENTRIES)


def entry(country: str, code: str) -> Municipality:
    found = REGISTER.by_code(country, code)
    assert found is not None, (country, code)
    return found


def matched(name: str, country: str | None = None, code: str | None = None) -> Municipality:
    result = resolve(name, REGISTER, country=country, code=code)
    assert isinstance(result, Match), (name, result)
    return result.municipality


# --- the data --------------------------------------------------------------------------------


def test_counts_per_country_and_kind() -> None:
    counts = Counter((m.country, m.kind) for m in ENTRIES)
    assert counts == {
        ("DK", "municipality"): 98,
        ("DK", "region"): 5,
        ("NO", "municipality"): 357,
        ("NO", "county"): 15,
    }


def test_codes_are_unique_per_country_and_well_formed() -> None:
    keys = [(m.country, m.code) for m in ENTRIES]
    assert len(keys) == len(set(keys))
    for m in ENTRIES:
        assert m.code is not None and m.code.isdigit(), m
        if m.country == "NO":
            assert len(m.code) == (2 if m.kind == "county" else 4), m
            if m.kind == "municipality":  # a municipality's number starts with its county's
                assert entry("NO", m.code[:2]).kind == "county", m
        else:
            assert not m.code.startswith("0"), m
    assert len({m.municipality_id for m in ENTRIES}) == len(ENTRIES)


def test_the_source_is_named_at_the_top_of_the_file() -> None:
    lines = DATA_FILE.read_text(encoding="utf-8").splitlines()
    head = " ".join(" ".join(line.lstrip("#").split()) for line in lines if line.startswith("#"))
    assert "Danmarks Statistik" in head
    assert "Klass classification 131" in head and "Standard for kommuneinndeling" in head
    assert "classification 104" in head and "Standard for fylkesinndeling" in head
    assert "2024-01-01" in head


@pytest.mark.parametrize(
    ("country", "code", "name"),
    [
        ("DK", "175", "Rødovre"),
        ("DK", "165", "Albertslund"),
        ("DK", "190", "Furesø"),
        ("DK", "260", "Halsnæs"),
        ("DK", "163", "Herlev"),
        ("DK", "183", "Ishøj"),
        ("DK", "259", "Køge"),
        ("DK", "265", "Roskilde"),
        ("DK", "101", "København"),
        ("DK", "147", "Frederiksberg"),
        ("DK", "751", "Aarhus"),
        ("DK", "851", "Aalborg"),
        ("DK", "461", "Odense"),
        ("DK", "400", "Bornholm"),
        ("DK", "1081", "Region Nordjylland"),
        ("DK", "1082", "Region Midtjylland"),
        ("DK", "1083", "Region Syddanmark"),
        ("DK", "1084", "Region Hovedstaden"),
        ("DK", "1085", "Region Sjælland"),
        ("NO", "0301", "Oslo"),
        ("NO", "4601", "Bergen"),
        ("NO", "3201", "Bærum"),
        ("NO", "3207", "Nordre Follo"),
        ("NO", "4204", "Kristiansand"),
        ("NO", "1103", "Stavanger"),
        ("NO", "1508", "Ålesund"),
        ("NO", "1580", "Haram"),
        ("NO", "5501", "Tromsø"),
        ("NO", "03", "Oslo"),
        ("NO", "31", "Østfold"),
        ("NO", "32", "Akershus"),
        ("NO", "33", "Buskerud"),
        ("NO", "39", "Vestfold"),
        ("NO", "40", "Telemark"),
    ],
)
def test_sample_codes(country: str, code: str, name: str) -> None:
    assert entry(country, code).name == name


def test_names_with_parallel_sami_names_keep_the_norwegian_one_as_an_alias() -> None:
    trondheim = entry("NO", "5001")
    assert trondheim.name == "Trondheim - Tråante"
    assert "Trondheim" in trondheim.aliases
    assert entry("NO", "5612").name == "Guovdageaidnu - Kautokeino"
    assert entry("NO", "50").name == "Trøndelag - Trööndelage"


def test_counties_dissolved_in_2024_are_absent() -> None:
    names = {normalise(n) for m in ENTRIES for n in (m.name, *m.aliases)}
    for gone in ("Viken", "Vestfold og Telemark", "Troms og Finnmark"):
        assert normalise(gone) not in names
        assert resolve(gone, REGISTER) is None
    assert REGISTER.by_code("NO", "30") is None  # Viken's number
    assert REGISTER.by_code("NO", "3024") is None  # Bærum's number 2020-2023


def test_christianso_is_not_a_municipality() -> None:
    assert REGISTER.by_code("DK", "411") is None


# --- the migration ---------------------------------------------------------------------------


def migration() -> Path:
    found = sorted(MIGRATIONS.glob("[0-9][0-9][0-9]_municipalities.sql"))
    assert len(found) == 1, found
    return found[0]


def test_the_migration_holds_exactly_the_csv_rows() -> None:
    sql = migration().read_text(encoding="utf-8")
    start = sql.index(SEED_BEGIN)
    end = sql.index(SEED_END, start) + len(SEED_END) + 1
    assert sql[start:end] == render_seed_sql(ENTRIES), (
        "regenerate with `python -m registration.municipalities` (in a new migration once the "
        "old one has been applied)"
    )
    assert sql.count("INSERT INTO") == 1
    assert "CREATE TABLE municipalities" in sql[:start]


def test_the_migration_number_is_not_shared() -> None:
    number = migration().name[:3]
    assert [p.name for p in MIGRATIONS.glob(f"{number}_*.sql")] == [migration().name]


# --- normalising -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "key"),
    [
        ("Køge", "koege"),
        ("Koege", "koege"),
        ("KØGE KOMMUNE", "koege"),
        ("  køge   kommune ", "koege"),
        ("Århus", "aarhus"),
        ("Aarhus Kommune", "aarhus"),
        ("Bærum kommune", "baerum"),
        ("Baerum", "baerum"),
        ("Lyngby-Taarbæk", "lyngby taarbaek"),
        ("Lyngby Tårbæk Kommune", "lyngby taarbaek"),
        ("Region Hovedstaden", "hovedstaden"),
        ("Akershus fylkeskommune", "akershus"),
        ("Landkreis Harburg", "harburg"),
        ("Stadt München", "muenchen"),
        ("Muenchen", "muenchen"),
        ("Gießen", "giessen"),
        ("Kárášjohka - Karasjok", "karasjohka karasjok"),
        ("Porsanger - Porsáŋgu - Porsanki", "porsanger porsangu porsanki"),
        ("Herøy (Nordland)", "heroey nordland"),
        ("Kommune", "kommune"),  # never down to nothing
        ("Fjord", "fjord"),
        ("Stad", "stad"),
    ],
)
def test_normalise(variant: str, key: str) -> None:
    assert normalise(variant) == key


def test_the_loose_key_accepts_one_letter_spellings() -> None:
    assert loose_key(normalise("Kobenhavn")) == loose_key(normalise("København"))
    assert loose_key(normalise("Tarnby")) == loose_key(normalise("Tårnby"))
    assert loose_key(normalise("Hoje Tastrup")) == loose_key(normalise("Høje-Taastrup"))


# --- resolving -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "country", "code"),
    [
        ("Køge", "DK", "259"),
        ("Koege", "DK", "259"),
        ("KØGE KOMMUNE", "DK", "259"),
        ("Rødovre Kommune", "DK", "175"),
        ("rodovre", "DK", "175"),
        ("Copenhagen", "DK", "101"),
        ("Kjøbenhavn", "DK", "101"),
        ("Københavns Kommune", "DK", "101"),
        ("Kobenhavn", "DK", "101"),
        ("Aarhus", "DK", "751"),
        ("Århus", "DK", "751"),
        ("Bornholms Regionskommune", "DK", "400"),
        ("Nordfyns Kommune", "DK", "480"),
        ("Høje Taastrup", "DK", "169"),
        ("Region Hovedstaden", "DK", "1084"),
        ("Hovedstaden", "DK", "1084"),
        ("Capital Region of Denmark", "DK", "1084"),
        ("Bærum kommune", "NO", "3201"),
        ("Nordre Follo", "NO", "3207"),
        ("Nordre-Follo kommune", "NO", "3207"),
        ("Trondheim", "NO", "5001"),
        ("Trondheim kommune", "NO", "5001"),
        ("Kautokeino", "NO", "5612"),
        ("Herøy (Nordland)", "NO", "1818"),
        ("Herøy (Møre og Romsdal)", "NO", "1515"),
        ("Akershus", "NO", "32"),
        ("Troms fylke", "NO", "55"),
    ],
)
def test_resolves_names_and_aliases(name: str, country: str, code: str) -> None:
    found = matched(name)
    assert (found.country, found.code) == (country, code)


def test_a_match_says_how_it_was_found() -> None:
    copenhagen = resolve("Copenhagen", REGISTER)
    assert isinstance(copenhagen, Match) and copenhagen.matched_by == "alias"
    assert not copenhagen.loose
    kobenhavn = resolve("Kobenhavn", REGISTER)
    assert isinstance(kobenhavn, Match) and kobenhavn.loose


def test_an_equal_name_twice_in_a_country_is_ambiguous_not_unknown() -> None:
    result = resolve("Herøy", REGISTER)
    assert isinstance(result, Ambiguous)
    assert {m.code for m in result.candidates} == {"1515", "1818"}
    assert isinstance(resolve("Herøy", REGISTER, country="NO"), Ambiguous)
    assert isinstance(resolve("Våler kommune", REGISTER), Ambiguous)


def test_a_code_decides_an_ambiguous_name() -> None:
    assert matched("Herøy", country="NO", code="1818").name == "Herøy (Nordland)"


def test_unknown_names_are_none() -> None:
    assert resolve("Atlantis", REGISTER) is None
    assert resolve("", REGISTER) is None
    assert resolve("   ", REGISTER) is None
    assert resolve("Kommune", REGISTER) is None
    assert resolve("Køge", REGISTER, country="NO") is None


def test_a_municipality_wins_over_a_county_of_the_same_name() -> None:
    assert (matched("Oslo").code, matched("Oslo").kind) == ("0301", "municipality")
    assert matched("Oslo kommune").code == "0301"
    assert (matched("Oslo fylke").code, matched("Oslo fylke").kind) == ("03", "county")


def test_a_kind_word_narrows_but_does_not_veto() -> None:
    assert matched("Bærum fylke").code == "3201"


def test_codes_resolve_with_or_without_a_country() -> None:
    assert matched("175").name == "Rødovre"
    assert matched("0175", country="DK").name == "Rødovre"  # the CPR register's form
    assert matched("0301").name == "Oslo"
    assert matched("Whatever", country="NO", code="3201").name == "Bærum"
    assert resolve("9999", REGISTER) is None


def test_the_same_name_in_two_countries_needs_the_country() -> None:
    lund_se = Municipality("SE", "1281", "Lund", "municipality")
    register = Register([*ENTRIES, lund_se])
    both = resolve("Lund", register)
    assert isinstance(both, Ambiguous)
    assert {m.country for m in both.candidates} == {"NO", "SE"}
    no = resolve("Lund kommune", register, country="no")
    assert isinstance(no, Match) and no.municipality.code == "1112"
    se = resolve("Lund", register, country="SE")
    assert isinstance(se, Match) and se.municipality is lund_se


def test_a_german_city_and_its_district_are_told_apart_by_the_kind_word() -> None:
    city = Municipality("DE", "06611000", "Kassel", "municipality")
    district = Municipality("DE", "06633", "Landkreis Kassel", "district")
    register = Register([*ENTRIES, city, district])
    for name, expected in [
        ("Stadt Kassel", city),
        ("Kassel", city),
        ("Landkreis Kassel", district),
        ("Kreis Kassel", district),
    ]:
        result = resolve(name, register, country="DE")
        assert isinstance(result, Match) and result.municipality is expected, name


def test_entries_added_without_a_code_resolve_by_name() -> None:
    harburg = Municipality("DE", None, "Landkreis Harburg", "district", ("LK Harburg",))
    register = Register([*ENTRIES, harburg])
    assert resolve("Harburg", register) == Match(harburg, "name")
    assert resolve("LK Harburg", register) == Match(harburg, "alias")
