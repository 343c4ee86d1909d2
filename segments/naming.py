"""Segment names in plain English from a curated vocabulary, the rules a name must pass, and
``short_label`` for fitting ``code name`` into a chart or legend.

**Vocabulary.** Every classification variable has a short descriptor of its high side and of its
low side and a domain. The descriptors of the built-in variables (the 60 OAC 2021 variables and
the 23 core ones) are in ``spec/descriptors.csv``, matched to a spec row by its ``name`` (case
and spacing ignored); any other variable must carry its own in the spec (``short_label``, see
`vocabulary`). A descriptor has a grammatical role in a name:

=====  ============================================  =========================================
role   examples                                      place in the name
=====  ============================================  =========================================
adj    older, young, urban, degree-educated          before the head (at most two adjectives)
noun   owner-occupiers, families, students           the head (one); others use their ``alt``
in     in detached homes, in flats                   after the head (one)
with   with no car, with long-term illness           last (one)
=====  ============================================  =========================================

A noun that is not the head can still appear through its alternative form (``alt``): "social
renters" becomes "in social housing", "families" becomes "with children".

**Names.** A segment's traits are the variables on which its centre stands furthest from its
parent's (the area for supergroups, the supergroup for groups, the group for subgroups), in
standard deviations of the area's OAs, taking the side (high or low) it stands on. Below the top
tier a trait is used only if the segment stands on the same side of the area as well, so a name
never says "renters" of a group that has fewer renters than the area. The strongest traits are
combined, one per facet (one age, one tenure, one dwelling type ...), into a noun phrase:
``[adjectives] head [in ...] [with ...]`` ("Older owner-occupiers in detached homes", "Young
private renters in flats", "Families in social housing"), within `MAX_CHARS` characters (40 for
supergroups, 48 below), the weakest trait dropped first when too long.

**Claims that hold for the households (the name rule).** A descriptor states what people are
or have (an *absolute claim*: "social renters", "in detached homes", "students", "with no car",
and the adjectives "single", "degree-educated" and "elderly") or compares ("older", "urban",
"settled", "multicultural", and every phrase worded "many", "more", "high", "few": "with more
social renting", "with many students"). A name makes an absolute claim only where it holds for
the segment: its share (the variable's value; ``100 - value`` for a low side such as "renters")
is at least `CLAIM_SHARE` (50%) in the segment's median Output Area or over its households
(household-weighted mean; the OA mean without household counts), or it is the segment's largest
category of that facet (at least every other variable of the facet and the rest of the 100%)
by either measure. A trait that does not hold is worded as a comparison (its ``more`` /
``low_more`` descriptor, "with more social renting") when the segment has more of it than the
area, else left to the pen portrait. A comparison in a name always holds against the area (the
segment's mean above the area's on that side). So a child never contradicts its parent: where
it claims another category of a facet its parent claims ("Private renters" in an owner-occupier
group), that category holds for the child, and the name says how it differs (the parent's claim
must not still hold for the child; a wider claim, "renters" under "private renters", is no
contradiction). `claims_in` reads the claims back from a name's words and
`name_rule_failures` checks every name of a build against this rule (tests run it on every
build they make).

**The restricted domain.** Ethnicity, country of birth, religion and language (domain
``diversity``) may describe a segment in its portrait, but in a name they only ever appear as one
adjective phrased as the ONS/UCL 2021 OAC names do ("Multicultural ...", "Ethnically diverse
..."), never as a list of groups, and never alone: a name always has a trait from another domain.

**Unique across the tiers.** When names collide (within a tier, or with a name a higher tier
already has: tiers are named top down), each colliding segment takes its next trait; if they
still collide, each takes a distinguishing suffix from a domain its name does not use yet,
chosen by how it differs from the segments it collides with. Never a number.

**Forbidden patterns and the review rule.** `name_problems` checks a name against
`FORBIDDEN` (and the census label texts of the spec); `REVIEW_RULE` is what a person checks
before names and portraits are published. Both are in docs/segments.md.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

VOCABULARY_PATH = Path(__file__).resolve().parent / "spec" / "descriptors.csv"

#: Domains in the order a distinguishing suffix is looked for; ``diversity`` is restricted.
DOMAINS = ("life_stage", "household", "housing", "work", "place", "other", "diversity")
RESTRICTED = "diversity"
MAX_CHARS = {"supergroup": 40, "group": 48, "subgroup": 48}
#: The head of a name with no noun among its traits ("Older residents in detached homes").
DEFAULT_HEAD = "residents"
#: The name of a segment that has no descriptive trait (e.g. no census variables).
AVERAGE_NAME = "Close to the average"
#: Traits a name starts with, and the share of the strongest trait's score a trait needs to be
#: added beyond the first (names are made longer than this only to tell two segments apart).
TARGET_TRAITS = 3
RELATIVE_STRENGTH = 0.3
#: A name without a noun among its traits takes the strongest noun this strong (relative).
HEAD_STRENGTH = 0.15
#: A raw difference of this many percentage points (or units) counts in full (`salience`).
SALIENT_POINTS = 5.0
#: Traits weaker than this (salience) are noise, not a description.
MIN_STRENGTH = 0.1
#: Below the top tier, how far on the other side of the area a segment may stand on a trait.
AGREE_TOLERANCE = 0.1
#: Below the top tier, traits against the area follow those against the parent, this weight.
AREA_WEIGHT = 0.25

#: An absolute claim holds when its share reaches this (percent), or it is the largest category.
CLAIM_SHARE = 50.0
#: Adjectives that state what people are (claims), not a character compared with the area.
CLAIM_ADJECTIVES = frozenset({"single", "degree-educated", "elderly"})
#: Words that make a descriptor a comparison ("with many unpaid carers", "with more flats").
_COMPARATIVE = re.compile(r"\b(many|more|most|high|higher|few|fewer|less|low|lower)\b")

#: Adjective order: diversity first (as the OAC 2021 names), then age, then the others.
_ADJ_ORDER = {"diversity": 0, "life_stage": 1}
#: Which noun heads a name when several are chosen: people before occupations before tenure.
_HEAD_ORDER = {"life_stage": 0, "household": 0, "work": 1, "other": 2, "place": 2, "housing": 3}
_STOP = {"in", "with", "and", "of", "the", "a", "or"}
_SHARED_WORDS = _STOP | {"homes", "residents", "people", "households", "workers"}

#: Words and patterns no automatic name may contain: (regex, why). Checked case-insensitively.
FORBIDDEN: tuple[tuple[str, str], ...] = (
    (r"\b(high|low|over|under)\s*:", "a variable-label prefix such as 'High:'"),
    (r":", "a colon (census labels use them)"),
    (r"[()\[\]{}]", "brackets (census labels use them)"),
    (r"\d", "a digit (names are words; never a number)"),
    (r"[,;/&|+]", "list punctuation (a name is a phrase, not a list of labels)"),
    (r"\b(bangladeshi|chinese|indian|pakistani|asian|black|white|arab|african|caribbean|gypsy|"
     r"travellers?|roma|irish|british|english|scottish|welsh|polish|european|mixed race|"
     r"mixed ethnicity)\b", "an ethnic group, nationality or language"),
    (r"\b(christian|muslim|islamic|hindu|sikh|jewish|jews?|buddhist|atheist|religions?|"
     r"religious|faiths?)\b", "a religion"),
    (r"\b(immigrants?|migrants?|foreign(ers?)?|born|overseas|non-eu|eu|europe|africa|asia|"
     r"aliens?|nationals?)\b", "country of birth or migration"),
    (r"\b(deprived|deprivation|poverty|poor|struggling|underclass|sink|ghettos?|chavs?|"
     r"hard-pressed|benefits?|scroungers?|slums?|dole|rough)\b", "a stigmatising word"),
    (r"\b(segment|cluster|supergroup|subgroup|group)\b", "a classification word, not a description"),
)

#: What a person checks before the names and pen portraits of a classification are published.
REVIEW_RULE = (
    "Before names and pen portraits are published, someone who knows the area reads each name "
    "with its portrait and grand-index chart and checks that: (1) the name says what is most "
    "distinctive about the segment against its parent and nothing the numbers do not show; "
    "(2) it could be read aloud to a resident of those streets without offence; (3) it names no "
    "ethnic group, religion, nationality or country of birth, and is never made of "
    "'multicultural' or 'ethnically diverse' alone; (4) it holds no census label text, code, "
    "number, colon or brackets; (5) a hand-written replacement passes name_problems too. Record "
    "who reviewed the names and when."
)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


def role_of(text: str) -> str:
    """Role of a spec ``short_label``/``low_label``: ``in ...`` and ``with ...`` keep their
    preposition's place; anything else is a noun (the head of a name)."""
    word = _norm(text).split(" ", 1)[0]
    return word if word in ("in", "with") else "noun"


