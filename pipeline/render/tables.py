"""Render: the tables people open: CSVs (machine names, tidy) and Excel workbooks (headings as in
a Mosaic profile, numbers as numbers), both from the published tables only.

Per (sub-)service: a sheet per view, a Data quality sheet, a Data dictionary (heading -> CSV
column -> meaning), and Definitions, Method and Suppression sheets. Per run: a summary workbook
with the cross-service matrix of indices.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.config import RunConfig
from pipeline.escape import spreadsheet_frame
from pipeline.publish.notes import DEFINITIONS
from pipeline.publish.tables import Publication, PublishedTable
from pipeline.render.segment_info import segment_colours
from pipeline.render.workbook import write_profile_workbook

METHOD = [
    "Method:",
    "Each record is placed in a Census 2021 Output Area (OA) by the best evidence it carries: its "
    "UPRN or its address matched to the council's gazetteer, else its postcode (ONS Postcode "
    "Directory). The OA gives its ward and neighbourhood segment. Records are counted, never named.",
    "Households: Census 2021 (table TS041). The segments classify OAs by the method of the "
    "ONS/UCL Output Area Classification.",
    "Every input row is accounted for: matched (and how) or rejected with a reason (Data quality sheet).",
]

#: Workbook heading, kind and meaning of each CSV column (the data dictionary).
COLUMNS: dict[str, tuple[str, str, str]] = {
    "rank": ("Rank", "count", "Order in the target list (most households not using the service first)"),
    "segment_code": ("Segment", "text", "Segment code (or ward code in ward tables; Total for the area)"),
    "segment_name": ("Name", "text", "Segment name (or ward name)"),
    "segment": ("Segment", "text", "Segment code"),
    "ward_code": ("Ward code", "text", "ONS ward code"),
    "ward_name": ("Ward", "text", "Ward name"),
    "oa21cd": ("Output Area", "text", "Census 2021 Output Area code"),
    "service_count": ("Users", "count",
                      "Users of the service (records, households or persons as configured)"),
    "service_pct": ("% of users", "pct", "Share of all users"),
    "base_count": ("Households", "count", "Households (or the configured base) in the Census 2021"),
    "base_pct": ("% of households", "pct", "Share of all households (or of the base)"),
    "penetration_pct": ("Penetration %", "pct", "Users per 100 households"),
    "index": ("Index", "index", "% of users / % of households x 100 (100 = as expected)"),
    "penetration_lower": ("Penetration % lower (95%)", "pct", "Lower end of the 95% Wilson interval"),
    "penetration_upper": ("Penetration % upper (95%)", "pct", "Upper end of the 95% Wilson interval"),
    "index_lower": ("Index lower (95%)", "index", "Lower end of the index's 95% interval"),
    "index_upper": ("Index upper (95%)", "index", "Upper end of the index's 95% interval"),
    "significance": ("Significance", "text",
                     "Over- or under-represented (the interval excludes 100), else no clear difference"),
    "non_users": ("Households not using", "count", "Base minus users"),
    "non_users_lower": ("Not using lower (95%)", "count", "Lower end of the interval of non-users"),
    "non_users_upper": ("Not using upper (95%)", "count", "Upper end of the interval of non-users"),
    "shortfall": ("Shortfall", "count", "Users the segment lacks to reach the area's penetration"),
    "population": ("Census population", "count", "Residents in the group (Census 2021)"),
    "population_pct": ("% of population", "pct", "The group's share of the census population"),
    "channel": ("Channel", "text", "Contact channel"),
    "segment_pct": ("Segment's mix %", "pct", "Share of the segment's contacts made by the channel"),
    "borough_pct": ("Area's mix %", "pct", "Share of all contacts made by the channel"),
    "channel_shift_candidate": ("Channel-shift candidate", "text",
                                "Significantly more face-to-face or telephone contact"),
    "period": ("Period", "text", "Period of the record's date"),
    "index_change": ("Change in index", "index", "Index minus the previous period's"),
    "change_lower": ("Change lower (95%)", "index", "Lower end of the change's 95% interval"),
    "change_upper": ("Change upper (95%)", "index", "Upper end of the change's 95% interval"),
    "change": ("Change", "text", "Up, down or no clear change"),
    "target_segments": ("Target segments", "text", "The under-represented segments the list targets"),
    "postcodes": ("Postcodes", "text", "Live postcodes of the Output Area (for leaflet drops)"),
    "service": ("Service", "text", "Service"),
    "outcome": ("Outcome", "text", "Outcome column (config services[].outcomes)"),
    "with_outcome": ("With an outcome", "count", "Records with a recorded outcome (an answer on the scale)"),
    "successes": ("Achieved", "count", "Records with the outcome achieved (ordinal: satisfied or better)"),
    "not_achieved": ("Not achieved", "count", "Records with an outcome, not achieved"),
    "no_outcome": ("No outcome recorded", "count", "Records with no recorded outcome (never failures)"),
    "dont_know": ("Don't know", "count", "Answers of don't know (kept apart from the scale)"),
    "rate_pct": ("Rate %", "pct", "Achieved / with an outcome x 100"),
    "rate_lower": ("Rate % lower (95%)", "pct", "Lower end of the 95% Wilson interval of the rate"),
    "rate_upper": ("Rate % upper (95%)", "pct", "Upper end of the 95% Wilson interval of the rate"),
    "diff_pct": ("Difference (points)", "pct", "Rate minus the service's overall rate, in percentage points"),
    "diff_lower": ("Difference lower (95%)", "pct", "Lower end of the difference's 95% interval (Newcombe)"),
    "diff_upper": ("Difference upper (95%)", "pct", "Upper end of the difference's 95% interval (Newcombe)"),
    "mean": ("Mean", "float", "Mean score (ordinal, 1 = worst) or value (numeric)"),
    "mean_lower": ("Mean lower (95%)", "float", "Lower end of the mean's 95% t interval"),
    "mean_upper": ("Mean upper (95%)", "float", "Upper end of the mean's 95% t interval"),
    "mean_diff": ("Mean difference", "float", "Mean minus the service's overall mean"),
    "mean_diff_lower": ("Mean difference lower (95%)", "float", "Lower end (Welch t interval)"),
    "mean_diff_upper": ("Mean difference upper (95%)", "float", "Upper end (Welch t interval)"),
    "holm": ("Holm", "text", "Does the call survive the Holm-Bonferroni correction over the table's rows"),
    "band": ("Distance band", "text", "Distance from the OA's centre to the nearest service point"),
    "name": ("Name", "text", "Service point or candidate location"),
    "type": ("Type", "text", "Kind of service point or candidate location"),
    "easting": ("Easting", "float", "Easting, British National Grid (EPSG:27700), metres"),
    "northing": ("Northing", "float", "Northing, British National Grid (EPSG:27700), metres"),
    "oas": ("Output Areas", "count", "Output Areas nearer to this point than to any other (its catchment)"),
    "households": ("Households", "count", "Census 2021 households (TS041)"),
    "centre": ("Centre", "text", "How the OA's centre was found (population-weighted centroid, postcodes)"),
    "nearest_point": ("Nearest point", "text", "The service point nearest to the OA's centre"),
    "distance_km": ("Distance (km)", "float", "Straight-line distance to the nearest service point, km"),
    "beyond_km": ("Beyond (km)", "float", "The distance beyond which target households are listed"),
    "within_km": ("Within (km)", "float", "The distance a new point must bring target households within"),
    "target_households": ("Target households reached", "count",
                          "Households of the target segments beyond the distance today that a point "
                          "here would bring within it"),
    "target_oas": ("Target OAs reached", "count", "Output Areas of those households"),
    "deciles": ("Deciles", "count", "National IMD deciles in the area (the slope index needs five)"),
    "sii": ("Slope index (points)", "float", "Slope index of inequality: fitted penetration at the least "
            "deprived end minus the most deprived, percentage points (OHID method)"),
    "sii_lower": ("Slope index lower", "float", "95% lower limit of the slope index (simulation)"),
    "sii_upper": ("Slope index upper", "float", "95% upper limit of the slope index (simulation)"),
    "rii": ("Relative index", "float", "Relative index of inequality: fitted penetration at the least "
            "deprived end over the most deprived"),
    "rii_lower": ("Relative index lower", "float", "95% lower limit of the relative index"),
    "rii_upper": ("Relative index upper", "float", "95% upper limit of the relative index"),
    "times_most_deprived": ("Times as high, most deprived", "float",
                            "1 / relative index: how many times as high use is at the most deprived end"),
    "times_lower": ("Times lower", "float", "95% lower limit of 1 / relative index"),
    "times_upper": ("Times upper", "float", "95% upper limit of 1 / relative index"),
}

SHEETS = {
    "segment": "Segment profile", "group": "Group profile", "subgroup": "Subgroup profile",
    "ward": "Ward profile", "ward_segment": "Ward x segment", "targets_ward": "Target wards",
    "targets_oa": "Target OAs", "equality_age_band": "Equality age", "equality_sex": "Equality sex",
    "equality_disability": "Equality disability", "equality_ethnicity": "Equality ethnicity",
    "channels": "Channels", "trends": "Trends",
    "access_band": "Access by distance", "access_band_segment": "Access band x segment",
    "access_points": "Service points", "access_oa": "Access by OA", "access_targets": "Access targets",
    "access_candidates": "Candidate locations",
    "deprivation_imd": "Deprivation decile", "deprivation_local": "Deprivation local quintile",
    "deprivation_gradient": "Deprivation gradient",
}
WARD_HEADINGS = {"segment_code": "Ward code", "segment_name": "Ward"}
EQUALITY_HEADINGS = {"segment_code": "Group"}


def write_csvs(cfg: RunConfig, pub: Publication) -> list[Path]:
    """Every published table as a tidy CSV (machine names, UTF-8), cells that a spreadsheet would
    read as a formula neutralised."""
    written = []
    for t in pub.all_tables():
        path = cfg.outputs / t.path
        path.parent.mkdir(parents=True, exist_ok=True)
        spreadsheet_frame(t.frame).to_csv(path, index=False, encoding="utf-8")
        written.append(path)
    return written


def _headings(view: str) -> dict[str, str]:
    out = {c: h for c, (h, _, _) in COLUMNS.items()}
    if view == "ward" or view.startswith("targets_ward"):
        out |= WARD_HEADINGS
    if view.startswith("equality_"):
        out |= EQUALITY_HEADINGS
    return out


def _codes_as_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Digit-only codes (supergroups '1'..'8') as numbers, so Excel does not flag them as
    numbers stored as text."""
    out = frame.copy()
    for col in ("segment_code", "segment"):
        if col in out:
            out[col] = [int(v) if isinstance(v, str) and v.isdigit() else v for v in out[col]]
    return out


