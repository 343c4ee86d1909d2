"""Build every view of every (sub-)service, register its counts for disclosure control, write."""

from __future__ import annotations

import logging
from collections import defaultdict

import duckdb
import pandas as pd
from tqdm import tqdm

from pipeline.config import RunConfig, Suppression
from pipeline.ingest import option_column
from pipeline.profiles import channels, crossservice, equality, gaps, levels, trends, wards
from pipeline.profiles import outputs as out_tables
from pipeline.profiles.suppression import Disclosure, mask, simple_hidden
from pipeline.profiles.table import DERIVED_COLUMNS, format_profile, profile_table, with_uncertainty

logger = logging.getLogger(__name__)

YES_VALUES = ("yes", "y", "true", "1")
TOTAL = ("total",)


def suppress(formatted: pd.DataFrame, counts: pd.Series, rule: Suppression) -> pd.DataFrame:
    """Single-table suppression of a formatted profile (body rows then a Total row): counts
    1..threshold-1 and what derives from them shown as the symbol, and the next smallest
    non-zero count too when only one would be hidden (see `suppression`)."""
    return mask(formatted, simple_hidden(counts.astype(int), rule), rule.symbol,
                ["service_count"], DERIVED_COLUMNS)


def shareable(profile: pd.DataFrame, cfg: RunConfig) -> pd.DataFrame:
    """The formatted, suppressed table that may leave the private run folder. Uses the run's
    cross-table `suppressed` flags when the frame carries them, else single-table suppression."""
    if "suppressed" in profile:
        return out_tables.display("segment", profile, cfg.suppression)
    return suppress(format_profile(profile), profile["service_count"], cfg.suppression)


class _Builder:
    """Views of one (sub-)service and their keys in its Disclosure."""

    def __init__(self, rule: Suppression):
        self.d = Disclosure(rule)
        self.views: dict[str, pd.DataFrame] = {}
        self.keys: dict[str, list] = {}
        self.derived: dict[str, list | None] = {}

    def profile_view(self, view: str, frame: pd.DataFrame, keys: list) -> None:
        body = frame.iloc[:-1]
        self.d.table(keys, body["service_count"], TOTAL, frame["service_count"].iloc[-1])
        self.views[view], self.keys[view] = frame, [*keys, TOTAL]

    def finish(self) -> dict[str, pd.DataFrame]:
        hidden = self.d.hidden()
        for view, frame in self.views.items():
            if view in self.derived:
                parts = self.derived[view]
                frame["suppressed"] = (True if parts is None
                                       else [any(k in hidden for k in ks) for ks in parts])
            else:
                frame["suppressed"] = [k in hidden for k in self.keys[view]]
        return self.views


def _level_views(b: _Builder, geo, users, lv, names) -> None:
    for col, view in lv:
        prof = with_uncertainty(profile_table(levels.grouped_counts(geo, users, col, names[view])))
        b.profile_view(view, prof, [(view, c) for c in prof["segment_code"].iloc[:-1]])
    for (parent_col, parent), (child_col, child) in zip(lv, lv[1:], strict=False):
        pairs = geo[[parent_col, child_col]].drop_duplicates()
        if pairs[child_col].duplicated().any():
            logger.warning("level %s does not nest in %s: no relation registered", child, parent)
            continue
        for p, part in pairs.groupby(parent_col):
            b.d.relate((parent, p), [(child, c) for c in part[child_col]])


def _area_views(b: _Builder, geo, users, names, postcodes) -> None:
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
        b.d.relate(("ward", w), ks)
    for s, ks in by_seg.items():
        b.d.relate(("segment", s), ks)
    targets = gaps.target_segments(b.views["segment"])
    tw = gaps.target_wards(ws, targets)
    toa = gaps.target_oas(geo, users, targets, names, postcodes)
    b.views["targets_ward"], b.views["targets_oa"] = tw, toa
    # target lists publish households and rank, not users: a ward's target users are a sum of
    # ward x segment cells that could pin down hidden ones (see gaps.py)
    b.derived["targets_ward"] = None
    b.derived["targets_oa"] = None


