"""What an extract may map and what a name may be: the standard record fields, the equality
fields, the date of birth (stored as its age band), the identifiers (names, phone numbers, email
addresses) that can never be mapped, and the rules for service, outcome and run names."""

from __future__ import annotations

import re

#: Standard record fields a service extract can map its headers to.
STANDARD_FIELDS = (
    "record_id",
    "uprn",
    "address_1",
    "address_2",
    "address_3",
    "address_4",
    "address_5",
    "postcode",
    "age_band",
    "sex",
    "ethnicity",
    "disability",
    "disability_type",
    "religion",
    "sexual_orientation",
    "gender_identity",
    "channel",
    "date",
)
#: The standard fields profiled against the census as equality characteristics.
EQUALITY_FIELDS = ("age_band", "sex", "disability", "disability_type", "ethnicity", "religion",
                   "sexual_orientation", "gender_identity")
#: A field an extract may map that is never stored: it is turned into `age_band` as it is read.
DATE_OF_BIRTH = "date_of_birth"
#: Every field a service may map: the standard fields and the date of birth.
MAPPABLE_FIELDS = (*STANDARD_FIELDS, DATE_OF_BIRTH)
#: Fields and headers that would hold a name, phone number or email address (compared without case,
#: spaces or punctuation). They identify a person directly and profiling needs none of them, so
#: they can never be mapped (UK GDPR Article 5(1)(c), data minimisation).
_WHO = (r"(?:client|customer|member|contact|applicant|resident|person|patient|user|serviceuser|"
        r"primary|secondary|main|home|work|daytime|evening|alt|alternative|alternate|preferred|"
        r"personal|parent|carer|guardian|nextofkin|nok|mobile|private|business)?")
IDENTIFIER_PATTERNS = (
    ("email address", rf"{_WHO}email(?:address|addr|add)?\d*"),
    ("phone number", rf"{_WHO}(?:tel|telephone|phone|mob|mobile|landline|fax|cell|cellphone)"
                     r"(?:no|num|number)?\d*|contact(?:no|num|number)\d*"),
    ("name", rf"{_WHO}(?:full|first|last|given|family|middle|maiden|sur|fore|christian)?"
             r"names?\d*|initials?|knownas|nickname|alias"),
)
_IDENTIFIERS = tuple((kind, re.compile(pattern)) for kind, pattern in IDENTIFIER_PATTERNS)
#: A service or outcome name: it names files and columns (lower-case letters, digits, underscores)
SLUG = re.compile(r"[a-z][a-z0-9_]*")
#: A run name: it names outputs/<run>/ and data/<run>/ (and an area made by `insight area`)
RUN_NAME = re.compile(r"[A-Za-z0-9_-]+")


def check_slug(v: str, what: str) -> str:
    """`v` when it is a lower-case slug (`SLUG`); a ValueError naming it as the `what` name otherwise."""
    if not SLUG.fullmatch(v):
        raise ValueError(f"{what} name {v!r} must be a lower-case slug (letters, digits, underscores)")
    return v


def identifier_kind(name: str) -> str | None:
    """'name', 'phone number' or 'email address' when a field or header would hold one (e.g.
    'Forename', 'Surname', 'Client Name', 'Tel No', 'Mobile', 'E-mail'); None otherwise ('Street
    Name', 'Ward name' and 'Building Name' are not a person's name)."""
    norm = re.sub(r"[^a-z0-9]+", "", str(name).lower())
    return next((kind for kind, rx in _IDENTIFIERS if rx.fullmatch(norm)), None)


def identifier_kinds(names: list[str]) -> str:
    """The kinds of identifier `names` would hold, in words: 'names or phone numbers'."""
    plural = {"name": "names", "phone number": "phone numbers", "email address": "email addresses"}
    return " or ".join(plural[k] for k in plural if k in {identifier_kind(n) for n in names})


def identifier_problem(where: str, names: list[str]) -> str:
    """The problem with mapping `names` (fields or headers) that would identify a person, and the fix."""
    return (f"{where} {names} would hold {identifier_kinds(names)}, which the pipeline never reads: they "
            "identify a person directly, and profiling needs only where a record is (address, "
            "postcode or UPRN) and its equality fields (data minimisation, UK GDPR Article 5(1)(c)). "
            "Fix: remove the mapping; the column can stay in the extract, where it is not read")