def sheet(view: str, t: PublishedTable) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """A published table with workbook headings and typed values; its data-dictionary rows."""
    headings = _headings(view)
    typed = _codes_as_numbers(t.typed())
    renamed = typed.rename(columns=lambda c: headings.get(c, c.replace("_", " ").capitalize()))
    entries = [(renamed.columns[i], c, COLUMNS.get(c, ("", "", ""))[2]) for i, c in enumerate(typed.columns)]
    return renamed, entries


def kinds() -> dict[str, str]:
    """Number kind by workbook heading."""
    out = {h: k for h, k, _ in COLUMNS.values()}
    return out | {"Ward code": "text", "Ward": "text", "Group": "text"}


def text_sheets(cfg: RunConfig, pub: Publication, dictionary: list[tuple[str, str, str, str]]) -> dict:
    return {
        "Definitions": ["Definitions:", *DEFINITIONS],
        "Method": METHOD,
        "Suppression": ["Suppression and disclosure control:", *pub.notes,
                        f"'{pub.symbol}': withheld to protect individuals.", cfg.attribution],
        "Data dictionary": ["Data dictionary (sheet | workbook heading | CSV column | meaning):",
                            *(" | ".join(e) for e in dictionary)],
    }


def quality_sheet(pub: Publication, service: str) -> pd.DataFrame:
    summary = pub.run["run_summary"].typed()
    row = summary[summary["service"] == service].T.reset_index()
    row.columns = ["Measure", "Value"]
    row["Measure"] = row["Measure"].str.replace("_", " ").str.capitalize()
    return row


