"""Match free-text addresses to gazetteer UPRNs: block, filter by numbers, score, decline ties.

For each record:

1. **Block**: the gazetteer entries at the record's postcode. When the postcode cannot be trusted
   to hold the address (missing, partial, invalid, not in the directory, terminated) and the
   postcode block gives nothing, the wider block is the sector or district the damaged postcode
   still shows, plus every entry whose street name appears word for word in the record.
2. **Numbers must agree**: the house and flat numbers of the record (every token holding a digit)
   must equal those of the candidate exactly. "5 Silver Drive" never matches "Flat 8, 5 Silver
   Drive": a missing flat number is declined, since a wrong UPRN is worse than a postcode match.
3. **Score** the remaining words, after dropping the candidate's own locality and town words from
   the record: ``score = max(token_sort_ratio, ratio)`` of rapidfuzz over the words (0-100;
   ``ratio = 100 * (1 - indel_distance / total_length)`` on the words in order, which forgives a
   transposed pair of letters; token_sort_ratio the same on the words sorted).
   Every word must also pair with a close word on the other side (ratio >= 75), so a different
   house name on the same street is never taken for a typo.
4. **Decide**: equal word lists -> ``address_exact`` (score 100, and the only such candidate);
   else the best candidate with ``score >= min_score`` and ``score - runner_up >= min_margin``
   -> ``address_fuzzy``; otherwise no match (the record falls back to its postcode).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd
from rapidfuzz import fuzz

from pipeline.address.normalise import COUNTIES, ascii_postcode_key, postcode_blocks, split_numbers, tokens

logger = logging.getLogger(__name__)

MIN_SCORE = 90.0
MIN_MARGIN = 5.0
MAX_STREET_WORDS = 4
WORD_SCORE = 75.0


@dataclass(frozen=True)
class Match:
    uprn: str
    level: str  # address_exact | address_fuzzy
    score: float


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    """Whether `phrase` appears in `words` word for word (an empty phrase always does)."""
    n = len(phrase)
    return not n or any(tuple(words[j : j + n]) == phrase for j in range(len(words) - n + 1))


def _ends(token: str) -> tuple[str, ...]:
    return tuple(token.split("-")) if "-" in token else (token,)


def _numbers_overlap(theirs: tuple, mine: tuple) -> bool:
    """Unit numbers equal, and one house number a range with the other as one of its ends:
    "92A" (or "92") and "92-92A"."""
    if theirs[0] != mine[0] or len(theirs[1]) != 1 or len(mine[1]) != 1 or theirs[1] == mine[1]:
        return False
    a, b = theirs[1][0], mine[1][0]
    return ("-" in a) != ("-" in b) and bool(set(_ends(a)) & set(_ends(b)))


def _words_pair_up(mine: list[str], theirs: list[str]) -> bool:
    """Every word on each side has a close counterpart on the other (rapidfuzz ratio >= WORD_SCORE),
    so "Old Forge Cottage, Marlborough Road" cannot pass for "Rose Cottage, Marlborough Road"
    on the strength of the street alone."""
    def covered(a: list[str], b: list[str]) -> bool:
        return all(w in b or max((fuzz.ratio(w, v) for v in b), default=0) >= WORD_SCORE for w in a)

    return covered(mine, theirs) and covered(theirs, mine)


class GazetteerIndex:
    """The gazetteer tokenised once and indexed by postcode, sector, district and (numbers, street).

    ``gaz`` columns: uprn, saon, paon, street, locality, town, postcode, and optionally pc_key (the
    postcode keyed by the SQL macro; without it the postcode is keyed here).
    """

    def __init__(self, gaz: pd.DataFrame, min_score: float = MIN_SCORE, min_margin: float = MIN_MARGIN):
        self.min_score, self.min_margin = min_score, min_margin
        n = len(gaz)
        col = lambda c: gaz[c].fillna("").astype(str).tolist() if c in gaz else [""] * n  # noqa: E731
        self.uprn = col("uprn")
        self.nums: list[tuple] = []
        self.words: list[list[str]] = []
        self.sorted_words: list[str] = []
        self.joined: list[str] = []
        self.area: list[frozenset[str]] = []
        self.by_pc: dict[str, list[int]] = defaultdict(list)
        self.by_sector: dict[str, list[int]] = defaultdict(list)
        self.by_district: dict[str, list[int]] = defaultdict(list)
        self.by_street: dict[tuple, list[int]] = defaultdict(list)
        self.street: list[tuple[str, ...]] = []
        #: place names (every locality and town of the gazetteer, and the counties) by first word
        self.places: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        area_cache: dict[str, frozenset[str]] = {}
        street_cache: dict[str, tuple[str, ...]] = {}
        pc_keys = col("pc_key") if "pc_key" in gaz else [ascii_postcode_key(p) for p in col("postcode")]
        for i, (saon, paon, street, loc, town, pc, key) in enumerate(
            zip(col("saon"), col("paon"), col("street"), col("locality"), col("town"), col("postcode"),
                pc_keys, strict=True)
        ):
            nums, words = split_numbers(tokens(f"{saon} {paon} {street}"))
            self.nums.append(nums)
            self.words.append(words)
            self.sorted_words.append(" ".join(sorted(words)))
            self.joined.append(" ".join(words))
            akey = f"{loc}|{town}"
            if akey not in area_cache:
                area_cache[akey] = frozenset(tokens(f"{loc} {town}"))
                for place in (loc, town):
                    self._add_place(tuple(tokens(place)))
            self.area.append(area_cache[akey])
            if street not in street_cache:
                street_cache[street] = tuple(split_numbers(tokens(street))[1])
            self.street.append(street_cache[street])
            self.by_pc[key].append(i)
            sector, district = postcode_blocks(pc)
            if sector:
                self.by_sector[sector].append(i)
            if district:
                self.by_district[district].append(i)
            self.by_street[(nums, " ".join(tokens(street)))].append(i)

        self.counties: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for county in COUNTIES:
            self._add_place(tuple(tokens(county)), self.counties)
            self._add_place(tuple(tokens(county)))
        for phrases in (*self.places.values(), *self.counties.values()):
            phrases.sort(key=len, reverse=True)

    def _add_place(self, phrase: tuple[str, ...], into: dict | None = None) -> None:
        into = self.places if into is None else into
        if phrase and phrase not in into[phrase[0]]:
            into[phrase[0]].append(phrase)

    def __len__(self) -> int:
        return len(self.uprn)

    def _without_places(self, words: list[str], i: int, places: dict) -> list[str]:
        """The record's words less the place names in them (`places`: the gazetteer's localities and
        towns with the counties, or the counties alone) that the candidate's own address does not hold."""
        own = set(self.words[i])
        out, j = [], 0
        while j < len(words):
            for phrase in places.get(words[j], ()):
                if tuple(words[j : j + len(phrase)]) == phrase and not own.issuperset(phrase):
                    j += len(phrase)
                    break
            else:
                out.append(words[j])
                j += 1
        return out

    def _holds(self, cands: list[int], nums: tuple, words: list[str]) -> bool:
        """Whether some candidate has the record's house number and a street the record names."""
        return any(self.nums[i][1] == nums[1] and _contains(words, self.street[i]) for i in cands)

    def _street_hits(self, nums: tuple, words: list[str]) -> list[int]:
        hits: list[int] = []
        for n in range(1, MAX_STREET_WORDS + 1):
            for j in range(len(words) - n + 1):
                hits += self.by_street.get((nums, " ".join(words[j : j + n])), [])
        return hits

    def _without_area(self, words: list[str], i: int) -> list[str]:
        """The record's words less the candidate's locality and town words, except as many of
        each as the candidate's own address holds ("7 Birch Street, St Anne's" keeps one STREET)."""
        area = self.area[i]
        if not area:
            return words
        spare = {t: words.count(t) - self.words[i].count(t) for t in area}
        out = []
        for w in reversed(words):  # locality and town come last: drop from the end
            if spare.get(w, 0) > 0:
                spare[w] -= 1
            else:
                out.append(w)
        return out[::-1]

    def _decide(self, cands: list[int], nums: tuple, words: list[str], places: dict | None = None,
                loose: bool = False) -> Match | None:
        """The one convincing candidate, or None. `places`: the record's place names (of this dict)
        the candidate lacks are dropped where its number and street agree. `loose`: numbers agree when
        a range holds the other side's number as one of its ends ("92A" and "92-92A"), not only when
        equal."""
        scored: dict[int, float] = {}
        exact: list[int] = []
        for i in dict.fromkeys(cands):
            if self.nums[i] != nums and not (loose and _numbers_overlap(self.nums[i], nums)):
                continue
            mine = self._without_area(words, i)
            text = " ".join(sorted(mine))
            if places and text != self.sorted_words[i] and _contains(mine, self.street[i]):
                # number and street agree: a place name the candidate lacks (a county, a town
                # written twice, the locality of the next estate) says nothing against it
                fewer = self._without_places(mine, i, places)
                if len(fewer) < len(mine):
                    mine, text = fewer, " ".join(sorted(fewer))
            if text == self.sorted_words[i]:
                exact.append(i)
                scored[i] = 100.0
                continue
            if not _words_pair_up(mine, self.words[i]):
                continue
            scored[i] = max(
                fuzz.token_sort_ratio(text, self.sorted_words[i]),
                fuzz.ratio(" ".join(mine), self.joined[i]),
            )
        if len(exact) == 1:
            return Match(self.uprn[exact[0]], "address_exact", 100.0)
        if len(exact) > 1 or not scored:
            return None
        ranked = sorted(scored.values(), reverse=True)
        best = max(scored, key=scored.get)
        runner_up = ranked[1] if len(ranked) > 1 else 0.0
        if ranked[0] >= self.min_score and ranked[0] - runner_up >= self.min_margin:
            return Match(self.uprn[best], "address_fuzzy", round(float(ranked[0]), 1))
        return None

    def match(self, address: str, postcode: str | None, widen: bool) -> Match | None:
        """The gazetteer entry `address` names, or None when none (or more than one) is convincing.

        `widen`: whether the postcode is untrustworthy enough to look beyond its own block.
        """
        nums, words = split_numbers(tokens(address))
        if not words and not nums:
            return None
        block = self.by_pc.get(ascii_postcode_key(postcode), [])
        hit = self._passes(block, nums, words, self.places)
        if hit:
            return hit
        if not widen and self._holds(block, nums, words):
            # a trusted postcode whose block holds the record's number and street: declining there
            # was a decision (a flat number missing, two flats alike), not a wrong postcode
            return None
        sector, district = postcode_blocks(postcode)
        cands = list(self.by_sector.get(sector, []) if sector else self.by_district.get(district, []))
        cands += self._street_hits(nums, words)
        return self._passes(cands, nums, words, self.counties)

    def _passes(self, cands: list[int], nums: tuple, words: list[str], places: dict) -> Match | None:
        """Strict first; only if it finds nothing, drop place names; then let ranges meet numbers.
        A later pass never overrules an earlier one, so a place name that tells two candidates apart
        (the same street in two towns) is used before it is ever dropped. Within the record's own
        postcode any place name may go; beyond it (`places` = counties) a locality or town is the
        evidence of where the address is, and stays."""
        return (self._decide(cands, nums, words) or self._decide(cands, nums, words, places=places)
                or self._decide(cands, nums, words, places=places, loose=True))


def match_frame(index: GazetteerIndex, records: pd.DataFrame) -> pd.DataFrame:
    """Match many records: columns row_number, address, postcode, widen -> row_number, uprn, level, score."""
    out = []
    for rn, addr, pc, widen in zip(
        records["row_number"], records["address"], records["postcode"], records["widen"], strict=True
    ):
        m = index.match(addr, pc, bool(widen))
        if m:
            out.append((rn, m.uprn, m.level, m.score))
    return pd.DataFrame(out, columns=["row_number", "uprn", "level", "score"]).astype(
        {"row_number": "int64", "uprn": "string", "level": "string", "score": "float64"}
    )