def load_descriptors(path: Path | str = VOCABULARY_PATH) -> pd.DataFrame:
    """The curated vocabulary, one row per variable name (``key`` = the normalised name)."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table = table.apply(lambda c: c.str.strip())
    table["key"] = table["name"].map(_norm)
    return table.set_index("key")


_VOCAB_COLUMNS = ["name", "domain", "facet", "what", "high", "high_role", "high_alt", "low",
                  "low_role", "low_alt", "more", "low_more", "source"]


def _text(value) -> str:
    """A spec cell as text ('' for missing: a spec concatenated with one that lacks the column
    holds NaN there)."""
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) \
        else str(value).strip()


#: Words a census label capitalises because they are proper nouns or names of census categories:
#: a label starting with one keeps its capital ("Africa", "Europe: Non-EU countries", "Level 3").
PROPER_WORDS = frozenset(
    "Africa African America American Americas Antarctica Arab Asia Asian Bangladeshi Black "
    "Britain British Buddhist Caribbean Chinese Christian Commonwealth Equality Europe European "
    "England English Gypsy Hindu Indian Ireland Irish Jewish Level Middle Muslim Northern Oceania "
    "Pakistani Roma Scotland Scottish Sikh Traveller Wales Welsh White".split())


def _what(label: str) -> str:
    """A spec name as it reads in a portrait: "Lone parents" -> "lone parents". The capital stays
    on a proper noun or census category name ("Africa", "Europe: Non-EU countries"), an acronym
    ("UK born"), a census category path ("Economically active: Unemployed") and a word the label
    capitalises again later ("Level 1, Level 2 or ...")."""
    label = re.sub(r"^\d+\.\s*", "", str(label).strip())
    first = re.match(r"[A-Za-z][A-Za-z'-]*", label)
    if first is None:
        return label
    word = first[0]
    keep = (word in PROPER_WORDS or word[1:] != word[1:].lower() or len(word) == 1 or ":" in label
            or re.search(rf"\b{re.escape(word)}\b", label[len(word):]) is not None)
    return label if keep or not word[0].isupper() else word[0].lower() + label[1:]


def vocabulary(spec: pd.DataFrame, descriptors: pd.DataFrame | None = None) -> pd.DataFrame:
    """Descriptors for every variable of `spec` (index: variable id).

    A spec row with a ``short_label`` uses it (its high side; ``low_label`` and ``domain``
    optional, role from the text, see `role_of`); otherwise the row of ``descriptors.csv`` with
    the same name. Variables with neither get empty descriptors (see `descriptor_problems`)."""
    descriptors = load_descriptors() if descriptors is None else descriptors
    rows = {}
    for row in spec.to_dict("records"):
        var, name = row["variable"], row.get("name", row["variable"])
        short, low, domain = (_text(row.get(c)) for c in ("short_label", "low_label", "domain"))
        if short:
            domain = domain or "other"
            rows[var] = {"name": name, "domain": domain, "facet": var, "what": _what(name),
                         "high": short, "high_role": role_of(short), "high_alt": "",
                         "low": low, "low_role": role_of(low) if low else "", "low_alt": "",
                         "more": "", "low_more": "", "source": "short_label"}
        elif _norm(name) in descriptors.index:
            d = descriptors.loc[_norm(name)]
            rows[var] = {**{c: d.get(c, "") for c in _VOCAB_COLUMNS[:-1]}, "name": name,
                         "source": "vocabulary"}
        else:
            rows[var] = {"name": name, "domain": "other", "facet": var, "what": _what(name),
                         "high": "", "high_role": "", "high_alt": "", "low": "", "low_role": "",
                         "low_alt": "", "more": "", "low_more": "", "source": ""}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=_VOCAB_COLUMNS)
    out.index.name = "variable"
    return out


def vocabulary_from_labels(labels: dict[str, str], variables) -> pd.DataFrame:
    """`vocabulary` for variables known only by id and name (no spec at hand)."""
    spec = pd.DataFrame({"variable": list(variables),
                         "name": [labels.get(v, v) for v in variables]})
    return vocabulary(spec)


def descriptor_problems(spec: pd.DataFrame) -> list[str]:
    """Spec rows a segment name could not describe, and bad ``domain`` values (for SpecError)."""
    problems = []
    vocab = vocabulary(spec)
    for var, row in vocab.iterrows():
        if row["source"] == "":
            problems.append(
                f"variable {var} ({row['name']}): no descriptor for segment names; add a "
                f"short_label column with the words a name uses for its high side (e.g. 'lone "
                f"parents', 'in caravans', 'with no garden'; optional low_label and domain, one of "
                f"{list(DOMAINS)})")
        elif row["domain"] not in DOMAINS:
            problems.append(f"variable {var} ({row['name']}): domain {row['domain']!r} is not one "
                            f"of {list(DOMAINS)}")
    return problems


# ---------------------------------------------------------------- composing a name


@dataclass(frozen=True)
class Trait:
    """One side of one variable as a name uses it."""

    variable: str
    side: str  # high | low
    text: str
    role: str  # adj | noun | in | with
    alt: str
    domain: str
    facet: str
    strength: float
    #: ``claim`` (what people are or have) or ``comparison``: see `is_claim`.
    kind: str = ""

    @property
    def words(self) -> set[str]:
        return {w for w in re.findall(r"[a-z'-]+", (self.text + " " + self.alt).casefold())
                if w not in _SHARED_WORDS}


def salience(score: pd.Series, delta: pd.Series | None = None) -> pd.Series:
    """How strongly each variable marks a segment: |score| (standard deviations in the
    standardised space), scaled down when the raw difference is under `SALIENT_POINTS`
    percentage points (a variable of small shares, such as 1% against 3%, stands out in the
    standardised space more than it shapes a neighbourhood); never below a tenth."""
    strength = score.abs()
    if delta is not None:
        scale = (delta.reindex(score.index).abs() / SALIENT_POINTS).clip(0.1, 1.0).fillna(1.0)
        strength = strength * scale
    return strength


def traits(score: pd.Series, vocab: pd.DataFrame, agree: pd.Series | None = None,
           delta: pd.Series | None = None, tolerance: float = AGREE_TOLERANCE,
           min_strength: float = MIN_STRENGTH) -> list[Trait]:
    """The named sides of the variables, strongest (`salience`) first, down to `min_strength`.

    score: the segment's centre minus its parent's, in standard deviations; agree: the same
    against the whole area (below the top tier): a trait whose segment stands clearly on the
    other side of the area (by more than `tolerance`) is left out; delta: the segment's mean
    minus its parent's on the untransformed values."""
    out = []
    strength = salience(score, delta).sort_values(ascending=False, kind="stable")
    known = set(vocab.index)
    col = {c: dict(zip(vocab.index, vocab[c], strict=True)) for c in
           ("high", "high_role", "high_alt", "low", "low_role", "low_alt", "domain", "facet")}
    zs = score.to_dict()
    ag = agree.to_dict() if agree is not None else None
    for var, s in strength.items():
        z = float(zs[var])
        if var not in known or not np.isfinite(z) or z == 0.0:
            continue
        if s < min_strength:
            break
        if ag is not None and np.sign(z) * float(ag.get(var, 0.0)) < -tolerance:
            continue
        side = "high" if z > 0 else "low"
        text = col[side][var]
        if not text:
            continue
        out.append(Trait(var, side, text, col[f"{side}_role"][var] or role_of(text),
                         col[f"{side}_alt"][var], col["domain"][var], col["facet"][var],
                         float(s)))
    return out