def segments_sheet(cfg: RunConfig) -> pd.DataFrame | None:
    """Every segment of the classification with its name, its colour in the maps and the guide
    (`segment_info.segment_colours`) and its pen portrait (from the run's shareable segment
    outputs), or None when the run has none."""
    path = cfg.outputs / "segments" / "segment_names.csv"
    if not path.exists():
        return None
    names = pd.read_csv(path, dtype=str, keep_default_na=False)
    oa_path = path.with_name("segments_oa.csv")
    oa = pd.read_csv(oa_path, dtype=str, keep_default_na=False) if oa_path.exists() else pd.DataFrame()
    colours = segment_colours(names, oa)
    out = _codes_as_numbers(pd.DataFrame({
        "Level": names.get("level", "segment"), "segment": names["segment"], "Name": names["segment_name"],
        "Colour": names["segment"].map(colours), "Pen portrait": names.get("description", "")}))
    return out.rename(columns={"segment": "Segment"})


def write_service_workbook(cfg: RunConfig, pub: Publication, name: str, title: str) -> Path:
    """One workbook per (sub-)service: a sheet per view, data quality, notes and method."""
    service = name.split("__")[0]
    sheets, dictionary = {}, []
    for view, t in pub.services[name].items():
        title_ = SHEETS.get(view, view.replace("_", " ").capitalize())
        sheets[title_], entries = sheet(view, t)
        dictionary += [(title_, *e) for e in entries]
    sheets["Data quality"] = quality_sheet(pub, service)
    segments = segments_sheet(cfg)
    if segments is not None:
        sheets["Segments"] = segments
    notes = [*pub.warnings, *DEFINITIONS[4:5], *pub.notes, cfg.attribution]
    return write_profile_workbook(sheets, cfg.outputs / service / f"{name}_profile.xlsx", title, notes,
                                  kinds=kinds(), text_sheets=text_sheets(cfg, pub, dictionary),
                                  scale="Index", bars="Penetration %")


