"""Describing segments: grand index, names, the analyst's names file, pen portraits.

Grand index of variable j in segment s (on the untransformed values, percentages):

    GI_sj = 100 * mean_{i in s} x_ij / mean_{i in area} x_ij

(100 = as in the area; 200 = twice as common).  Segments are compared in the standardised space:
score_sj = (c_sj - c_pj) / sd_j,  with c_pj the centre of the parent (the whole area for
supergroups, the supergroup for groups, the group for subgroups) and sd_j the spread of
variable j over the area's OAs.

* **Names** (`segments.naming`): the strongest scores, through the curated vocabulary
  (``spec/descriptors.csv``), make a plain-English noun phrase, unique across the tiers, each
  claim true of the segment's households (the name rule in `segments.naming`):
  "Older owner-occupiers in detached homes", "Married couples with more detached homes".
* **Pen portraits**: a paragraph per segment at every tier: its size (households, OAs, share of
  the area's households), the wards where it is most concentrated (when an OA -> ward lookup is
  given), the characteristics that stand furthest above or below the area in words with their
  grand index ("many more social renters (index 245)"), and what sets it apart from its sibling
  segments.  `portrait_chart` gives the data of a small grand-index chart per segment (its ten
  most distinctive variables).

The names file (``segmentation.names``) is a CSV the analyst edits: ``code,name`` and optionally
``description`` (a pen portrait in words); codes are unique across tiers (``1``, ``1a``, ``1a1``).
`names_template` writes one to start from, holding the automatic names and portraits.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import UserFileNotFoundError, UserValueError
from segments.hierarchy import LEVELS, code_key
from segments.naming import (
    MAX_CHARS,
    MIN_STRENGTH,
    RESTRICTED,
    claims_in,
    name_problems,
    salience,
    shares,
    short_label,
    tier_shares,
    tier_traits,
    traits,
    truthful,
    unique_names,
    vocabulary_from_labels,
)
from segments.palette import supergroup_colours

log = logging.getLogger(__name__)

TOP = 3
NAME_COLUMNS = ["level", "segment", "segment_name", "description", "colour"]
PORTRAIT_COLUMNS = ["level", "segment", "segment_name", "households", "oas", "distinctive",
                    "description", "colour", "automatic_name"]
CHART_COLUMNS = ["level", "segment", "rank", "variable", "label", "index", "score"]
#: Variables in a segment's grand-index chart, and characteristics named in its portrait.
CHART_VARIABLES = 10
PORTRAIT_ABOVE, PORTRAIT_BELOW, PORTRAIT_RESTRICTED = 4, 3, 2
_NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "ten", "eleven", "twelve"]


def read_names(path: Path | str | None) -> pd.DataFrame:
    """The analyst's names file -> DataFrame indexed by code with columns name, description."""
    if path is None:
        return pd.DataFrame(columns=["name", "description"])
    path = Path(path)
    if not path.exists():
        raise UserFileNotFoundError(f"segment names file not found: {path} (segmentation.names)")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table.columns = [c.strip().lower() for c in table.columns]
    if not {"code", "name"} <= set(table.columns):
        raise UserValueError(f"{path}: a segment names file needs the columns code,name "
                         f"(and optionally description); found {list(table.columns)}")
    if "description" not in table.columns:
        table["description"] = ""
    table = table.apply(lambda c: c.str.strip())
    dups = sorted(set(table["code"][table["code"].duplicated()]))
    if dups:
        raise UserValueError(f"{path}: the code(s) {dups} appear more than once; give each one row")
    return table.set_index("code")[["name", "description"]]


def levels_of(codes: pd.DataFrame) -> list[str]:
    return [lv for lv in LEVELS if lv in codes.columns]


