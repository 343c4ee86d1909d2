"""A survey's report page, workbook and ward maps, made from its published tables only (the CSVs
`pipeline.surveys.publish` wrote, suppressed): ``<name>_report.html`` (who answered against who lives
here, the weighting's effect, each question by segment, ward and group, the wards that stand out),
``<name>_survey.xlsx`` (a sheet per table) and ``<name>_<question>_ward_map.html`` (the model
estimate by ward, offline, its interval and the direct estimate in the tooltip)."""

from __future__ import annotations

from pathlib import Path

import folium
import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
import shapely

from pipeline.config import RunConfig
from pipeline.config.survey import Survey
from pipeline.escape import html_text, spreadsheet_frame

TEMPLATES = Path(__file__).parent / "templates"
#: the reader's column headings of the published tables
HEADINGS = {"domain": "Group", "name": "Name", "respondents": "Respondents", "weighted": "Weighted",
            "n_eff": "Effective n", "estimate": "Estimate", "lower": "Lower 95%", "upper": "Upper 95%",
            "vs_area": "Compared with the area", "ward": "Ward", "direct": "Direct estimate",
            "direct_lower": "Direct lower 95%", "direct_upper": "Direct upper 95%",
            "gamma": "Weight on the ward's own respondents",
            "synthetic": "Census prediction", "model": "Model", "margin": "Margin", "category": "Category",
            "census_adults": "Census adults", "census_share": "Census share (%)",
            "respondent_share": "Respondents' share (%)", "weighted_share": "Weighted share (%)"}
VIEW_TITLES = {"segment": "By segment", "ward": "By ward: direct and model estimates",
               "age_band": "By age band",
               "sex": "By sex", "ethnicity": "By ethnic group", "disability": "By disability",
               "religion": "By religion", "sexual_orientation": "By sexual orientation",
               "gender_identity": "By gender identity", "imd_decile": "By national deprivation decile (IMD)"}


def _env() -> jinja2.Environment:
    from pipeline.render.report import report_env

    base = report_env()
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(TEMPLATES), base.loader])
    return jinja2.Environment(loader=loader, autoescape=True, keep_trailing_newline=True)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _table(frame: pd.DataFrame, title: str, caption: str, text_columns: int) -> dict:
    return {"title": title, "caption": caption, "text_columns": text_columns,
            "columns": [HEADINGS.get(c, c) for c in frame.columns], "rows": frame.to_numpy().tolist()}


def write_report(cfg: RunConfig, survey: Survey, folder: Path, wards: gpd.GeoDataFrame | None) -> list[Path]:
    """Write the page, the workbook and (with `wards`: code, name, geometry) the ward maps."""
    stem = survey.name
    summary = dict(_read(folder / f"{stem}_summary.csv").to_numpy().tolist())
    notes = [n for n in (folder / f"{stem}_notes.txt").read_text(encoding="utf-8").splitlines() if n]
    written = []
    questions = []
    for q in survey.questions:
        label = q.label or q.name
        percent = q.kind != "numeric"
        tables = []
        views = sorted(folder.glob(f"{stem}_{q.name}_*.csv"))
        order = ["segment", "ward", *[k for k in VIEW_TITLES if k not in ("segment", "ward")]]
        by_view = {p.stem.removeprefix(f"{stem}_{q.name}_"): p for p in views}
        stand_out = ""
        area, area_interval = "", ""
        for view in [v for v in order if v in by_view]:
            frame = _read(by_view[view])
            if view == "segment":
                row = frame[frame["domain"] == "All"].iloc[0]
                area, area_interval = row["estimate"], f"{row['lower']} to {row['upper']}"
                frame.loc[frame["domain"] == "All", "domain"] = "All"
            if view == "ward":
                out = frame[frame["vs_area"].isin(["higher", "lower"])]
                stand_out = "; ".join(f"{r['name'] or r['ward']} ({r['vs_area']}: {r['estimate']}"
                                      f"{'%' if percent else ''})" for _, r in out.iterrows())
                if wards is not None:
                    written.append(ward_map(cfg, survey, q.name, label, frame, wards, folder, percent))
            unit = "%" if percent else ""
            caption = (f"Weighted estimates{' (%)' if percent else ''} with 95% intervals on the effective "
                       "sample size." if view != "ward" else
                       "Direct: from the ward's own respondents; model: the Fay-Herriot estimate"
                       f"{unit and ' (%)'} with its 95% interval; 'synthetic': no respondent, the census "
                       "prediction alone.")
            tables.append(_table(frame, VIEW_TITLES.get(view, view), caption,
                                 3 if view == "ward" else (2 if "name" in frame.columns else 1)))
        raw = summary.get(f"{q.name}: unweighted estimate for the area", "")
        questions.append({"name": q.name, "label": label, "percent": percent, "area": area, "raw": raw,
                          "area_interval": area_interval, "stand_out": stand_out, "tables": tables,
                          "map": f"{stem}_{q.name}_ward_map.html" if wards is not None else None})
    weighting = _read(folder / f"{stem}_weighting.csv")
    key = [("Respondents", summary.get("respondents read", "")),
           ("Placed in the area", summary.get("respondents placed in the area", "")),
           ("Effective sample size", summary.get("effective sample size", "")),
           ("Design effect", summary.get("design effect of weighting (Kish)", ""))]
    html = _env().get_template("survey.html.j2").render(
        title=f"{survey.label}: {cfg.area_name}", run=cfg.run, symbol=cfg.suppression.symbol,
        min_respondents=survey.min_respondents, questions=questions, key_figures=key, notes=notes,
        weighting={"columns": [HEADINGS.get(c, c) for c in weighting.columns],
                   "rows": weighting.to_numpy().tolist()},
        margins=", ".join(m.replace("*", " x ").replace("_", " ") for m in survey.weighting.margins),
        trim=survey.weighting.trim if survey.weighting.trim else "no", deff=summary.get(
            "design effect of weighting (Kish)", ""), n_eff=summary.get("effective sample size", ""),
        attribution=cfg.attribution)
    page = folder / f"{stem}_report.html"
    page.write_text(html, encoding="utf-8")
    written.append(page)
    written.append(workbook(folder, stem))
    return written