def _equality_views(b, con, cfg, table, unit, fields, populations) -> None:
    for field in fields:
        raw = con.execute(
            f"SELECT {field} AS code, {levels.UNIT_SQL[unit]} AS users FROM {table} GROUP BY 1 ORDER BY 1"
        ).df()
        prof = equality.equality_profile(raw["code"], raw["users"], populations[field], field)
        view = f"equality_{field}"
        keys = [(view, c) for c in prof["segment_code"].iloc[:-1]]
        b.d.table(keys, prof["service_count"].iloc[:-1], ("total", view), prof["service_count"].iloc[-1])
        b.views[view], b.keys[view] = prof, [*keys, ("total", view)]


def _channel_view(b, con, table, unit, geo, names, exact: bool) -> None:
    raw = con.execute(
        f"SELECT oa21cd, channel, {levels.UNIT_SQL[unit]} AS users FROM {table} GROUP BY 1, 2 ORDER BY 1, 2"
    ).df()
    raw["channel"] = raw["channel"].map({c: channels.normalise_channel(c) for c in raw["channel"].unique()})
    raw["segment"] = raw["oa21cd"].map(geo.set_index("oa21cd")["segment"])
    prof = channels.channel_profile(raw, names)
    keys = [("ch", s, c) if s != "Total" else ("chT", c)
            for s, c in zip(prof["segment_code"], prof["channel"], strict=True)]
    for k, v in zip(keys, prof["service_count"], strict=True):
        b.d.add(k, v)
    body = [k for k in keys if k[0] == "ch"]
    for c in prof["channel"].unique():
        b.d.relate(("chT", c), [k for k in body if k[2] == c])
    if exact:
        b.d.relate(TOTAL, [k for k in keys if k[0] == "chT"])
        for s in prof["segment_code"].unique():
            if s != "Total":
                b.d.relate(("segment", s), [k for k in body if k[1] == s])
    b.views["channels"], b.keys["channels"] = prof, keys


def _trend_view(b, con, table, unit, period, geo, names, exact: bool) -> None:
    raw = con.execute(
        f"""WITH p AS (SELECT date, {trends.period_sql(period)} AS period
                       FROM (SELECT DISTINCT date FROM {table}))
            SELECT oa21cd, p.period, {levels.UNIT_SQL[unit]} AS users
            FROM {table} t LEFT JOIN p ON t.date IS NOT DISTINCT FROM p.date
            GROUP BY 1, 2 ORDER BY 1, 2"""
    ).df()
    frames = []
    for p, part in raw.groupby("period"):
        c = levels.grouped_counts(geo, part.set_index("oa21cd")["users"], "segment", names)
        frames.append(c.assign(period=p))
    prof = trends.trend_profile(pd.concat(frames, ignore_index=True))
    keys = [("tr", p, s) if s != "Total" else ("trT", p)
            for p, s in zip(prof["period"], prof["segment_code"], strict=True)]
    for k, v in zip(keys, prof["service_count"], strict=True):
        b.d.add(k, v)
    for p in prof["period"].unique():
        b.d.relate(("trT", p), [k for k in keys if k[0] == "tr" and k[1] == p])
    if exact:
        b.d.relate(TOTAL, [k for k in keys if k[0] == "trT"])
        for s in prof.loc[prof["segment_code"] != "Total", "segment_code"].unique():
            b.d.relate(("segment", s), [k for k in keys if k[0] == "tr" and k[2] == s])
    b.views["trends"], b.keys["trends"] = prof, keys
    # a change in index reveals the previous period's index: hidden when either period's count is
    prev_key = {}
    periods = [p for p in dict.fromkeys(prof["period"]) if p != "unknown"]
    for a, c in zip(periods, periods[1:], strict=False):
        prev_key[c] = a
    b.keys["trends_prev"] = [("tr", prev_key.get(p), s) if p in prev_key and s != "Total" else None
                             for p, s in zip(prof["period"], prof["segment_code"], strict=True)]


