"""Address and postcode normalisation shared by the gazetteer and the records.

Both sides go through the same steps, so a record and the gazetteer entry it names compare equal
whatever the case, punctuation or common abbreviation: upper case, apostrophes dropped, every
other non-alphanumeric character a space, then token-level expansion (RD -> ROAD, APT -> FLAT).
"""

from __future__ import annotations

import re

#: token -> expansion, applied to both records and gazetteer
ABBREVIATIONS = {
    "RD": "ROAD", "ST": "STREET", "AVE": "AVENUE", "AV": "AVENUE", "CL": "CLOSE", "LN": "LANE",
    "DR": "DRIVE", "CRES": "CRESCENT", "CRESC": "CRESCENT", "GDNS": "GARDENS", "GDN": "GARDENS",
    "TERR": "TERRACE", "TCE": "TERRACE", "PL": "PLACE", "SQ": "SQUARE", "CT": "COURT",
    "GRN": "GREEN", "GRO": "GROVE", "GR": "GROVE", "PK": "PARK", "HSE": "HOUSE", "WY": "WAY",
    "MWS": "MEWS", "APT": "FLAT", "APARTMENT": "FLAT", "FLT": "FLAT", "NO": "",
}
#: words that only say what kind of sub-unit follows; the number after them is what identifies it
UNIT_WORDS = frozenset({"FLAT", "UNIT", "ROOM", "SUITE"})
_SPLIT = re.compile(r"[^A-Z0-9]+")
_GLUED_UNIT = re.compile(r"^(FLAT|UNIT|APT|APARTMENT)([0-9]+[A-Z]?)$")
_GLUED_NUMBER = re.compile(r"^([0-9]+)([A-Z]{2,})$")
_OUTWARD = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)$")
_SECTOR = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])[A-Z]{0,2}$")


def tokens(text: str | None) -> list[str]:
    """Upper-case tokens with abbreviations expanded: "Flat 2, 5 Oak Rd." -> [FLAT, 2, 5, OAK, ROAD]."""
    if not text:
        return []
    raw = _SPLIT.split(text.upper().replace("'", "").replace("\u2019", ""))
    out = []
    for t in raw:
        if not t:
            continue
        glued = _GLUED_UNIT.match(t)
        if glued:  # "FLAT8" -> FLAT, 8
            out += [ABBREVIATIONS.get(glued.group(1), glued.group(1)), glued.group(2)]
            continue
        glued = _GLUED_NUMBER.match(t)
        if glued:  # "6GRAFTON" -> 6, GRAFTON (a house number is at most one letter: "5A")
            out += [glued.group(1), ABBREVIATIONS.get(glued.group(2), glued.group(2))]
            continue
        t = ABBREVIATIONS.get(t, t)
        if t:
            out.append(t)
    return out


def has_digit(token: str) -> bool:
    return any(c.isdigit() for c in token)


def split_numbers(toks: list[str]) -> tuple[tuple, list[str]]:
    """(numbers signature, the other tokens minus unit words).

    The signature keeps each number's role: ``(unit numbers, other numbers)``, a unit number being
    one that follows FLAT/UNIT/ROOM/SUITE, so "Flat 2, 4 Lime Walk" ((2,), (4,)) differs from
    "Flat 4, 2 Lime Walk" ((4,), (2,)) and from "4 Lime Walk, Flat 2" it does not.
    """
    units, others, words = [], [], []
    after_unit = False
    for t in toks:
        if has_digit(t):
            (units if after_unit else others).append(t)
            after_unit = False
        elif t in UNIT_WORDS:
            after_unit = True
        else:
            words.append(t)
            after_unit = False
    return (tuple(sorted(units)), tuple(sorted(others))), words


def pc_key(postcode: str | None) -> str:
    """Postcode upper case, letters and digits only: ' dm4 7qx.' -> 'DM47QX'. The records and the
    gazetteer reach the matcher already keyed by the SQL macro `pc_key` (`pipeline.address.postcode`),
    which this leaves unchanged; it only tidies postcodes given by hand (tests, benchmarks)."""
    return re.sub(r"[^0-9A-Z]+", "", (postcode or "").upper())


def postcode_blocks(postcode: str | None) -> tuple[str | None, str | None]:
    """(sector, district) readable from a postcode however damaged, for blocking only.

    'DM4 7QX' -> ('DM4 7', 'DM4'); 'DM4 7' -> ('DM4 7', 'DM4'); 'DM4' -> (None, 'DM4');
    'DM47Q' -> ('DM4 7', 'DM4'); '12345' -> (None, None).
    """
    pc = re.sub(r"\s+", " ", (postcode or "").upper()).strip()
    if " " in pc:
        outward, inward = pc.split(" ", 1)
        if _OUTWARD.match(outward):
            return (f"{outward} {inward[0]}" if inward[:1].isdigit() else None), outward
        return None, None
    if _OUTWARD.match(pc):
        return None, pc
    m = _SECTOR.match(pc)
    if m:
        return f"{m.group(1)} {m.group(2)}", m.group(1)
    return None, None
