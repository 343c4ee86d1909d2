"""The survey stage: each `surveys:` entry read, geocoded, weighted, estimated and published.

1. Read and geocode: the survey is a service extract (`Survey.extract()`, tables
   ingest_survey_<name>, a temporary view that lives only for the run like a service's, and
   geocode_survey_<name>), so the same header mapping, checks, match
   hierarchy and reject reasons apply; rows read = placed + not placed, each not placed with its
   reason (written to the private rejects folder like a service's).
2. Respondents: the placed respondents inside the area with their OA's segment and ward, age band
   (read into the survey's bands), sex, equality fields, answers (a yes/no or a Likert answer at or
   above `satisfied_from` as 1/0, a number as itself) and design weight. Only this frame, with no
   postcode, address, UPRN or record id, is read into memory (a survey has thousands of rows).
3. Weights: raked to the census margins (weighting.py); the weights stay in the private warehouse
   (survey_<name>_weights: row_number, weight).
4. Estimates: each question by segment, ward, equality field, national IMD decile when the run
   has a deprivation block (estimates.py), and the ward model (wards.py, sae.py).
5. Publish: aggregates only, to outputs/<run>/surveys/<name>/ (and from those tables alone the
   report page, workbook and ward maps, report.py): respondent counts go through the run's
   suppression rule (pipeline/publish/suppression.py: primary and secondary, over the relations
   'the rows of a table add up to its total'), and an estimate from fewer than
   `min_respondents` respondents is not shown either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline.checks import Problem
from pipeline.config import RunConfig
from pipeline.config.survey import DESIGN_WEIGHT, Survey
from pipeline.surveys import population
from pipeline.surveys.estimates import by_domain
from pipeline.surveys.wards import ward_estimates
from pipeline.surveys.weighting import NOT_KNOWN, Weights, rake
from pipeline.warehouse import execute, ident, store_frame

logger = logging.getLogger(__name__)

#: equality fields estimated by when the survey maps them (age band and sex always, when mapped)
EQUALITY_VIEWS = ("age_band", "sex", "ethnicity", "disability", "religion", "sexual_orientation",
                  "gender_identity")


@dataclass
class SurveyResult:
    """What one survey's stage made: accounting, weights summary and the published frames."""

    name: str
    read: int
    placed: int
    outcomes: dict[str, int]  # match level or reject reason -> rows
    weights: Weights | None = None
    ingest: object | None = None  # the extract as read (pipeline.ingest.IngestResult), for the manifest
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # file stem -> published frame
    notes: list[str] = field(default_factory=list)
    #: question -> (unweighted, weighted) estimate for the area: what the weighting changed
    effects: dict[str, tuple[float, float]] = field(default_factory=dict)


def check(cfg: RunConfig) -> list[Problem]:
    """Each survey's file is a readable extract whose header holds the mapped columns and
    questions (the service rules, `pipeline.ingest.validation.extract_problems`), its age bands are
    age bands and its census margins' tables hold their columns (distinct names: the config)."""
    from pipeline.ingest.validation import extract_problems

    out: list[Problem] = []
    for i, s in enumerate(surveys_of(cfg)):
        where = f"surveys[{i}] ({s.name})"
        if not Path(s.file).exists():
            out.append(f"{where}: no such file: {s.file}. Fix: correct the path (a relative path is read "
                       "from the config file's folder)")
            continue
        out += extract_problems(where, s.extract())
        try:
            population.bands_of(s.age_bands)
        except population.PopulationError as exc:
            out.append(f"{where}: {exc}")
        for c in s.weighting.census:
            out += census_margin_problems(cfg, where, c)
    return out