def tier_traits(parent_traits: list[Trait], area_traits: list[Trait]) -> list[Trait]:
    """Below the top tier: what sets the segment apart from its parent first, then what marks
    it against the area (facets not already there, at `AREA_WEIGHT`), so a group that differs
    little from its supergroup is still named for what it is."""
    facets = {t.facet for t in parent_traits}
    return parent_traits + [Trait(t.variable, t.side, t.text, t.role, t.alt, t.domain, t.facet,
                                  t.strength * AREA_WEIGHT)
                            for t in area_traits if t.facet not in facets]


# ---------------------------------------------------------------- the name rule: claims that hold


def is_claim(text: str, role: str) -> bool:
    """Whether a descriptor states what people are or have (see the module docstring): a noun,
    ``in ...`` or ``with ...`` phrase not worded as a comparison, or one of `CLAIM_ADJECTIVES`."""
    text = _norm(text)
    if not text or _COMPARATIVE.search(text):
        return False
    return text in CLAIM_ADJECTIVES if role == "adj" else True


@dataclass(frozen=True)
class Shares:
    """One segment's values: the median OA's and the household-weighted mean (percentages),
    and the area's mean, per variable."""

    median: pd.Series
    weighted: pd.Series
    area: pd.Series


def shares(values: pd.DataFrame, members: np.ndarray, weight: np.ndarray | None,
           area: pd.Series) -> Shares:
    """`Shares` of the OAs `members` (a boolean mask over the rows of `values`); weight:
    households per row (None or all zero: every OA counts once)."""
    v = values[members]
    w = None if weight is None else np.nan_to_num(np.asarray(weight, float)[members])
    if w is None or w.sum() <= 0:
        weighted = v.mean()
    else:
        weighted = pd.Series(np.nansum(v.to_numpy(float) * w[:, None], axis=0) / w.sum(),
                             index=v.columns)
    return Shares(v.median(), weighted, area)


