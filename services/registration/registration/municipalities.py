"""The municipality register's shipped data and the resolver from free-text names to it.

Pure: no database, no I/O beyond reading the shipped CSV. A member's `municipality` stays free
text; `resolve` maps it to one register entry (`Match`), to several (`Ambiguous`: "Herøy" is two
Norwegian municipalities) or to none (`None`: unknown), so callers can keep and report unresolved
names instead of dropping them.

Names are compared by a key (`normalise`): case-folded, Danish/Norwegian/German letters spelled
out the way they are typed without them (æ → ae, ø → oe, å → aa, ä → ae, ö → oe, ü → ue, ß → ss),
other accents dropped, punctuation to spaces, and words that say what kind of body it is
("Kommune", "fylke", "Region", "Landkreis", ...) taken off the ends. The kind words are not lost:
`resolve` uses them to choose between bodies that share a name ("Oslo kommune" and "Oslo fylke";
a German "Stadt Kassel" and "Landkreis Kassel"). When nothing matches exactly, a looser key is
tried that also accepts the one-letter spellings ("Kobenhavn", "Tarnby", "Arhus").

The migration that creates and fills the `municipalities` table embeds rows generated from the
CSV by `render_seed_sql` (migrations are plain SQL files applied under an advisory lock, and an
applied file may not change, so the data is versioned with the schema); a test checks they agree.
Regenerate with `python -m registration.municipalities`.
"""

from __future__ import annotations

import csv
import re
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

Kind = Literal["municipality", "county", "region", "district"]
KINDS: tuple[Kind, ...] = ("municipality", "county", "region", "district")

DATA_FILE = Path(__file__).parent / "data" / "municipalities.csv"

# Shipped entries get ids derived from (country, code), so every database that runs the
# migration holds the same ids and other services may keep them.
ID_NAMESPACE = uuid.UUID("6b1d6f8e-3f7a-5c1e-9a51-1f4e2d9c7a30")

SEED_BEGIN = "-- BEGIN generated from data/municipalities.csv by registration.municipalities"
SEED_END = "-- END generated"


@dataclass(frozen=True, slots=True)
class Municipality:
    """One body in the register: a municipality, a county, a region or a (German) district."""

    country: str  # ISO 3166-1 alpha-2, upper case
    code: str | None  # the official number as text ("175", "0301"); None for some added ones
    name: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    municipality_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Match:
    municipality: Municipality
    matched_by: Literal["code", "name", "alias"]
    loose: bool = False  # found only by the looser key ("Kobenhavn" for "København")


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """The name fits more than one entry; a country, a code or a kind word would decide."""

    candidates: tuple[Municipality, ...]


# --- normalising -----------------------------------------------------------------------------

# Letters that are not an accent on a base letter: spelled out the way they are typed on a
# keyboard without them, so "Køge" and "Koege", "Århus" and "Aarhus", "Straße" and "Strasse" meet.
_SPELLED_OUT = str.maketrans(
    {
        "æ": "ae",
        "ø": "oe",
        "å": "aa",
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "œ": "oe",
        "đ": "d",  # Northern Sámi
        "ŋ": "n",
        "ŧ": "t",
        "ð": "d",
        "þ": "th",
        "ł": "l",
    }
)

# Words before or after a name that say what kind of body it is. Only whole words at either end
# are taken off, and never the last word left. Danish "herred" and similar historical words are
# not listed: no present-day body's name uses them.
_KIND_WORDS: dict[str, Kind] = {
    "kommune": "municipality",
    "kommunen": "municipality",
    "kommuna": "municipality",
    "kommun": "municipality",
    "regionskommune": "municipality",  # Bornholms Regionskommune
    "municipality": "municipality",
    "gemeinde": "municipality",
    "stadt": "municipality",
    "kreisfreie stadt": "municipality",
    "stadtkreis": "municipality",
    "fylke": "county",
    "fylket": "county",
    "fylkeskommune": "county",
    "fylkeskommunen": "county",
    "fylkeskommuna": "county",
    "county": "county",
    "county municipality": "county",
    "region": "region",
    "regionen": "region",
    "landkreis": "district",
    "kreis": "district",
    "bezirk": "district",
    "district": "district",
}
_KIND_PHRASES = sorted((tuple(w.split()) for w in _KIND_WORDS), key=len, reverse=True)


def _fold(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text).casefold().translate(_SPELLED_OUT)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]+", " ", text).split()


