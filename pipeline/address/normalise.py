"""Address and postcode normalisation shared by the gazetteer and the records.

Both sides go through the same steps, so a record and the gazetteer entry it names compare equal
whatever the case, punctuation or common abbreviation: upper case, apostrophes dropped, `&` read
as AND, a number range kept as one token ("92 - 92A" -> 92-92A), every other non-alphanumeric
character a space, then token-level expansion (RD -> ROAD, BLVD -> BOULEVARD, 1ST -> FIRST,
APT -> FLAT) and the words that never tell two addresses apart dropped (AND, THE, NO).
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
    # the fuller list of Royal Mail / BS7666 thoroughfare and building abbreviations
    "BLVD": "BOULEVARD", "BVD": "BOULEVARD", "CLS": "CLOSE", "WKS": "WORKS", "ESP": "ESPLANADE",
    "PDE": "PARADE", "PARA": "PARADE", "HTS": "HEIGHTS", "CRT": "COURT", "CTS": "COURTS",
    "STN": "STATION", "FM": "FARM", "CTGS": "COTTAGES", "COTTS": "COTTAGES", "COTT": "COTTAGE",
    "CTG": "COTTAGE", "BLDGS": "BUILDINGS", "BLDG": "BUILDING", "HO": "HOUSE", "MT": "MOUNT",
    "WLK": "WALK", "CIRC": "CIRCUS", "CIR": "CIRCLE", "YD": "YARD", "GT": "GREAT", "LT": "LITTLE",
    "UPR": "UPPER", "LWR": "LOWER", "EST": "ESTATE", "IND": "INDUSTRIAL", "BRW": "BROW",
    "HL": "HILL", "MDW": "MEADOW", "MDWS": "MEADOWS", "ORCH": "ORCHARD", "PSGE": "PASSAGE",
    "PAS": "PASSAGE", "PCT": "PRECINCT", "QY": "QUAY", "RDGE": "RIDGE", "RI": "RISE", "ROW": "ROW",
    "SHR": "SHORE", "VW": "VIEW", "VLS": "VILLAS", "VIL": "VILLAS", "WHF": "WHARF", "CNR": "CORNER",
    "CSWY": "CAUSEWAY", "CRS": "CRESCENT", "DRV": "DRIVE", "GRV": "GROVE", "GDS": "GARDENS",
    "GRDNS": "GARDENS", "LA": "LANE", "MNR": "MANOR", "PRDE": "PARADE", "RDS": "ROADS",
    "STR": "STREET", "TER": "TERRACE", "TRCE": "TERRACE", "WD": "WOOD", "BSMT": "BASEMENT",
    "BASE": "BASEMENT", "GRD": "GROUND", "GND": "GROUND", "FLR": "FLOOR", "1ST": "FIRST",
    "2ND": "SECOND", "3RD": "THIRD", "4TH": "FOURTH", "5TH": "FIFTH", "AND": "", "THE": "",
}
#: counties and countries people add to an address (the ceremonial counties of England, the former
#: postal counties Royal Mail stopped using in 1996, the preserved counties of Wales, Scottish and
#: Northern Irish counties), dropped from a record when its number and street agree with a candidate
COUNTIES = (
    "Avon", "Bedfordshire", "Beds", "Berkshire", "Berks", "Buckinghamshire", "Bucks", "Cambridgeshire",
    "Cambs", "Cheshire", "Cleveland", "Cornwall", "Cumbria", "Cumberland", "Derbyshire", "Devon",
    "Dorset", "County Durham", "Co Durham", "East Riding of Yorkshire", "East Yorkshire", "East Sussex",
    "Essex", "Gloucestershire", "Glos", "Greater London", "Greater Manchester", "Hampshire", "Hants",
    "Herefordshire", "Hertfordshire", "Herts", "Humberside", "Isle of Wight", "Lancashire", "Lancs",
    "Leicestershire", "Leics", "Lincolnshire", "Lincs", "Merseyside", "Middlesex", "Middx", "Norfolk",
    "North Yorkshire", "N Yorks", "Northamptonshire", "Northants", "Northumberland", "Nottinghamshire",
    "Notts", "Oxfordshire", "Oxon", "Rutland", "Shropshire", "Salop", "Somerset", "South Yorkshire",
    "S Yorks", "Staffordshire", "Staffs", "Suffolk", "Surrey", "Tyne and Wear", "Warwickshire", "Warks",
    "West Midlands", "West Sussex", "West Yorkshire", "W Yorks", "Westmorland", "Wiltshire", "Wilts",
    "Worcestershire", "Worcs", "Clwyd", "Dyfed", "Gwent", "Gwynedd", "Mid Glamorgan", "Powys",
    "South Glamorgan", "West Glamorgan", "Aberdeenshire", "Angus", "Argyll", "Ayrshire", "Fife",
    "Lanarkshire", "Lothian", "Midlothian", "Perthshire", "Renfrewshire", "Stirlingshire",
    "County Antrim", "Co Antrim", "County Armagh", "Co Armagh", "County Down", "Co Down",
    "County Fermanagh", "County Londonderry", "County Tyrone", "Co Tyrone",
    "United Kingdom", "UK", "GB", "Great Britain", "England", "Wales", "Scotland", "Northern Ireland",
)
#: words that only say what kind of sub-unit follows; the number after them is what identifies it
UNIT_WORDS = frozenset({"FLAT", "UNIT", "ROOM", "SUITE"})
#: words that name a flat by its floor or position ("BASEMENT FLAT", "FLAT FIRST FLOOR"): a unit word
#: beside one of them is that flat's name, so the number after it is the building's
FLOOR_WORDS = frozenset({"BASEMENT", "LOWER", "GROUND", "FIRST", "SECOND", "THIRD", "FOURTH", "FIFTH",
                         "TOP", "UPPER", "GARDEN", "ATTIC", "LOFT", "REAR", "FRONT", "FLOOR", "FLOORS",
                         "MEZZANINE"})
_RANGE = re.compile(r"\b([0-9]+[A-Z]?) *- *([0-9]+[A-Z]?)\b")
_TOKEN = re.compile(r"[0-9]+[A-Z]?-[0-9]+[A-Z]?|[A-Z0-9]+")
_GLUED_UNIT = re.compile(r"^(FLAT|UNIT|APT|APARTMENT)([0-9]+[A-Z]?)$")
_GLUED_NUMBER = re.compile(r"^([0-9]+)([A-Z]{2,})$")
_OUTWARD = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)$")
_SECTOR = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])[A-Z]{0,2}$")


def tokens(text: str | None) -> list[str]:
    """Upper-case tokens with abbreviations expanded: "Flat 2, 5 Oak Rd." -> [FLAT, 2, 5, OAK, ROAD]."""
    if not text:
        return []
    text = text.upper().replace("'", "").replace("\u2019", "").replace("&", " AND ")
    out = []
    for t in _TOKEN.findall(_RANGE.sub(r"\1-\2", text)):
        if t in ABBREVIATIONS:  # before the glue rules: 1ST is FIRST, not 1 STREET
            if ABBREVIATIONS[t]:
                out.append(ABBREVIATIONS[t])
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
    for j, t in enumerate(toks):
        if has_digit(t):
            (units if after_unit else others).append(t)
            after_unit = False
        elif t in UNIT_WORDS:  # "BASEMENT FLAT 45", "GROUND FLOOR FLAT 45": 45 is the building's
            after_unit = not (j and toks[j - 1] in FLOOR_WORDS)
        else:
            words.append(t)
            after_unit = False
    return (tuple(sorted(units)), tuple(sorted(others))), words


def ascii_postcode_key(postcode: str | None) -> str:
    """Postcode upper case, ASCII letters and digits only: ' dm4 7qx.' -> 'DM47QX'. Not the postcode
    rule: it is only that rule's shortcut for printable ASCII (`pipeline.address.postcode.pc_key`
    also folds full-width and look-alike letters, which this drops). The records and the gazetteer
    reach the matcher already keyed by the SQL macro `pc_key`, which this leaves unchanged; it
    only tidies postcodes given by hand (tests, benchmarks)."""
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