def census_margin_problems(cfg: RunConfig, where: str, margin) -> list[Problem]:
    """A config-named margin's census table exists and holds the columns it names."""
    from segments.census import CensusError, load_table

    try:
        table = load_table(cfg.census, margin.table)
    except CensusError as exc:
        return [f"{where}: weighting.census ({margin.field}): {p}" for p in exc.problems]
    missing = sorted({col for cols in margin.categories.values() for col in cols} - set(table.columns))
    return [f"{where}: weighting.census ({margin.field}): table {margin.table} has no column(s) "
            f"{missing[:5]}; its columns are {list(table.columns)[:12]}. Fix: name its columns as the "
            "table does"] if missing else []


def surveys_of(cfg: RunConfig) -> list[Survey]:
    return list(getattr(cfg, "surveys", None) or [])


def answer_sql(survey: Survey) -> str:
    """The SELECT list of the answers: q_<name> per question (1/0 for yes/no and Likert, the number for
    a numeric question, NULL for no answer) and the design weight when the survey has one."""
    from pipeline.ingest import outcome_column, outcome_value_sql

    parts = []
    for q in survey.questions:
        expr = outcome_value_sql(q, ident(outcome_column(q.name)))
        satisfied = f"CASE WHEN ({expr['score']}) IS NOT NULL THEN ({expr['ok']})::INT END"
        value = {"binary": expr["score"], "ordinal": satisfied, "numeric": expr["score"]}[q.kind]
        parts.append(f"{value} AS {ident('q_' + q.name)}")
    for dw in (o for o in survey.extract().outcomes if o.name == DESIGN_WEIGHT):
        parts.append(f"{outcome_value_sql(dw, ident(outcome_column(dw.name)))['score']} AS design_weight")
    return ", ".join(parts)


def respondents_sql(survey: Survey) -> str:
    """Every row of the survey with its geocode outcome, OA, ward, segment, equality fields and answers."""
    svc = survey.extract().name
    return f"""SELECT g.row_number, g.match_level, g.reject_reason, g.oa21cd, g.ward_code AS ward, s.segment,
                 i.age_band, i.sex, i.ethnicity, i.disability, i.religion, i.sexual_orientation,
                 i.gender_identity, {answer_sql(survey)}
               FROM {ident('geocode_' + svc)} g JOIN {ident('ingest_' + svc)} i USING (row_number)
               LEFT JOIN segments_oa s USING (oa21cd) ORDER BY g.row_number"""


def survey_bands(values: pd.Series, labels: list[str]) -> pd.Series:
    """Each respondent's age band as one of the survey's bands (None: blank, or not inside one band)."""
    from pipeline.profiles.equality.bands import parse_band

    bands = population.bands_of(labels)

    def one(v):
        b = parse_band(v)
        if b is None:
            return None
        hits = [label for label, sb in zip(labels, bands, strict=True) if b.within(sb)]
        return hits[0] if len(hits) == 1 else None

    return values.map(one, na_action="ignore").astype(object)


def sexes(values: pd.Series) -> pd.Series:
    """Female / Male from the answer's first letter (f, w: Female; m: Male); anything else None."""
    first = values.astype(object).map(lambda v: str(v).strip()[:1].lower() if isinstance(v, str) else "")
    return first.map({"f": "Female", "w": "Female", "m": "Male"}).astype(object)


def area_cells(con: duckdb.DuckDBPyConnection, cfg: RunConfig, survey: Survey) -> pd.DataFrame:
    """The area's adults by OA, survey age band and sex, with each OA's segment and ward."""
    from segments.census import load_table

    oa = execute(con, "survey_area_oas", "SELECT o.oa21cd, o.ward_code AS ward, s.segment FROM ref_oa o "
                 "JOIN segments_oa s USING (oa21cd) ORDER BY o.oa21cd", fetch="df")
    oa = oa.astype({"oa21cd": str, "ward": str, "segment": str})
    cells = population.cells(load_table(cfg.census, "ts007a"), load_table(cfg.census, "ts008"),
                             list(survey.age_bands))
    return population.with_area(cells, oa)