def _split_kind(name: str) -> tuple[list[str], Kind | None]:
    """The folded words of `name` without kind words at its ends, and the kind they named."""
    words = _fold(name)
    kind: Kind | None = None
    changed = True
    while changed and len(words) > 1:
        changed = False
        for phrase in _KIND_PHRASES:
            n = len(phrase)
            if len(words) <= n:
                continue
            if tuple(words[:n]) == phrase:
                words = words[n:]
            elif tuple(words[-n:]) == phrase:
                words = words[:-n]
            else:
                continue
            kind = kind or _KIND_WORDS[" ".join(phrase)]
            changed = True
            break
    return words, kind


def normalise(name: str) -> str:
    """The key names are compared by: "KØGE KOMMUNE", "Køge" and "Koege" all give "koege"."""
    return " ".join(_split_kind(name)[0])


def loose_key(key: str) -> str:
    """A looser key from `normalise`'s: one letter for æ/ø/å/ä/ö/ü, and no spaces.

    "Kobenhavn" and "København", "Tarnby" and "Tårnby", "Hoje Tastrup" and "Høje-Taastrup" meet.
    Used only when the exact key finds nothing.
    """
    key = key.replace(" ", "")
    for spelled, single in (("aa", "a"), ("ae", "a"), ("oe", "o"), ("ue", "u")):
        key = key.replace(spelled, single)
    return key


def normalise_code(country: str, code: str) -> str:
    """Danish kommunekoder are compared without the zero padding the CPR register uses."""
    code = code.strip()
    if country.upper() == "DK" and code.isdigit():
        return code.lstrip("0") or "0"
    return code


# --- the register ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Hit:
    municipality: Municipality
    matched_by: Literal["name", "alias"]


class Register:
    """The entries names are resolved against, indexed by key."""

    def __init__(self, entries: Iterable[Municipality]) -> None:
        self.entries = tuple(entries)
        self._exact: dict[str, list[_Hit]] = {}
        self._loose: dict[str, list[_Hit]] = {}
        self._codes: dict[tuple[str, str], Municipality] = {}
        self._ids = {m.municipality_id: m for m in self.entries if m.municipality_id is not None}
        for m in self.entries:
            if m.code is not None:
                self._codes[(m.country, normalise_code(m.country, m.code))] = m
            seen: set[str] = set()
            hits: list[tuple[str, Literal["name", "alias"]]] = [(m.name, "name")]
            hits += [(a, "alias") for a in m.aliases]
            for text, by in hits:
                key = normalise(text)
                if not key or key in seen:
                    continue
                seen.add(key)
                self._exact.setdefault(key, []).append(_Hit(m, by))
                self._loose.setdefault(loose_key(key), []).append(_Hit(m, by))

    def __iter__(self) -> Iterator[Municipality]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def by_id(self, municipality_id: uuid.UUID) -> Municipality | None:
        return self._ids.get(municipality_id)

    def by_code(self, country: str, code: str) -> Municipality | None:
        country = country.upper()
        return self._codes.get((country, normalise_code(country, code)))

    def hits(self, key: str, *, loose: bool) -> list[_Hit]:
        index = self._loose if loose else self._exact
        return index.get(loose_key(key) if loose else key, [])


def _shipped_id(country: str, code: str) -> uuid.UUID:
    return uuid.uuid5(ID_NAMESPACE, f"{country}:{code}")