def workbook(folder: Path, stem: str) -> Path:
    """Every published table of the survey as a sheet of one workbook (cells neutralised; the same
    tables give the same bytes: `pipeline.render.workbook.stable_xlsx`)."""
    import io

    from pipeline.render.workbook import stable_xlsx

    path = folder / f"{stem}_survey.xlsx"
    data = io.BytesIO()
    with pd.ExcelWriter(data, engine="openpyxl") as xl:
        for csv in sorted(folder.glob(f"{stem}_*.csv")):
            sheet = csv.stem.removeprefix(f"{stem}_")[:31]
            spreadsheet_frame(_read(csv)).to_excel(xl, sheet_name=sheet, index=False)
    path.write_bytes(stable_xlsx(data.getvalue()))
    return path


def ward_map(cfg: RunConfig, survey: Survey, question: str, label: str, frame: pd.DataFrame,
             wards: gpd.GeoDataFrame, folder: Path, percent: bool) -> Path:
    """The model estimate by ward (quantile classes), offline; wards outside the survey's table
    (none, for a ward of the area) are left grey."""
    from pipeline.render.maps.classes import class_breaks, classify, legend_html, legend_labels, palette_for
    from pipeline.render.maps.geometry import prepare_wards
    from pipeline.render.maps.page import add_outline, finish_page, new_map, write_page

    data = wards.rename(columns={wards.columns[0]: "ward"})[["ward", "geometry"]].merge(
        frame, on="ward", how="left")
    wgs, outline = prepare_wards(gpd.GeoDataFrame(data, geometry="geometry", crs=wards.crs))
    values = pd.to_numeric(wgs["estimate"], errors="coerce").to_numpy(float)
    valid = values[np.isfinite(values)]
    breaks = class_breaks(valid)
    colours = palette_for(len(breaks) + 1 if valid.size else 0)
    unit = "%" if percent else ""
    features = []
    for (_, row), v in zip(wgs.iterrows(), values, strict=True):
        props = {k: html_text(row.get(k, "")) for k in ("name", "estimate", "lower", "upper", "direct",
                                                          "respondents", "gamma")}
        props["fill"] = colours[classify(v, breaks)] if np.isfinite(v) else "#cccccc"
        features.append({"type": "Feature", "properties": props,
                         "geometry": shapely.geometry.mapping(row.geometry)})
    m = new_map(tuple(wgs.total_bounds), cfg.render.tiles, cfg.render.tiles_attribution)
    fields = ["name", "estimate", "lower", "upper", "direct", "respondents", "gamma"]
    aliases = ["Ward", f"Model estimate{unit and ' (%)'}", "Lower 95%", "Upper 95%", "Direct estimate",
               "Respondents", "Weight on the ward's own respondents"]
    folium.GeoJson({"type": "FeatureCollection", "features": features}, name=html_text(label),
                   style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#555555",
                                             "weight": 1, "fillOpacity": 0.8},
                   tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[html_text(a) for a in aliases],
                                                 sticky=True, labels=True)).add_to(m)
    add_outline(m, outline)
    labels = legend_labels(breaks, valid) if valid.size else []
    legend = legend_html(f"Model estimate{unit and ' (%)'}", colours, labels, cfg.suppression.symbol, False)
    html = finish_page(m, f"{survey.label}: {label}, by ward (model estimate)", legend, cfg.attribution,
                       cfg.render.tiles)
    return write_page(html, folder / f"{survey.name}_{question}_ward_map.html")
