"""Build every view of every (sub-)service and register its counts in a count graph.

The views are numeric and unsuppressed (private); the publication step
(:mod:`pipeline.publish`) decides from the graph which counts to hide.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field as default

import duckdb
import pandas as pd
from tqdm import tqdm

from pipeline.config import RunConfig
from pipeline.ingest import option_column
from pipeline.profiles import access, channels, deprivation, equality, gaps, levels, outcomes, trends, wards
from pipeline.profiles.cells import CountGraph
from pipeline.profiles.table import profile_table, with_uncertainty
from pipeline.warehouse import execute, ident

logger = logging.getLogger(__name__)

YES_VALUES = ("yes", "y", "true", "1")
TOTAL = ("total",)


@dataclass
class ServiceProfile:
    """The numeric views of one (sub-)service and the graph of their counts.

    ``keys[view]`` gives each row's key in ``graph``; ``derived[view]`` (targets) gives per row
    the keys whose hiding hides the row (None: every row's counts are never published);
    ``previous[view]`` (trends) the key of the previous period's cell a change is derived from.
    ``notes[view]``: footnotes that travel with the published view; ``incomplete``: the views
    marked incomplete (too many codes not recognised: kept out of the headlines).
    """

    views: dict[str, pd.DataFrame] = default(default_factory=dict)
    keys: dict[str, list] = default(default_factory=dict)
    derived: dict[str, list | None] = default(default_factory=dict)
    previous: dict[str, list] = default(default_factory=dict)
    graph: CountGraph = default(default_factory=CountGraph)
    #: views masked cell by cell (outcomes): view -> {count column: per-row keys}
    cells: dict[str, dict[str, list]] = default(default_factory=dict)
    notes: dict[str, list[str]] = default(default_factory=dict)
    incomplete: set[str] = default(default_factory=set)

    def profile_view(self, view: str, frame: pd.DataFrame, keys: list) -> None:
        body = frame.iloc[:-1]
        self.graph.table(keys, body["service_count"], TOTAL, frame["service_count"].iloc[-1])
        self.views[view], self.keys[view] = frame, [*keys, TOTAL]


def _level_views(b: ServiceProfile, geo, users, lv, names) -> None:
    for col, view in lv:
        prof = with_uncertainty(profile_table(levels.grouped_counts(geo, users, col, names[view])))
        b.profile_view(view, prof, [(view, c) for c in prof["segment_code"].iloc[:-1]])
    for (parent_col, parent), (child_col, child) in zip(lv, lv[1:], strict=False):
        pairs = geo[[parent_col, child_col]].drop_duplicates()
        if pairs[child_col].duplicated().any():
            logger.warning("level %s does not nest in %s: no relation registered", child, parent)
            continue
        for p, part in pairs.groupby(parent_col):
            b.graph.relate((parent, p), [(child, c) for c in part[child_col]])


def _area_views(b: ServiceProfile, geo, users, names, postcodes) -> None:
    ward = wards.ward_profile(geo, users)
    b.profile_view("ward", ward, [("ward", c) for c in ward["segment_code"].iloc[:-1]])
    ws = wards.ward_segment_profile(geo, users, names)
    body = ws.iloc[:-1]
    ws_keys = [("ws", w, s) for w, s in zip(body["ward_code"], body["segment"], strict=True)]
    b.profile_view("ward_segment", ws, ws_keys)
    by_ward, by_seg = defaultdict(list), defaultdict(list)
    for k in ws_keys:
        by_ward[k[1]].append(k)
        by_seg[k[2]].append(k)
    for w, ks in by_ward.items():
        b.graph.relate(("ward", w), ks)
    for s, ks in by_seg.items():
        b.graph.relate(("segment", s), ks)
    targets = gaps.target_segments(b.views["segment"])
    tw = gaps.target_wards(ws, targets)
    toa = gaps.target_oas(geo, users, targets, names, postcodes)
    # OAs ranked by non-users here (their counts are never published); wards at publication,
    # where a ward whose count is hidden is ranked by its households (gaps.rank)
    b.views["targets_ward"] = tw
    b.views["targets_oa"] = gaps.rank(toa, pd.Series(True, index=toa.index))[0]
    # target lists publish households and rank, not users: a ward's target users are a sum of
    # ward x segment cells that could pin down hidden ones (see gaps.py)
    b.derived["targets_ward"] = None
    b.derived["targets_oa"] = None


def _equality_views(b, con, table, unit, fields, census, service) -> None:
    """The equality views of the fields the extract carries (the equality package), their counts and the
    relations between them (detailed ethnic groups add up to broad ones; disability types, when
    records are counted, to the disabled users)."""
    options = equality.Options.of(service)
    found = []
    for field in fields:
        if field == "disability_type":
            by = "disability, " if "disability" in fields else ""
            raw = execute(con, "equality_disability_type", disability_type_sql(table, unit, bool(by)),
                          fetch="df")
            found.append(equality.disability_type_view(raw, options, bool(by) and unit == "records"))
            continue
        raw = execute(con, f"equality_{field}", category_sql(table, unit, field), fetch="df")
        if field == "age_band":
            found.append(equality.age_view(raw["code"], raw["users"], census, options))
        elif field == "ethnicity":
            found += equality.ethnicity_views(raw["code"], raw["users"], census, options)
        else:
            found.append(equality.category_view(field, raw["code"], raw["users"], census, options))
    for v in found:
        body = v.frame["service_count"]
        b.graph.table(v.keys[:-1], body.iloc[:-1], v.keys[-1], body.iloc[-1])
        b.views[v.view], b.keys[v.view], b.notes[v.view] = v.frame, v.keys, v.notes
        if v.incomplete:
            b.incomplete.add(v.view)
    for v in found:
        for total, parts in v.relations:
            b.graph.relate(total, parts)


def disability_type_sql(table: str, unit: str, with_disability: bool) -> str:
    """Users (counted by `unit`) of `table` by disability type (and by disability when recorded)."""
    by = "disability, " if with_disability else ""
    return (f"SELECT {by}disability_type AS code, {levels.UNIT_SQL[unit]} AS users FROM {ident(table)} "
            "GROUP BY ALL ORDER BY ALL")


def category_sql(table: str, unit: str, field: str) -> str:
    """Users (counted by `unit`) of `table` by the values of one equality field."""
    return (f"SELECT {ident(field)} AS code, {levels.UNIT_SQL[unit]} AS users FROM {ident(table)} "
            "GROUP BY 1 ORDER BY 1")


def channel_sql(table: str, unit: str) -> str:
    """Users (counted by `unit`) of `table` by OA and channel."""
    return (f"SELECT oa21cd, channel, {levels.UNIT_SQL[unit]} AS users FROM {ident(table)} "
            "GROUP BY 1, 2 ORDER BY 1, 2")


def trend_sql(table: str, unit: str, period: str) -> str:
    """Users (counted by `unit`) of `table` by OA and period (`trends.period_sql`: the one date rule)."""
    return f"""WITH p AS (SELECT date, {trends.period_sql(period)} AS period
                       FROM (SELECT DISTINCT date FROM {ident(table)}))
            SELECT oa21cd, p.period, {levels.UNIT_SQL[unit]} AS users
            FROM {ident(table)} t LEFT JOIN p ON t.date IS NOT DISTINCT FROM p.date
            GROUP BY 1, 2 ORDER BY 1, 2"""


def any_service_sql(tables: list[str]) -> str:
    """Households using any of the assign `tables`, each counted once (household key), per OA."""
    union = " UNION ALL ".join(f"SELECT oa21cd, household_key FROM {ident(t)}" for t in tables)
    return f"SELECT oa21cd, count(DISTINCT household_key) AS users FROM ({union}) GROUP BY 1"


def _channel_view(b, con, table, unit, geo, names, exact: bool) -> None:
    raw = execute(con, "channels", channel_sql(table, unit), fetch="df")
    raw["channel"] = raw["channel"].map({c: channels.normalise_channel(c) for c in raw["channel"].unique()})
    raw["segment"] = raw["oa21cd"].map(geo.set_index("oa21cd")["segment"])
    prof = channels.channel_profile(raw, names)
    keys = [("ch", s, c) if s != "Total" else ("chT", c)
            for s, c in zip(prof["segment_code"], prof["channel"], strict=True)]
    for k, v in zip(keys, prof["service_count"], strict=True):
        b.graph.add(k, v)
    body = [k for k in keys if k[0] == "ch"]
    for c in prof["channel"].unique():
        b.graph.relate(("chT", c), [k for k in body if k[2] == c])
    if exact:
        b.graph.relate(TOTAL, [k for k in keys if k[0] == "chT"])
        for s in prof["segment_code"].unique():
            if s != "Total":
                b.graph.relate(("segment", s), [k for k in body if k[1] == s])
    b.views["channels"], b.keys["channels"] = prof, keys


def _trend_view(b, con, table, unit, period, geo, names, exact: bool) -> None:
    raw = execute(con, "trends", trend_sql(table, unit, period), fetch="df")
    if raw.empty:
        logger.warning("no matched records with a date: no trends view")
        return
    frames = []
    for p, part in raw.groupby("period"):
        c = levels.grouped_counts(geo, part.set_index("oa21cd")["users"], "segment", names)
        frames.append(c.assign(period=p))
    prof = trends.trend_profile(pd.concat(frames, ignore_index=True))
    keys = [("tr", p, s) if s != "Total" else ("trT", p)
            for p, s in zip(prof["period"], prof["segment_code"], strict=True)]
    for k, v in zip(keys, prof["service_count"], strict=True):
        b.graph.add(k, v)
    for p in prof["period"].unique():
        b.graph.relate(("trT", p), [k for k in keys if k[0] == "tr" and k[1] == p])
    if exact:
        b.graph.relate(TOTAL, [k for k in keys if k[0] == "trT"])
        for s in prof.loc[prof["segment_code"] != "Total", "segment_code"].unique():
            b.graph.relate(("segment", s), [k for k in keys if k[0] == "tr" and k[2] == s])
    b.views["trends"], b.keys["trends"] = prof, keys
    # a change in index reveals the previous period's index: hidden when either period's count is
    prev_key = {}
    periods = [p for p in dict.fromkeys(prof["period"]) if p != "unknown"]
    for a, c in zip(periods, periods[1:], strict=False):
        prev_key[c] = a
    b.previous["trends"] = [("tr", prev_key.get(p), s) if p in prev_key and s != "Total" else None
                             for p, s in zip(prof["period"], prof["segment_code"], strict=True)]


def profiles_for(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict[str, ServiceProfile]:
    """Numeric views and count graph per (sub-)service: {'stop_smoking': ServiceProfile, ...}."""
    lv = levels.levels(con)
    names = {view: levels.segment_names(con, view) for _, view in lv}
    postcodes = execute(con, "oa_postcodes", """SELECT oa21cd, string_agg(pcds, '; ' ORDER BY pcds)
           FROM ref_postcodes WHERE is_live AND oa21cd IS NOT NULL GROUP BY 1""",
                        fetch="df").set_index("oa21cd").iloc[:, 0]
    out = {}
    geos: dict[str, pd.DataFrame] = {}
    census: equality.AreaCensus | None = None
    area_dep = None
    for service in tqdm(cfg.services, desc="profiles", unit="service", leave=False):
        table = f"assign_{service.name}"
        base = getattr(service, "base", "households")
        unit = getattr(service, "count", "records")
        if base not in geos:
            geos[base] = levels.area_frame(con, cfg, base)
        geo = geos[base]
        if area_dep is None and cfg.deprivation is not None:  # every OA's LSOA and deciles, once a run
            area_dep = deprivation.area_deprivation(con, cfg, list(geo["oa21cd"]))
        if census is None:
            census = equality.AreaCensus(cfg, list(geo["oa21cd"]))
        subs: dict[str, str | None] = {service.name: None}  # (sub-)service -> its option column
        for opt in service.options:
            col = option_column(opt)
            subs[f"{service.name}__{col.removeprefix('option_')}"] = col
        for name, option in subs.items():
            users = levels.oa_users(con, table, option, unit, YES_VALUES).set_index("oa21cd")["users"]
            b = ServiceProfile()
            _level_views(b, geo, users, lv, names)
            _area_views(b, geo, users, names["segment"], postcodes)
            if area_dep is not None:
                deprivation.deprivation_views(b, geo, users, area_dep)
            if name == service.name:
                exact = unit == "records"
                present = service.stored_fields & {*equality.FIELDS, "channel", "date"}
                fields = [f for f in equality.FIELDS if f in present]
                _equality_views(b, con, table, unit, fields, census, service)
                if "channel" in present:
                    _channel_view(b, con, table, unit, geo, names["segment"], exact)
                if "date" in present:
                    _trend_view(b, con, table, unit, getattr(service, "period", None) or "year", geo,
                                names["segment"], exact)
                outcomes.outcome_views(b, con, table, service, geo, lv, names, fields, exact,
                                       deprivation.outcome_dimensions(geo, area_dep))
                access.access_views(b, con, cfg, service, geo, users, names["segment"])
                deprivation.access_by_decile(b, area_dep)
            out[name] = b
    return out


def cross_service(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> ServiceProfile:
    """Households using any service, each counted once (household key), by segment: the
    'any_service' column of the cross-service matrix."""
    users = execute(con, "any_service", any_service_sql([f"assign_{s.name}" for s in cfg.services]),
                    fetch="df").set_index("oa21cd")["users"]
    geo = levels.area_frame(con, cfg)
    b = ServiceProfile()
    _level_views(b, geo, users, [("segment", "segment")], {"segment": levels.segment_names(con, "segment")})
    return b


@dataclass
class ProfileRun:
    """What the profile stage hands to publication: every (sub-)service and 'any service'."""

    services: dict[str, ServiceProfile]
    any_service: ServiceProfile
    #: per segment, % of its households in the most deprived LSOAs (census only; None: no deprivation)
    segment_deprivation: pd.DataFrame | None = None


def run(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> ProfileRun:
    """Every (sub-)service's numeric, unsuppressed profile, households using any service and the
    segments' shares of households in the most deprived LSOAs."""
    shares = None
    if cfg.deprivation is not None:
        geo = levels.area_frame(con, cfg)
        area = deprivation.area_deprivation(con, cfg, list(geo["oa21cd"]))
        shares = deprivation.segment_shares(geo, area, levels.levels(con))
    return ProfileRun(profiles_for(con, cfg), cross_service(con, cfg), shares)