def grand_index(codes: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """Long table level, segment, variable, index (100 x segment mean / area mean)."""
    if values.empty:
        return pd.DataFrame(columns=["level", "segment", "variable", "index"])
    v = values.loc[codes["oa21cd"]]
    area = v.mean().replace(0.0, np.nan)
    frames = []
    for level in levels_of(codes):
        means = v.groupby(codes[level].to_numpy()).mean()
        gi = (100 * means / area).round(1)
        gi = gi.loc[sorted(gi.index, key=code_key)]
        long = gi.stack(future_stack=True).rename("index").reset_index()
        long.columns = ["segment", "variable", "index"]
        long.insert(0, "level", level)
        frames.append(long)
    return pd.concat(frames, ignore_index=True)


def _parent(level: str) -> str | None:
    i = LEVELS.index(level)
    return LEVELS[i - 1] if i else None


def _count(n: int) -> str:
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else f"{n:,}"


def _join(items: list[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _amount(index: float) -> str:
    """Words for a grand index: "many more" (200+) ... "far fewer" (under 50)."""
    if index >= 200:
        return "many more"
    if index >= 125:
        return "more"
    if index > 100:
        return "somewhat more"
    if index < 50:
        return "far fewer"
    if index < 80:
        return "fewer"
    return "somewhat fewer"


def index_text(index: float) -> str:
    """The grand index as a portrait quotes it: ``"(index 245)"``."""
    return f"(index {index:.0f})"


class _Frame:
    """Centres and spreads of one tier, for names and portraits."""

    def __init__(self, codes: pd.DataFrame, matrix: pd.DataFrame, values: pd.DataFrame):
        oas = codes["oa21cd"]
        self.m = matrix.loc[oas] if not matrix.empty else pd.DataFrame(index=oas)
        self.v = values.loc[oas] if not values.empty else pd.DataFrame(index=oas)
        self.sd = self.m.std(ddof=0).replace(0.0, np.nan)
        self.area = self.m.mean()
        self.codes = codes
        self._cache: dict[tuple[str, str], pd.DataFrame] = {}

    def centres(self, level: str) -> pd.DataFrame:
        key = ("m", level)
        if key not in self._cache:
            self._cache[key] = self.m.groupby(self.codes[level].to_numpy()).mean()
        return self._cache[key]

    def raw(self, level: str) -> pd.DataFrame:
        key = ("v", level)
        if key not in self._cache:
            self._cache[key] = self.v.groupby(self.codes[level].to_numpy()).mean()
        return self._cache[key]


def _ward_sentence(members: np.ndarray, hh: np.ndarray, wards: np.ndarray | None,
                   total: pd.Series | None, unit: str) -> str:
    """Where the segment is most concentrated: up to three wards where its share of the ward's
    households (OAs without household counts) is highest and above its share of the area.
    total: households per ward."""
    if wards is None or total is None:
        return ""
    inside = members & pd.notna(wards)
    if not inside.any():
        return ""
    mine = pd.Series(hh[inside]).groupby(wards[inside]).sum()
    share = (100 * mine / total.reindex(mine.index)).dropna()
    overall = 100 * mine.sum() / max(total.sum(), 1)
    share = share[share > overall] if (share > overall).any() else share
    top = share.sort_values(ascending=False, kind="stable").head(3)
    if top.empty:
        return ""
    pct = [f"{max(p, 1):.0f}%" for p in top]
    if len(top) == 1:
        return (f"It is most concentrated in {top.index[0]}, where it makes up {pct[0]} of "
                f"{unit}.")
    return (f"It is most concentrated in {_join(list(top.index))}, where it makes up "
            f"{_join(pct)} of {unit} respectively.")


def _characteristics(z_area: pd.Series, delta: pd.Series, gi: pd.Series, vocab: pd.DataFrame
                     ) -> list[tuple[str, float]]:
    """(variable, index) of the characteristics a portrait names: the most distinctive against
    the area first (`naming.salience`), up to four above and three below, those at least 10
    index points from 100 when there are three or more such, always at least three when the
    variables allow; at most PORTRAIT_RESTRICTED of ethnicity, country of birth, religion and
    language, so the other domains are described too."""
    strength = salience(z_area, delta)
    order = [v for v in strength.sort_values(ascending=False, kind="stable").index
             if v in gi.index and np.isfinite(gi[v]) and round(gi[v]) != 100
             and v in vocab.index]
    restricted = set(vocab.index[vocab["domain"] == RESTRICTED])
    kept = [v for v in order if v in restricted][:PORTRAIT_RESTRICTED]
    order = [v for v in order if v not in restricted or v in kept]
    clear = [v for v in order if abs(gi[v] - 100) >= 10]
    pool = clear if len(clear) >= 3 else order
    above = [v for v in pool if gi[v] > 100][:PORTRAIT_ABOVE]
    below = [v for v in pool if gi[v] < 100][:PORTRAIT_BELOW]
    chosen = [v for v in pool if v in above or v in below]
    for v in order:  # fewer than three: fill up in order
        if len(chosen) >= 3:
            break
        if v not in chosen:
            chosen.append(v)
    return [(v, float(gi[v])) for v in chosen]


def _area_sentence(chars: list[tuple[str, float]], vocab: pd.DataFrame) -> str:
    def phrase(v: str, index: float) -> str:
        return f"{_amount(index)} {vocab.at[v, 'what']} {index_text(index)}"

    above = [phrase(v, i) for v, i in chars if i > 100]
    below = [phrase(v, i) for v, i in chars if i < 100]
    parts = [_join(above), _join(below)]
    body = ", and ".join(p for p in parts if p) if all(parts) else "".join(parts)
    return f"Compared with the area it has {body}." if body else ""


def _sibling_sentence(code: str, siblings: list[str], raw: pd.DataFrame, sd: pd.Series,
                      gi: pd.Series, vocab: pd.DataFrame, intro: str, others_word: str) -> str:
    """What sets a segment apart from its siblings, in words (no numbers: the grand index is
    against the area, this is a comparison among the siblings): where it has the most or the
    fewest of something among three or more, else more or fewer than the others on average;
    never by ethnicity, country of birth, religion or language."""
    others = [s for s in siblings if s != code]
    if not others or raw.empty:
        return ""
    what = vocab.loc[vocab["domain"] != RESTRICTED, "what"]  # circumstances, not groups
    own = raw.loc[code]
    rest = raw.loc[others]
    sd = sd.replace(0.0, np.nan)

    def ranked(gap: pd.Series, cap: int, side: int, any_side: bool = False) -> list[str]:
        gap = gap[gap.index.isin(what.index)].dropna()
        strength = salience(gap / sd.reindex(gap.index), gap).dropna()
        keep = [v for v in strength.sort_values(ascending=False, kind="stable").index
                if gap[v] * side > 0 and strength[v] >= MIN_STRENGTH
                and (any_side or (gi.get(v, 100) - 100) * side > 0)]
        return [what[v] for v in keep[:cap]]

    if len(others) > 1:
        parts = [f"the most {w}" for w in ranked(own - rest.max(), 2, 1)] + \
            [f"the fewest {w}" for w in ranked(own - rest.min(), 1, -1)]
        if parts:
            return f"{intro} it has {_join(parts)}."
        intro = f"Compared with the other {_count(len(others))} {others_word}"
    diff = own - rest.mean()
    parts = [f"more {w}" for w in ranked(diff, 2, 1, True)] + \
        [f"fewer {w}" for w in ranked(diff, 1, -1, True)]
    return f"{intro} it has {_join(parts)}." if parts else ""


def _automatic_names(codes: pd.DataFrame, frame: _Frame, vocab: pd.DataFrame | None,
                     weight: np.ndarray | None = None) -> dict[tuple[str, str], str]:
    """The automatic names, tier by tier from the top (unique across the tiers), each trait a
    claim that holds for the segment's households or a comparison (`naming.truthful`), and
    below the top tier no claim that contradicts a claim of the parent's name still holding
    for the segment;
    weight: households per row of `codes` (None: every OA counts once)."""
    out: dict[tuple[str, str], str] = {}
    area_share = None
    if vocab is not None and not frame.v.empty:
        area_share = shares(frame.v, np.ones(len(frame.v), bool), weight, frame.v.mean()).weighted
    for level in levels_of(codes):
        tier = sorted(codes[level].unique(), key=code_key)
        words = vocab is not None and (vocab["high"].ne("") | vocab["low"].ne("")).any()
        if not words or frame.m.empty:  # no census variables, or none the vocabulary knows
            out.update({(level, c): f"Segment {c}" for c in tier})
            continue
        parent = _parent(level)
        centres = frame.centres(level)
        if parent is None:
            ref = {c: frame.area for c in tier}
        else:
            pc = frame.centres(parent)
            first = codes.drop_duplicates(level).set_index(level)[parent]
            ref = {c: pc.loc[first[c]] for c in tier}
        raw = frame.raw(level)
        if parent is None:
            raw_ref = {c: frame.v.mean() for c in tier}
        else:
            praw = frame.raw(parent)
            raw_ref = {c: praw.loc[first[c]] for c in tier}
        z_area = {c: ((centres.loc[c] - frame.area) / frame.sd).fillna(0.0) for c in tier}
        z_parent = {c: ((centres.loc[c] - ref[c]) / frame.sd).fillna(0.0) for c in tier}
        delta = {c: raw.loc[c] - raw_ref[c] for c in tier}
        if parent is None:
            candidates = {c: traits(z_parent[c], vocab, None, delta[c]) for c in tier}
        else:
            area_delta = raw.sub(frame.v.mean(), axis=1)
            candidates = {c: tier_traits(traits(z_parent[c], vocab, z_area[c], delta[c]),
                                         traits(z_area[c], vocab, None, area_delta.loc[c]))
                          for c in tier}
        rule = None
        if area_share is not None:  # the name rule: claims that hold, else comparisons
            held = tier_shares(frame.v, codes[level].to_numpy(), weight, area_share)

            # below the top tier, the claims of the parent's name (named already, top down)
            above = {c: [] if parent is None else
                     [(v, sd) for _, v, sd, claim in claims_in(out[(parent, first[c])], vocab)
                      if claim and v in vocab.index] for c in tier}

            def rule(c: str, ts: list, held=held, above=above) -> list:
                return truthful(ts, held[c], vocab, above[c])

            candidates = {c: rule(c, ts) for c, ts in candidates.items()}

        def contrast(c: str, others: list[str], centres=centres, raw=raw
                     ) -> tuple[pd.Series, pd.Series]:
            return (((centres.loc[c] - centres.loc[others].mean()) / frame.sd).fillna(0.0),
                    raw.loc[c] - raw.loc[others].mean())

        names = unique_names(candidates, level, contrast, vocab, z_area,
                             taken={n for (lv, _), n in out.items() if lv != level}, rule=rule)
        twins = pd.Series(names)[pd.Series(names).duplicated(keep=False)]
        if len(twins):
            log.warning("%s names that could not be told apart (the segments hardly differ): "
                        "%s; give them names in the names file", level, dict(twins))
        out.update({(level, c): n for c, n in names.items()})
    return out


def portrait_chart(codes: pd.DataFrame, matrix: pd.DataFrame, values: pd.DataFrame,
                   labels: dict[str, str], vocabulary: pd.DataFrame | None = None
                   ) -> pd.DataFrame:
    """The data of each segment's grand-index chart: its CHART_VARIABLES most distinctive
    variables against the area (largest |score| in the standardised space), with the grand
    index (from `grand_index`) and a plain-English label; CHART_COLUMNS."""
    if matrix.empty or values.empty:
        return pd.DataFrame(columns=CHART_COLUMNS)
    vocab = vocabulary if vocabulary is not None else vocabulary_from_labels(labels,
                                                                            matrix.columns)
    frame = _Frame(codes, matrix, values)
    gi = grand_index(codes, values).set_index(["level", "segment", "variable"])["index"] \
        .sort_index()
    rows = []
    for level in levels_of(codes):
        centres = frame.centres(level)
        raw = frame.raw(level)
        for code in sorted(centres.index, key=code_key):
            z = ((centres.loc[code] - frame.area) / frame.sd).dropna()
            g = gi.loc[(level, code)]
            z = z[[v for v in z.index if v in g.index and np.isfinite(g[v])]]
            strength = salience(z, raw.loc[code] - frame.v.mean())
            order = strength.sort_values(ascending=False, kind="stable").index[:CHART_VARIABLES]
            for rank, v in enumerate(order, start=1):
                label = vocab.at[v, "what"] if v in vocab.index else labels.get(v, v)
                rows.append((level, code, rank, v, label, float(g[v]), round(float(z[v]), 3)))
    return pd.DataFrame(rows, columns=CHART_COLUMNS)


def describe(codes: pd.DataFrame, matrix: pd.DataFrame, values: pd.DataFrame,
             labels: dict[str, str], names: pd.DataFrame | None = None,
             households: pd.Series | None = None, vocabulary: pd.DataFrame | None = None,
             wards: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(names table, pen portraits) for every tier present in `codes`.

    names: one row per code per level with NAME_COLUMNS, the name from the names file or the
    automatic one, the description from the names file or the automatic pen portrait.
    pen portraits: PORTRAIT_COLUMNS, the size in households (when `households` per OA is given)
    and OAs, the distinctive variables judged and indexed against the parent (the area for
    supergroups: `distinctive_text`), the portrait and the automatic name.
    vocabulary: `segments.naming.vocabulary` of the spec (default: matched from `labels`);
    wards: ward name per OA (index oa21cd), for where each segment is most concentrated.
    """
    names = names if names is not None else read_names(None)
    colours = supergroup_colours(sorted(codes["supergroup"].unique(), key=code_key))
    hh = None if households is None else households.reindex(codes["oa21cd"]).to_numpy(float)
    weight = np.ones(len(codes)) if hh is None else np.nan_to_num(hh)
    unit = "households" if hh is not None else "Output Areas"
    ward_of = None if wards is None else wards.reindex(codes["oa21cd"]).to_numpy(object)
    ward_total = None
    if ward_of is not None and pd.notna(ward_of).any():
        known = pd.notna(ward_of)
        ward_total = pd.Series(weight[known]).groupby(ward_of[known]).sum()
    gi_long = grand_index(codes, values)
    gi = gi_long.set_index(["level", "segment", "variable"])["index"].sort_index() \
        if len(gi_long) else None
    vocab = None
    if not matrix.empty:
        vocab = vocabulary if vocabulary is not None else vocabulary_from_labels(
            labels, matrix.columns)
    frame = _Frame(codes, matrix, values)
    auto = _automatic_names(codes, frame, vocab, hh)
    final = {key: names["name"].get(key[1]) or n for key, n in auto.items()}
    for (level, code), n in final.items():
        if n != auto[(level, code)]:
            for problem in name_problems(n, MAX_CHARS.get(level)):
                log.warning("segment %s (%s): the name %r from the names file: %s", code, level,
                            n, problem)
    total = float(weight.sum()) or 1.0
    rows, portraits = [], []
    for level in levels_of(codes):
        parent = _parent(level)
        raw = frame.raw(level) if not frame.v.empty else pd.DataFrame()
        sd_raw = frame.v.std(ddof=0) if not frame.v.empty else pd.Series(dtype=float)
        centres = frame.centres(level) if not frame.m.empty else pd.DataFrame()
        parent_of = codes.drop_duplicates(level).set_index(level)[parent] if parent else None
        parent_centres = frame.centres(parent) if parent and not frame.m.empty else None
        labels_at, uniques = pd.factorize(codes[level])
        position = {c: i for i, c in enumerate(uniques)}
        supergroup_of = dict(zip(codes[level], codes["supergroup"], strict=True))
        for code in sorted(uniques, key=code_key):
            members = labels_at == position[code]
            sg = supergroup_of[code]
            z_area = pd.Series(dtype=float)
            reference = f"its parent ({parent} {parent_of[code]})" if parent else "the area"
            distinctive = f"Against {reference}: no census variables."
            if not centres.empty:
                pref = parent_centres.loc[parent_of[code]] if parent else frame.area
                score = ((centres.loc[code] - pref) / frame.sd).fillna(0.0)
                z_area = ((centres.loc[code] - frame.area) / frame.sd).fillna(0.0)
                raw_ref = frame.raw(parent).loc[parent_of[code]] if parent else frame.v.mean()
                distinctive = distinctive_text(score, raw.loc[code], raw_ref, labels, reference)
            n_oa = int(members.sum())
            n_hh = int(np.nansum(hh[members])) if hh is not None else None
            text = names["description"].get(code) or ""
            if not text:
                seg_gi = gi.loc[(level, code)] if gi is not None else pd.Series(dtype=float)
                text = _portrait(level, code, parent, parent_of, final, n_oa, n_hh,
                                 100 * float(weight[members].sum()) / total,
                                 _ward_sentence(members, weight, ward_of, ward_total, unit),
                                 z_area, seg_gi, vocab, raw, sd_raw, frame.v.mean(), codes)
            colour = colours[sg]
            name = final[(level, code)]
            rows.append((level, code, name, text, colour))
            portraits.append((level, code, name, n_hh, n_oa, distinctive, text, colour,
                              auto[(level, code)]))
    named = pd.DataFrame(rows, columns=NAME_COLUMNS)
    pens = pd.DataFrame(portraits, columns=PORTRAIT_COLUMNS)
    pens["households"] = pens["households"].astype("Int64")
    return named, pens


def distinctive_text(score: pd.Series, raw: pd.Series, raw_ref: pd.Series,
                     labels: dict[str, str], reference: str) -> str:
    """The ``distinctive`` column: the `TOP` variables on which a segment stands furthest above
    and below its reference (its parent below the top tier, the area for supergroups) in the
    standardised space, each with its index against that same reference,
    100 x segment mean / reference mean; a variable is over-represented only with an index
    above 100 (as rounded) and under-represented only below."""
    index = (100 * raw / raw_ref.replace(0.0, np.nan)).reindex(score.index)
    shown = index.round()
    order = score.sort_values(ascending=False, kind="stable")
    high = [v for v in order.index if order[v] > 0 and shown.get(v, 100) > 100][:TOP]
    low = [v for v in order.index[::-1] if order[v] < 0 and shown.get(v, 100) < 100][:TOP]

    def fmt(vs: list[str]) -> str:
        return ", ".join(f"{labels.get(v, v)} {index_text(index[v])}" for v in vs) or "none"

    return (f"Against {reference}: over-represented: {fmt(high)}; under-represented: "
            f"{fmt(low)}.")


_TIER_WORDS = {"supergroup": "supergroups", "group": "groups", "subgroup": "subgroups"}


def _portrait(level: str, code: str, parent: str | None, parent_of: pd.Series | None,
              final: dict[tuple[str, str], str], n_oa: int, n_hh: int | None, share: float,
              wards: str, z_area: pd.Series, gi: pd.Series, vocab: pd.DataFrame | None,
              raw: pd.DataFrame, sd_raw: pd.Series, raw_area: pd.Series,
              codes: pd.DataFrame) -> str:
    """The automatic pen portrait of one segment (see the module docstring)."""
    oas = f"{n_oa:,} Output Area{'s' if n_oa != 1 else ''}"
    if n_hh is not None:
        size = f"{n_hh:,} households in {oas}, {share:.1f}% of the area's households."
    else:
        size = f"{oas}, {share:.1f}% of the area's Output Areas."
    if parent is not None:
        p = parent_of[code]
        size = size[:-1] + f", within {parent} {p} ({final[(parent, p)]})."
    sentences = [size, wards]
    if vocab is not None and len(z_area) and len(gi):
        chars = _characteristics(z_area, raw.loc[code] - raw_area, gi, vocab)
        sentences.append(_area_sentence(chars, vocab))
        if parent is None:
            siblings = sorted(codes[level].unique(), key=code_key)
            where = ""
        else:
            siblings = sorted(codes.loc[codes[parent] == parent_of[code], level].unique(),
                              key=code_key)
            where = f" in {parent} {parent_of[code]}"
        intro = (f"Of the {_count(len(siblings))} {_TIER_WORDS[level]}{where}"
                 if len(siblings) > 2 else f"Compared with the other {level}{where}")
        sentences.append(_sibling_sentence(code, siblings, raw, sd_raw, gi, vocab, intro,
                                           _TIER_WORDS[level] + where))
    return " ".join(s for s in sentences if s)


def names_template(named: pd.DataFrame) -> pd.DataFrame:
    """A names file to edit: code, level, name and description (the names and pen portraits in
    use: the automatic ones, or the names file's where it gave them)."""
    return pd.DataFrame({"code": named["segment"], "level": named["level"],
                         "name": named["segment_name"], "description": named["description"]})


__all__ = ["describe", "distinctive_text", "grand_index", "read_names", "names_template", "portrait_chart",
           "levels_of", "short_label", "index_text", "NAME_COLUMNS", "PORTRAIT_COLUMNS",
           "CHART_COLUMNS"]
