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

from pipeline.address.normalise import pc_key, postcode_blocks, split_numbers, tokens

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
        area_cache: dict[str, frozenset[str]] = {}
        pc_keys = col("pc_key") if "pc_key" in gaz else [pc_key(p) for p in col("postcode")]
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
            self.area.append(area_cache[akey])
            self.by_pc[key].append(i)
            sector, district = postcode_blocks(pc)
            if sector:
                self.by_sector[sector].append(i)
            if district:
                self.by_district[district].append(i)
            self.by_street[(nums, " ".join(tokens(street)))].append(i)

    def __len__(self) -> int:
        return len(self.uprn)

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

    def _decide(self, cands: list[int], nums: tuple, words: list[str]) -> Match | None:
        scored: dict[int, float] = {}
        exact: list[int] = []
        for i in dict.fromkeys(cands):
            if self.nums[i] != nums:
                continue
            mine = self._without_area(words, i)
            text = " ".join(sorted(mine))
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
        hit = self._decide(self.by_pc.get(pc_key(postcode), []), nums, words)
        if hit or not widen:
            return hit
        sector, district = postcode_blocks(postcode)
        cands = self.by_sector.get(sector, []) if sector else self.by_district.get(district, [])
        return self._decide(list(cands) + self._street_hits(nums, words), nums, words)


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