def profiles_for(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict[str, dict[str, pd.DataFrame]]:
    """Numeric views per (sub-)service: {'stop_smoking': {'segment': df, 'ward': df, ...}, ...}."""
    lv = levels.levels(con)
    names = {view: levels.segment_names(con, view) for _, view in lv}
    postcodes = con.execute(
        """SELECT oa21cd, string_agg(pcds, '; ' ORDER BY pcds) FROM ref_postcodes
           WHERE is_live AND oa21cd IS NOT NULL GROUP BY 1"""
    ).df().set_index("oa21cd").iloc[:, 0]
    out = {}
    geos: dict[str, pd.DataFrame] = {}
    populations: dict[str, pd.Series] = {}
    for service in tqdm(cfg.services, desc="profiles", unit="service", leave=False):
        table = f"assign_{service.name}"
        base = getattr(service, "base", "households")
        unit = getattr(service, "count", "records")
        if base not in geos:
            geos[base] = levels.area_frame(con, cfg, base)
        geo = geos[base]
        if not populations:
            oas = list(geo["oa21cd"])
            populations.update({f: equality.census_population(cfg, f, oas) for f in equality.FIELDS})
        subs = {service.name: "TRUE"}
        for opt in service.options:
            col = option_column(opt)
            subs[f"{service.name}__{col.removeprefix('option_')}"] = f"lower(trim({col})) IN {YES_VALUES}"
        for name, where in subs.items():
            users = levels.oa_users(con, table, where, unit).set_index("oa21cd")["users"]
            b = _Builder(cfg.suppression)
            _level_views(b, geo, users, lv, names)
            _area_views(b, geo, users, names["segment"], postcodes)
            if name == service.name:
                exact = unit == "records"
                present = set(service.columns) & {*equality.FIELDS, "channel", "date"}
                fields = [f for f in equality.FIELDS if f in present]
                _equality_views(b, con, cfg, table, unit, fields, populations)
                if "channel" in present:
                    _channel_view(b, con, table, unit, geo, names["segment"], exact)
                if "date" in present:
                    _trend_view(b, con, table, unit, getattr(service, "period", None) or "year", geo,
                                names["segment"], exact)
            views = b.finish()
            for v in ("targets_ward", "targets_oa"):
                views[v] = gaps.rank(views[v], views[v]["suppressed"])[0]
            if "trends" in views:
                hid = b.d.hidden()
                views["trends"]["suppressed"] = [
                    k in hid or (p is not None and p in hid)
                    for k, p in zip(b.keys["trends"], b.keys.pop("trends_prev"), strict=True)]
            out[name] = views
    return out


def cross_service(con: duckdb.DuckDBPyConnection, cfg: RunConfig, profiles: dict) -> pd.DataFrame:
    """Segment x service index matrix, plus 'any_service': households counted once."""
    segs = {s.name: profiles[s.name]["segment"] for s in cfg.services}
    union = " UNION ALL ".join(f"SELECT oa21cd, household_key FROM assign_{s.name}" for s in cfg.services)
    users = con.execute(
        f"SELECT oa21cd, count(DISTINCT household_key) AS users FROM ({union}) GROUP BY 1"
    ).df().set_index("oa21cd")["users"]
    geo = levels.area_frame(con, cfg)
    b = _Builder(cfg.suppression)
    _level_views(b, geo, users, [("segment", "segment")], {"segment": levels.segment_names(con, "segment")})
    segs["any_service"] = b.finish()["segment"]
    return crossservice.matrix(segs)


def run(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict[str, dict[str, pd.DataFrame]]:
    """Write unsuppressed views to the private folder and suppressed ones to outputs/<run>/."""
    profiles = profiles_for(con, cfg)
    private = cfg.private / "profiles"
    private.mkdir(parents=True, exist_ok=True)
    for name, views in profiles.items():
        folder = cfg.outputs / name.split("__")[0]
        folder.mkdir(parents=True, exist_ok=True)
        for view, frame in views.items():
            out_tables.display(view, frame, None).to_csv(private / f"{name}_profile_{view}.csv", index=False)
            out_tables.display(view, frame, cfg.suppression).to_csv(
                folder / f"{name}_profile_{view}.csv", index=False)
    matrix = cross_service(con, cfg, profiles)
    folder = cfg.outputs / "cross_service"
    folder.mkdir(parents=True, exist_ok=True)
    out_tables.display("cross_service", matrix, None).to_csv(
        private / "cross_service_profile_segment.csv", index=False)
    shown = out_tables.display("cross_service", matrix, cfg.suppression)
    shown.to_csv(folder / "cross_service_profile_segment.csv", index=False)
    from pipeline.render.tables import write_summary_workbook

    write_summary_workbook(cfg, shown)
    return profiles