def tier_shares(values: pd.DataFrame, labels: np.ndarray, weight: np.ndarray | None,
                area: pd.Series) -> dict[str, Shares]:
    """`shares` of every segment of one tier at once (`labels`: its code per row of `values`)."""
    lab = pd.Series(np.asarray(labels).astype(str), index=values.index)
    median = values.groupby(lab).median()
    w = None if weight is None else pd.Series(np.nan_to_num(np.asarray(weight, float)),
                                              index=values.index)
    plain = values.groupby(lab).mean()
    if w is None:
        weighted = plain
    else:
        total = w.groupby(lab).sum()
        num = values.fillna(0.0).mul(w, axis=0).groupby(lab).sum()
        weighted = num.div(total.replace(0.0, np.nan), axis=0)
        weighted = weighted.where(total.gt(0), plain, axis=0)
    return {c: Shares(median.loc[c], weighted.loc[c], area) for c in median.index}


@functools.lru_cache(maxsize=8)
def _facets(rows: tuple[tuple[str, str], ...]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(variable -> facet, facet -> its variables in vocabulary order) of (variable, facet) rows."""
    members: dict[str, list[str]] = {}
    for var, facet in rows:
        members.setdefault(facet, []).append(var)
    return dict(rows), members


def claim_holds(variable: str, side: str, s: Shares, vocab: pd.DataFrame) -> bool:
    """Whether the claim of `variable`'s `side` holds for the segment of `s`: its share at least
    `CLAIM_SHARE`, or the largest category of its facet, by the median OA or the households."""
    if variable not in s.median.index:
        return False
    facet = _facets(tuple(zip(vocab.index.tolist(), vocab["facet"].tolist(), strict=True)))
    peers = [v for v in facet[1][facet[0][variable]]
             if v != variable and v in s.median.index] if side == "high" else []
    for stat in (s.median, s.weighted):
        x = float(stat[variable]) if side == "high" else 100.0 - float(stat[variable])
        if not np.isfinite(x):
            continue
        if x >= CLAIM_SHARE:
            return True
        others = [float(stat[p]) for p in peers if np.isfinite(stat[p])]
        if x >= max(others, default=0.0) and x >= 100.0 - x - sum(others):
            return True
    return False


def above_area(variable: str, side: str, s: Shares) -> bool:
    """Whether the segment has more of `variable`'s side than the area (household-weighted)."""
    if variable not in s.weighted.index:
        return False
    gap = float(s.weighted[variable]) - float(s.area[variable])
    return bool(gap > 0 if side == "high" else gap < 0)


def comparison_of(t: Trait, vocab: pd.DataFrame) -> Trait | None:
    """The trait worded as a comparison with the area (its ``more`` / ``low_more``), if any."""
    text = _text(vocab.at[t.variable, "more" if t.side == "high" else "low_more"]) \
        if t.variable in vocab.index else ""
    if not text:
        return None
    return Trait(t.variable, t.side, text, role_of(text), "", t.domain, t.facet, t.strength,
                 "comparison")


def contradicts(variable: str, side: str, parent_variable: str, parent_side: str,
                vocab: pd.DataFrame) -> bool:
    """Whether a child's claim of `variable`'s `side` contradicts its parent's claim of
    `parent_variable`'s `parent_side`: the other side of the same variable, or another category
    (high side) of the same facet, since categories of a facet exclude each other. A wider claim
    ("renters", the low side of owner-occupiers, under "private renters") is no contradiction."""
    return (variable == parent_variable and side != parent_side) or (
        variable != parent_variable and side == parent_side == "high"
        and vocab.at[variable, "facet"] == vocab.at[parent_variable, "facet"])


def truthful(candidates: list[Trait], s: Shares, vocab: pd.DataFrame,
             parent_claims: list[tuple[str, str]] | tuple[()] = ()) -> list[Trait]:
    """`candidates` with every claim that does not hold for the segment worded as a comparison
    (when the segment has more of it than the area) or left out, and every comparison kept only
    where the segment has more than the area; the order kept (the name rule).

    parent_claims: the (variable, side) claims of the parent's name (below the top tier). A
    claim that `contradicts` one of them which still holds for the segment is treated as one
    that does not hold: worded as a comparison or left out, so the child keeps its parent's
    claim or says how it differs."""
    held = [(v, sd) for v, sd in parent_claims if claim_holds(v, sd, s, vocab)]
    out = []
    for t in candidates:
        claim = is_claim(t.text, t.role)
        if claim and any(contradicts(t.variable, t.side, v, sd, vocab) for v, sd in held
                         if t.variable in vocab.index):
            more = comparison_of(t, vocab)
            if more is not None and above_area(t.variable, t.side, s):
                out.append(more)
            continue
        if claim and claim_holds(t.variable, t.side, s, vocab):
            out.append(Trait(*[getattr(t, f) for f in ("variable", "side", "text", "role", "alt",
                                                       "domain", "facet", "strength")], "claim"))
            continue
        if not claim:
            if t.role == "adj" or above_area(t.variable, t.side, s):
                out.append(Trait(*[getattr(t, f) for f in ("variable", "side", "text", "role",
                                                           "alt", "domain", "facet",
                                                           "strength")], "comparison"))
            continue
        more = comparison_of(t, vocab)
        if more is not None and above_area(t.variable, t.side, s):
            out.append(more)
    return out


_FORM_COLUMNS = ["high", "high_role", "high_alt", "low", "low_role", "low_alt", "more",
                 "low_more"]


def _forms(vocab: pd.DataFrame) -> tuple[tuple[str, str, str, bool, re.Pattern], ...]:
    """Every phrase a name can hold: (phrase, variable, side, is a claim, the phrase as a whole
    words pattern), longest first. Read once per vocabulary (`claims_in` runs for every name
    and parent of a build)."""
    return _forms_of(tuple(zip(vocab.index.tolist(), *(vocab[c].tolist() for c in _FORM_COLUMNS),
                               strict=True)))


@functools.lru_cache(maxsize=8)
def _forms_of(rows: tuple[tuple, ...]) -> tuple[tuple[str, str, str, bool, re.Pattern], ...]:
    forms = []
    for var, *cells in rows:
        row = dict(zip(_FORM_COLUMNS, cells, strict=True))
        for side in ("high", "low"):
            role = row[f"{side}_role"] or role_of(row[side])
            more = row["more" if side == "high" else "low_more"]
            for text, r in ((row[side], role), (row[f"{side}_alt"], None), (more, None)):
                text = _norm(_text(text))
                if text:
                    forms.append((text, var, side, is_claim(text, r or role_of(text)),
                                  re.compile(rf"(?<![a-z'-]){re.escape(text)}(?![a-z'-])")))
    return tuple(sorted(forms, key=lambda f: -len(f[0])))


def claims_in(name: str, vocab: pd.DataFrame) -> list[tuple[str, str, str, bool]]:
    """The descriptors a name holds, read back from its words: (phrase, variable, side, is a
    claim); longest phrase first, each word read once."""
    rest = f" {_norm(name)} "
    found = []
    for text, var, side, claim, pattern in _forms(vocab):
        if pattern.search(rest):
            found.append((text, var, side, claim))
            rest = pattern.sub(" | ", rest)
    return found


def name_rule_failures(names: pd.DataFrame, column: str, codes: pd.DataFrame,
                       values: pd.DataFrame, vocab: pd.DataFrame,
                       households: pd.Series | None = None) -> list[str]:
    """Every way the names of `column` (rows level, segment) break the name rule: a claim that
    does not hold for the segment's households, a comparison the segment does not have more of
    than the area, a child claiming another category of a facet where its parent's claim still
    holds for it, a name used twice across the tiers. codes: oa21cd and a column per tier;
    values: the untransformed values per OA; households per OA (optional)."""
    out = []
    dup = names[column][names[column].duplicated(keep=False)]
    if len(dup):
        out.append(f"names used by more than one segment: {sorted(set(dup))}")
    if values.empty:
        return out
    v = values.loc[codes["oa21cd"]]
    w = None if households is None else households.reindex(codes["oa21cd"]).to_numpy(float)
    area = shares(v, np.ones(len(v), bool), w, v.mean()).weighted
    by_code = {str(r.segment): (r.level, getattr(r, column)) for r in names.itertuples(index=False)}
    for row in names.itertuples(index=False):
        level, code, name = row.level, str(row.segment), getattr(row, column)
        s = shares(v, (codes[level].astype(str) == code).to_numpy(), w, area)
        parent = by_code.get(code[:-1]) if level != "supergroup" else None
        if parent is not None:  # a child contradicts its parent only where the parent still holds
            mine = {(vocab.at[var, "facet"], var, side) for _, var, side, c in claims_in(name, vocab)
                    if c and var in vocab.index}
            for _, var, side, c in claims_in(parent[1], vocab):
                if not c or var not in vocab.index:
                    continue
                other = [m for m in mine if contradicts(m[1], m[2], var, side, vocab)]
                if other and claim_holds(var, side, s, vocab):
                    out.append(f"{level} {code} {name!r} claims {other[0][1]} where its parent's "
                               f"{parent[1]!r} claim {var} still holds for it")
        for text, var, side, claim in claims_in(name, vocab):
            if var not in v.columns:
                continue
            if claim and not claim_holds(var, side, s, vocab):
                out.append(f"{level} {code} {name!r}: {text!r} is a claim that does not hold "
                           f"(median OA {s.median[var]:.1f}, households {s.weighted[var]:.1f}, "
                           f"needs {CLAIM_SHARE:.0f} or the largest category)")
            elif not claim and role_of(text) != "noun" and _COMPARATIVE.search(text) \
                    and not above_area(var, side, s):
                out.append(f"{level} {code} {name!r}: {text!r} but the segment has "
                           f"{s.weighted[var]:.1f} against the area's {area[var]:.1f}")
    return out


def _alt_role(text: str) -> str | None:
    word = _norm(text).split(" ", 1)[0] if text else ""
    return word if word in ("in", "with") else None


def arrange(chosen: list[Trait]) -> tuple[Trait | None, list[Trait], dict[str, str]] | None:
    """A slot for every trait (head, adjectives, in, with), or None if they do not fit."""
    nouns = [t for t in chosen if t.role == "noun"]
    heads = sorted(nouns, key=lambda t: (_HEAD_ORDER.get(t.domain, 2), -t.strength)) or [None]
    for head in heads:
        adjs: list[Trait] = []
        slots: dict[str, str] = {}
        ok = True
        for t in chosen:
            if t is head:
                continue
            if t.role == "adj":
                adjs.append(t)
                ok = len(adjs) <= 2
            else:
                role, text = (t.role, t.text) if t.role != "noun" else (_alt_role(t.alt), t.alt)
                ok = role is not None and role not in slots
                if ok:
                    slots[role] = text
            if not ok:
                break
        if ok:
            return head, adjs, slots
    return None


def realise(chosen: list[Trait]) -> str:
    """The noun phrase for traits that `arrange` accepts (sentence case)."""
    placed = arrange(chosen)
    if placed is None:
        raise ValueError("these traits do not fit one name")
    head, adjs, slots = placed
    adjs = sorted(adjs, key=lambda t: (_ADJ_ORDER.get(t.domain, 2), -t.strength))
    words = [t.text for t in adjs] + [head.text if head is not None else DEFAULT_HEAD]
    words += [slots[r] for r in ("in", "with") if r in slots]
    phrase = " ".join(words)
    return phrase[0].upper() + phrase[1:]


@functools.lru_cache(maxsize=1)
def _compounds() -> frozenset[str]:
    """Descriptor phrases of several words ("young families", "families with schoolchildren")."""
    d = load_descriptors()
    cols = [c for c in ("high", "low", "high_alt", "low_alt", "more", "low_more") if c in d]
    return frozenset(t for c in cols for t in map(_norm, d[c]) if " " in t)


def _accidental(chosen: list[Trait]) -> bool:
    """Whether the name of `chosen` reads as a descriptor none of its traits is ("young" and
    "families" make "Young families", a claim about young children): the name rule reads a
    name by its words, so such a pair is not used."""
    if arrange(chosen) is None:
        return False
    phrase = f" {_norm(realise(chosen))} "
    own = [_norm(x) for t in chosen for x in (t.text, t.alt) if x]
    return any(f" {c} " in phrase and not any(c in o for o in own) for c in _compounds())


def _fits(chosen: list[Trait], t: Trait) -> bool:
    if any(c.facet == t.facet for c in chosen):
        return False
    if t.domain == RESTRICTED and any(c.domain == RESTRICTED for c in chosen):
        return False  # one diversity adjective at most
    if any(c.words & t.words for c in chosen):
        return False  # "families" and "young families"; "young" twice
    return arrange([*chosen, t]) is not None and not _accidental([*chosen, t])


def _informative(chosen: list[Trait]) -> int:
    return sum(t.domain != RESTRICTED for t in chosen)


def choose(candidates: list[Trait], n: int, max_chars: int, forced: tuple[Trait, ...] = (),
           relative: float = RELATIVE_STRENGTH) -> list[Trait]:
    """Up to `n` informative traits (plus at most one diversity adjective) in strength order,
    each beyond the first at least `relative` of the strongest; a noun head if none was chosen
    and one is at least `HEAD_STRENGTH` of the strongest; then shortened to `max_chars` by
    dropping the weakest (never the `forced` ones, never the last informative one)."""
    chosen = list(forced)
    top = candidates[0].strength if candidates else 0.0
    for t in candidates:
        if _informative(chosen) >= n:
            break
        if t in chosen or (_informative(chosen) and t.strength < relative * top):
            continue
        if _fits(chosen, t):
            chosen.append(t)
    if not any(t.role == "noun" for t in chosen):
        for t in candidates:
            if t.role != "noun" or t in chosen or t.strength < HEAD_STRENGTH * top:
                continue
            if _fits(chosen, t):
                trial = _shorten([*chosen, t], max_chars, (*forced, t))
                if trial and t in trial and len(realise(trial)) <= max_chars:
                    return trial
    return _shorten(chosen, max_chars, forced)


def _shorten(chosen: list[Trait], max_chars: int, keep: tuple[Trait, ...]) -> list[Trait]:
    """The subset of `chosen` (with every `keep` trait and an informative one) that fits in
    `max_chars` with the largest total strength, a noun head counting as much as half the
    strongest trait; order kept."""
    if not _informative(chosen):
        return []  # a name is never made of the restricted domain alone
    if len(realise(chosen)) <= max_chars:
        return list(chosen)
    top = max(t.strength for t in chosen)
    best, best_score = [], -1.0
    for mask in range(1, 1 << len(chosen)):
        subset = [t for i, t in enumerate(chosen) if mask >> i & 1]
        if any(k not in subset for k in keep) or not _informative(subset):
            continue
        if len(realise(subset)) > max_chars or _accidental(subset):
            continue
        score = sum(t.strength for t in subset) + \
            (0.5 * top if any(t.role == "noun" for t in subset) else 0.0)
        if score > best_score:
            best, best_score = subset, score
    return best


def name_of(chosen: list[Trait]) -> str:
    return realise(chosen) if chosen else AVERAGE_NAME


def unique_names(candidates: dict[str, list[Trait]], level: str,
                 contrast: Callable[[str, list[str]], tuple[pd.Series, pd.Series]] | None
                 = None,
                 vocab: pd.DataFrame | None = None,
                 agree: dict[str, pd.Series] | None = None,
                 taken: set[str] | frozenset[str] = frozenset(),
                 rule: Callable[[str, list[Trait]], list[Trait]] | None = None
                 ) -> dict[str, str]:
    """A name per code of one tier, unique within it and not one of `taken` (the names of the
    tiers above; see the module docstring).

    candidates: code -> traits, strongest first; contrast(code, others): the code's centre minus
    the mean of the others', in standard deviations and on the untransformed values; agree:
    code -> the code's centre minus the area's (a suffix must hold against the area too); rule:
    (code, traits) -> the traits the name rule lets the code's name use (`truthful`)."""
    limit = MAX_CHARS.get(level, 48)
    chosen = {c: choose(ts, TARGET_TRAITS, limit) for c, ts in candidates.items()}
    names = {c: name_of(ch) for c, ch in chosen.items()}
    for _ in range(4):  # 1) the next trait, without the relative-strength floor
        clash = _collisions(names, taken)
        if not clash:
            return names
        for c in clash:
            trial = choose(candidates[c], _informative(chosen[c]) + 1, limit, relative=0.0)
            if _informative(trial) > _informative(chosen[c]):
                chosen[c], names[c] = trial, name_of(trial)
    for c in _collisions(names, taken):  # 2) a suffix from a domain the name does not use yet
        others = [o for o in names if o != c and names[o] == names[c]]
        if contrast is None or vocab is None:
            continue
        if not others:  # the name of a tier above: told apart by its own strongest traits
            found = [t for t in candidates[c] if t not in chosen[c]]
            trial = next((tr for tr in (choose(chosen[c], len(chosen[c]) + 1, limit, forced=(t,),
                                               relative=0.0) for t in found)
                          if tr and name_of(tr) not in taken
                          and name_of(tr) not in names.values()), None)
            if trial is not None:
                chosen[c], names[c] = trial, name_of(trial)
            continue
        diff, raw_diff = contrast(c, others)
        found = traits(diff, vocab, None if agree is None else agree[c], raw_diff,
                       min_strength=0.0)
        found = found if rule is None else rule(c, found)
        used = {t.domain for t in chosen[c]}
        order = sorted(found, key=lambda t: (t.domain in used, -t.strength))
        fitting = [t for t in order if _fits(chosen[c], t)]
        # a suffix that fits beside every trait the name has, else one that displaces the weakest
        for keep_all in (True, False):
            trial = next((tr for tr in (choose(chosen[c], len(chosen[c]) + 1, limit, forced=(t,),
                                               relative=0.0) for t in fitting)
                          if (not keep_all or all(x in tr for x in chosen[c]))
                          and len(tr) > 0 and name_of(tr) not in names.values()
                          and name_of(tr) not in taken
                          and any(x not in chosen[c] for x in tr)), None)
            if trial is not None:
                chosen[c], names[c] = trial, name_of(trial)
                break
    return names


def _collisions(names: dict[str, str], taken: set[str] | frozenset[str] = frozenset()
                ) -> list[str]:
    seen = pd.Series(names, dtype=object)
    return sorted(seen.index[seen.duplicated(keep=False) | seen.isin(list(taken))])


# ---------------------------------------------------------------- rules a name must pass


def census_label_texts(spec: pd.DataFrame | None = None, labels: dict[str, str] | None = None
                       ) -> list[str]:
    """Label texts no name may contain: variable names and numerator categories of two or more
    words (one-word labels such as "Detached" are ordinary English)."""
    texts = list((labels or {}).values())
    if spec is not None:
        texts += list(spec["name"])
        for num in spec.get("numerator", []):
            texts += [t.strip() for t in str(num).split("|")]
    out = set()
    for text in texts:
        text = re.sub(r"^\d+\.\s*", "", str(text)).strip()
        if len(text.split()) >= 2:
            out.add(text.casefold())
    return sorted(out)


def name_problems(name: str, max_chars: int | None = None,
                  label_texts: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Why a segment name breaks the rules (empty: it passes). See `FORBIDDEN`."""
    problems = []
    text = str(name)
    if not text.strip():
        return ["it is empty"]
    if max_chars is not None and len(text) > max_chars:
        problems.append(f"{len(text)} characters, more than {max_chars}")
    if text != text.strip() or "  " in text:
        problems.append("stray spaces")
    if not text[0].isupper():
        problems.append("it does not start with a capital letter")
    if re.search(r"[^A-Za-z' -]", text.replace("\u2019", "'")):
        odd = sorted(set(re.findall(r"[^A-Za-z' -]", text)))
        problems.append(f"characters other than letters, spaces, hyphens, apostrophes: {odd}")
    low = text.casefold()
    for pattern, why in FORBIDDEN:
        if re.search(pattern, low):
            problems.append(f"contains {why}")
    for label in label_texts:
        if label in low:
            problems.append(f"contains the census label text {label!r}")
    rest = re.sub(r"\b(multicultural|ethnically diverse|residents|households|people|"
                  r"neighbourhoods|communities)\b", " ", low)
    if not rest.strip() and re.search(r"multicultural|ethnically diverse", low):
        problems.append("made of ethnicity, country of birth, religion or language alone")
    return problems


# ---------------------------------------------------------------- labels in charts and legends


def short_label(code: str, name: str, max_chars: int) -> str:
    """``"code name"`` fitted into `max_chars` characters without cutting a word: whole words
    from the end are dropped (and a dangling "in", "with", "and" ... after them) and an ellipsis
    added; the code alone if not even one word fits (never shortened itself)."""
    code, name = str(code).strip(), re.sub(r"\s+", " ", str(name)).strip()
    full = f"{code} {name}".strip()
    if len(full) <= max_chars or not name:
        return full if name else code
    words = name.split(" ")
    while words:
        words.pop()
        while words and words[-1].casefold() in _STOP | {"for", "to", "at", "on", "by"}:
            words.pop()
        if not words:
            break
        trial = f"{code} {' '.join(words).rstrip(',;:-')}\u2026"
        if len(trial) <= max_chars:
            return trial
    return code


__all__ = ["vocabulary", "vocabulary_from_labels", "descriptor_problems", "load_descriptors",
           "traits", "choose", "unique_names", "name_of", "name_problems", "census_label_texts",
           "short_label", "Trait", "FORBIDDEN", "Shares", "shares", "claim_holds", "truthful",
           "claims_in", "contradicts", "name_rule_failures", "is_claim", "tier_shares",
           "CLAIM_SHARE", "REVIEW_RULE", "MAX_CHARS", "DOMAINS", "RESTRICTED", "VOCABULARY_PATH"]