def load_csv(path: Path = DATA_FILE) -> list[Municipality]:
    """The entries of a register CSV (`#` lines are comments), with their derived ids."""
    with path.open(encoding="utf-8", newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    entries = []
    for row in csv.DictReader(lines):
        kind = row["kind"]
        if kind not in KINDS:
            raise ValueError(f"{path.name}: unknown kind {kind!r} for {row['name']!r}")
        country, code = row["country"].upper(), row["code"].strip()
        aliases = tuple(a.strip() for a in (row.get("aliases") or "").split("|") if a.strip())
        entries.append(
            Municipality(
                country=country,
                code=code or None,
                name=row["name"].strip(),
                kind=cast(Kind, kind),
                aliases=aliases,
                municipality_id=_shipped_id(country, code) if code else None,
            )
        )
    return entries


def shipped_register() -> Register:
    return Register(load_csv())


# --- resolving -------------------------------------------------------------------------------

# A municipality is chosen over a county or region of the same name: "Oslo" is both, and a
# member's municipality is the municipality.
_LEVEL = {"municipality": 0, "district": 1, "county": 2, "region": 2}


def _decide(
    hits: list[_Hit], country: str | None, kind: Kind | None, *, loose: bool
) -> Match | Ambiguous | None:
    if country is not None:
        hits = [h for h in hits if h.municipality.country == country]
    if kind is not None:
        # A kind word narrows the choice; it does not veto the only answer ("Bærum fylke").
        hits = [h for h in hits if h.municipality.kind == kind] or hits
    unique: dict[Municipality, _Hit] = {}
    for h in hits:
        if h.municipality not in unique or h.matched_by == "name":
            unique[h.municipality] = h
    if not unique:
        return None
    chosen = list(unique.values())
    if len(chosen) > 1 and len({h.municipality.country for h in chosen}) == 1:
        lowest = min(_LEVEL[h.municipality.kind] for h in chosen)
        at_lowest = [h for h in chosen if _LEVEL[h.municipality.kind] == lowest]
        if len(at_lowest) == 1 and lowest == 0:
            chosen = at_lowest
    if len(chosen) == 1:
        return Match(chosen[0].municipality, chosen[0].matched_by, loose=loose)
    return Ambiguous(tuple(sorted((h.municipality for h in chosen), key=_sort_key)))


def _sort_key(m: Municipality) -> tuple[str, str, str]:
    return (m.country, m.code or "", m.name)


def resolve(
    name: str,
    register: Register,
    country: str | None = None,
    code: str | None = None,
) -> Match | Ambiguous | None:
    """The register entry `name` means: a `Match`, `Ambiguous` candidates, or None if unknown.

    `country` (ISO alpha-2) limits the search; `code` (the official number) decides outright
    when it is in the register for that country, and a name that is only digits is taken as a
    code. Without a country a code may fit several countries and is then ambiguous.
    """
    country = country.strip().upper() if country else None
    text = name.strip()
    if code is None and text.isdigit():
        code = text
    if code is not None and code.strip():
        countries = [country] if country else sorted({m.country for m in register})
        found = {m for c in countries if (m := register.by_code(c, code)) is not None}
        if len(found) == 1:
            return Match(found.pop(), "code")
        if len(found) > 1:
            return Ambiguous(tuple(sorted(found, key=_sort_key)))
        if text.isdigit():
            return None
    words, kind = _split_kind(text)
    if not words:
        return None
    keys = [" ".join(words)]
    if kind == "municipality" and len(words[-1]) > 2 and words[-1].endswith("s"):
        # Danish genitive before "Kommune": "Københavns Kommune", "Bornholms Regionskommune".
        keys.append(" ".join([*words[:-1], words[-1][:-1]]))
    for key in keys:
        decided = _decide(register.hits(key, loose=False), country, kind, loose=False)
        if decided is not None:
            return decided
    for key in keys:
        decided = _decide(register.hits(key, loose=True), country, kind, loose=True)
        if decided is not None:
            return decided
    return None


# --- the migration's rows --------------------------------------------------------------------


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_array(values: Iterable[str]) -> str:
    items = list(values)
    if not items:
        return "'{}'"
    return "ARRAY[" + ", ".join(_sql_text(v) for v in items) + "]"


def alias_keys(m: Municipality) -> list[str]:
    """The distinct keys of an entry's aliases that differ from its name's key."""
    own = normalise(m.name)
    keys: list[str] = []
    for a in m.aliases:
        k = normalise(a)
        if k and k != own and k not in keys:
            keys.append(k)
    return keys


def render_seed_sql(entries: Iterable[Municipality]) -> str:
    """The INSERT the municipalities migration embeds, between its BEGIN/END marker lines."""
    rows = []
    for m in entries:
        if m.municipality_id is None or m.code is None:
            raise ValueError(f"shipped entry {m.name!r} needs a code and an id")
        rows.append(
            "    ("
            + ", ".join(
                [
                    _sql_text(str(m.municipality_id)),
                    _sql_text(m.country),
                    _sql_text(m.code),
                    _sql_text(m.name),
                    _sql_text(normalise(m.name)),
                    _sql_text(m.kind),
                    _sql_array(m.aliases),
                    _sql_array(alias_keys(m)),
                ]
            )
            + ")"
        )
    return (
        f"{SEED_BEGIN}\n"
        "INSERT INTO municipalities\n"
        "    (municipality_id, country, code, name, name_key, kind, aliases, alias_keys)\n"
        "VALUES\n" + ",\n".join(rows) + ";\n"
        f"{SEED_END}\n"
    )


if __name__ == "__main__":
    print(render_seed_sql(load_csv()), end="")