def write_summary_workbook(cfg: RunConfig, pub: Publication) -> Path:
    """The run's summary workbook: the segment x service matrix of indices (suppressed), long
    and wide, services ordered by the similarity of their profiles."""
    t = pub.run["cross_service"]
    typed = _codes_as_numbers(t.typed())
    wide = typed.pivot(index=["segment_code", "segment_name"], columns="service", values="index")
    wide = wide[list(dict.fromkeys(typed["service"]))].reset_index()
    long, entries = sheet("cross_service", t)
    sheets = {"Index matrix": wide.rename(columns={"segment_code": "Segment", "segment_name": "Name"}),
              "Index with intervals": _codes_as_numbers(long)}
    notes = [
        *pub.warnings,
        "Index matrix: each service's index per segment (100 = as expected from the segment's "
        "households); services are ordered by the similarity of their profiles (average-linkage "
        "hierarchical clustering of log indices), so services that draw on the same groups sit together.",
        "any_service: households using at least one service, each counted once (household key).",
        *DEFINITIONS[4:8], *pub.notes, cfg.attribution,
    ]
    service_kinds = {s: "index" for s in typed["service"].unique()}
    out = cfg.outputs / "cross_service" / "cross_service_summary.xlsx"
    return write_profile_workbook(sheets, out, f"Services compared: {cfg.area_name}", notes,
                                  kinds=kinds() | service_kinds,
                                  text_sheets=text_sheets(cfg, pub, [("Index with intervals", *e)
                                                                     for e in entries]))