def run(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict[str, SurveyResult]:
    """Read, geocode, weight, estimate and publish every survey of the config."""
    from pipeline import geocode
    from pipeline.ingest import IngestError, ingest_service
    from pipeline.privacy import AgeRule

    results: dict[str, SurveyResult] = {}
    if not surveys_of(cfg):
        return results
    g = cfg.geography.gazetteer
    index = None
    age = AgeRule.of(cfg)
    problems, wards = [], None
    for survey in surveys_of(cfg):
        svc = survey.extract()
        if g is not None and index is None and any(f.startswith("address_") for f in svc.columns):
            # the gazetteer's address index, built only for a survey that gives addresses
            index = geocode.gazetteer_index(con, g.min_score, g.min_margin)
        try:
            read = ingest_service(con, cfg, svc, age)
        except IngestError as exc:
            problems += exc.problems
            continue
        outcomes = geocode.geocode_service(con, svc, index,
                                           oa_by_point=cfg.geography.postcode_directory.columns.oa is None)
        geocode.write_rejects(con, svc, cfg.private)
        frame = execute(con, "survey_respondents", respondents_sql(survey), fetch="df")
        result = analyse(con, cfg, survey, frame, outcomes, read.rows)
        result.notes = read.notes + result.notes
        result.ingest = read
        folder = publish(cfg, survey, result)
        if wards is None:
            from pipeline.geography import load_areas

            wards = load_areas(cfg, con)[1]
        from pipeline.surveys.report import write_report

        write_report(cfg, survey, folder, wards)
        results[survey.name] = result
    if problems:
        raise IngestError(problems)
    return results


def placement_note(frame: pd.DataFrame, placed: pd.Series, field: str) -> str | None:
    """How leaving out the respondents who could not be placed moves a field's shares: the largest
    change in percentage points."""
    known = frame[field].notna()
    if not known.any() or placed.all():
        return None
    before = frame.loc[known, field].value_counts(normalize=True)
    after = frame.loc[known & placed, field].value_counts(normalize=True).reindex(before.index, fill_value=0)
    shift = (after - before).abs()
    return (f"{field}: the respondents who could not be placed move its shares by at most "
            f"{100 * shift.max():.1f} percentage points ({shift.idxmax()})")


def analyse(con, cfg: RunConfig, survey: Survey, frame: pd.DataFrame, outcomes: dict[str, int], read: int
            ) -> SurveyResult:
    """Weights, estimates and the ward model of one survey's respondents (`frame`, from respondents_sql)."""
    frame = frame.copy()
    given = frame["age_band"].notna() & frame["age_band"].astype(str).str.strip().ne("")
    frame["age_band"] = survey_bands(frame["age_band"], list(survey.age_bands))
    unplaced_age = int((given & frame["age_band"].isna()).sum())
    frame["sex"] = sexes(frame["sex"])
    cells = area_cells(con, cfg, survey)
    inside = frame["match_level"].notna() & frame["oa21cd"].astype(str).isin(set(cells["oa21cd"]))
    result = SurveyResult(survey.name, read, int(inside.sum()), outcomes)
    if unplaced_age:
        result.notes.append(f"{unplaced_age:,} respondent(s) gave an age band that is not within one of the "
                            f"survey's bands ({', '.join(survey.age_bands)}): their age is taken as not "
                            "known")
    not_placed = read - result.placed
    if not_placed:
        reasons = {k: v for k, v in outcomes.items() if v and k in REJECT_ORDER}
        result.notes.append(f"{not_placed:,} of {read:,} respondents ({not_placed / read:.1%}) could not be "
                            f"placed in the area ({', '.join(f'{k}: {v:,}' for k, v in reasons.items())}) "
                            "and are left out of the weighting and estimates")
        for f in ("age_band", "sex"):
            note = placement_note(frame, inside, f)
            if note:
                result.notes.append(note)
    resp = frame[inside].reset_index(drop=True)
    # segment and ward of the respondent's OA, as the census cells have them (the OA -> ward lookup,
    # not the postcode directory's ward, so that respondents and margins agree)
    oa_frame = cells.drop_duplicates("oa21cd").set_index("oa21cd")
    resp["segment"] = resp["oa21cd"].astype(str).map(oa_frame["segment"]).astype(str)
    resp["ward"] = resp["oa21cd"].astype(str).map(oa_frame["ward"]).astype(str)
    targets = population.margins(cells, list(survey.weighting.margins))
    targets.update(census_margins(cfg, survey, cells, resp, result.notes))
    for m in survey.weighting.margins:
        if "*" in m:
            resp[m] = population.margin_values(resp, m)
    design = resp["design_weight"].to_numpy(float) if survey.design_weight else None
    if design is not None and np.isnan(design).any():
        missing = int(np.isnan(design).sum())
        raise_missing_design(survey, missing)
    w = rake(resp, targets, design=design, trim=survey.weighting.trim, survey=f"surveys ({survey.name})")
    resp["weight"] = w.weight
    result.weights = w
    result.notes += w.notes
    store_frame(con, "survey_weights", f"survey_{survey.name}_weights",
                resp[["row_number"]].assign(weight=w.weight), temp=False, order_by="row_number")
    resp = with_deprivation(con, cfg, resp, result.notes)
    result.tables.update(estimate_tables(con, survey, resp, cells))
    for q in survey.questions:
        y = resp[f"q_{q.name}"].to_numpy(float)
        ok = ~np.isnan(y)
        if ok.any():
            result.effects[q.name] = (float(y[ok].mean()), float(np.average(y[ok], weights=w.weight[ok])))
    result.tables["weighting"] = weighting_table(resp, targets)
    return result


def census_margins(cfg: RunConfig, survey: Survey, cells: pd.DataFrame, resp: pd.DataFrame, notes: list[str]
                   ) -> dict[str, dict[str, float]]:
    """The config-named margins (`weighting.census`): each from its census table, scaled to the area's
    adults; the respondents' answers matched to the categories without regard to case or spaces
    (changed in `resp`; an answer no category names stays as given, and raking names it)."""
    from segments.census import load_table

    out = {}
    oas = sorted(set(cells["oa21cd"]))
    for c in survey.weighting.census:
        try:
            out[c.field] = population.table_margin(load_table(cfg.census, c.table), oas, c.categories,
                                                   float(cells["people"].sum()), c.field)
        except population.PopulationError as exc:
            raise population.PopulationError(f"surveys ({survey.name}): {exc}") from None
        names = {k.strip().lower(): k for k in c.categories}
        resp[c.field] = resp[c.field].map(lambda v, n=names: n.get(" ".join(str(v).split()).lower(), v),
                                          na_action="ignore").astype(object)
        notes.append(f"{c.field}: weighted to census table {c.table.upper()}, whose shares (of its own base, "
                     "usually residents of every age) stand in for the adults'")
    return out


#: the published columns of a ward table: the direct estimate, the model's, its weight on the direct
#: estimate (gamma), the covariates' prediction (synthetic) and the model's comparison with the area
WARD_COLUMNS = ["ward", "name", "respondents", "n_eff", "direct", "direct_lower", "direct_upper", "estimate",
                "lower", "upper", "gamma", "synthetic", "model", "vs_area"]
#: the reasons a respondent is not placed, as the geocode stage gives them
REJECT_ORDER = ("blank_row", "header_repeat", "footer_row", "duplicate_row", "missing_postcode",
                "partial_postcode", "invalid_postcode", "postcode_not_found", "postcode_non_geographic",
                "postcode_no_oa", "out_of_area")


def raise_missing_design(survey: Survey, missing: int) -> None:
    from pipeline.surveys.weighting import MarginError

    raise MarginError(f"surveys ({survey.name}): {missing:,} placed respondent(s) have no usable design "
                      f"weight in column {survey.design_weight!r} (blank, not a number or not above 0). "
                      "Fix: give every respondent a positive weight, or remove design_weight")


def weighting_table(resp: pd.DataFrame, targets: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Who answered against who lives here: per margin and category, the census adults and share,
    the respondents and their share, and the weighted share."""
    rows = []
    for m, cats in targets.items():
        total = sum(cats.values())
        for c, people in cats.items():
            inside = (resp[m].astype(object).astype(str) == c).to_numpy()
            rows.append({"margin": m, "category": c, "census_adults": round(people),
                         "census_share": people / total, "respondents": int(inside.sum()),
                         "respondent_share": inside.mean(), "weighted_share": resp["weight"][inside].sum()
                         / resp["weight"].sum()})
        unknown = resp[m].isna().to_numpy()
        if unknown.any():  # kept at their own share (weighting.py): shown, so each margin adds up
            rows.append({"margin": m, "category": NOT_KNOWN, "census_adults": np.nan, "census_share": np.nan,
                         "respondents": int(unknown.sum()), "respondent_share": unknown.mean(),
                         "weighted_share": resp["weight"][unknown].sum() / resp["weight"].sum()})
    return pd.DataFrame(rows)


def estimate_tables(con, survey: Survey, resp: pd.DataFrame, cells: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per question: by segment, by ward (direct and model) and by each equality field mapped."""
    from pipeline.profiles.levels import order_codes, segment_names

    names = segment_names(con, "segment")
    ward_names = dict(execute(con, "survey_ward_names", "SELECT DISTINCT ward_code, ward_name FROM ref_oa",
                              fetch="all"))
    segments = order_codes(sorted(set(cells["segment"])))
    out = {}
    for q in survey.questions:
        col = f"q_{q.name}"
        binary = q.kind != "numeric"
        seg = by_domain(resp, col, "weight", "segment", binary, order=segments)
        seg.insert(1, "name", seg["domain"].map(names).fillna(""))
        out[f"{q.name}_segment"] = seg
        seg_est = seg.set_index("domain")["estimate"].drop(index="All")
        model = ward_estimates(resp, col, "weight", cells, seg_est, binary)
        wt = model.table.reset_index(names="ward")
        wt.insert(1, "name", wt["ward"].map(ward_names).fillna(""))
        area = float(seg.loc[seg["domain"] == "All", "estimate"].iloc[0])
        wt["vs_area"] = np.where(wt["lower"] > area, "higher",
                                 np.where(wt["upper"] < area, "lower", "similar"))
        out[f"{q.name}_ward"] = wt[WARD_COLUMNS]
        for f in EQUALITY_VIEWS:
            if f in survey.columns and resp[f].notna().any():
                out[f"{q.name}_{f}"] = by_domain(resp, col, "weight", f, binary)
        if "imd_decile" in resp.columns:
            deciles = [str(d) for d in range(1, 11) if (resp["imd_decile"] == str(d)).any()]
            out[f"{q.name}_imd_decile"] = by_domain(resp, col, "weight", "imd_decile", binary, order=deciles)
    return out


def with_deprivation(con, cfg: RunConfig, resp: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """The respondents with their OA's national IMD decile (`imd_decile`, text 1-10) when the run
    config has a deprivation block (pipeline.profiles.deprivation, issue 28); unchanged otherwise."""
    if getattr(cfg, "deprivation", None) is None:
        return resp
    from pipeline.profiles.deprivation import area_deprivation

    found = area_deprivation(con, cfg, sorted(set(resp["oa21cd"].astype(str))))
    if found is None:
        return resp
    index, more = found
    notes += more
    decile = index.set_index("oa21cd")["imd_decile"]
    out = resp.copy()
    out["imd_decile"] = out["oa21cd"].map(decile).map(lambda d: None if pd.isna(d) else str(int(d)))
    return out


def publish(cfg: RunConfig, survey: Survey, result: SurveyResult) -> Path:
    """Write the survey's shareable tables (aggregates, suppressed) to outputs/<run>/surveys/<name>/."""
    from pipeline.surveys.publish import write_tables

    return write_tables(cfg, survey, result)
