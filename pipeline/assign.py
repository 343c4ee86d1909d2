"""Stage 3, assign: store the OA classification and give every geocoded record its segment.

Writes `segments_oa` (oa21cd, segment, supergroup/group/subgroup), `segments_names` (level,
segment, segment_name, description, colour) and
`assign_<service>` (SQL in `sql/assign.sql`).
"""

from __future__ import annotations

import logging

import duckdb
import pandas as pd

from pipeline.config import RunConfig
from pipeline.errors import UserValueError
from pipeline.ingest.headers import option_column, outcome_column
from pipeline.warehouse import count_sql, execute, sql

logger = logging.getLogger(__name__)


def store_segments(con: duckdb.DuckDBPyConnection, assignments: pd.DataFrame, names: pd.DataFrame) -> None:
    """Keep the classification of the area's OAs; every OA of `ref_oa` must have a segment.

    `segments_oa`: oa21cd, segment and the supergroup/group/subgroup columns present, for the
    OAs of `ref_oa` (a classification built on a region keeps only the area's OAs here);
    `segments_names`: level, segment, segment_name, description, colour, one row per code per
    level (a names table without a level column is taken as the supergroup tier).
    """
    tiers = [c for c in ("supergroup", "group", "subgroup") if c in assignments.columns]
    con.register("seg_df", assignments[["oa21cd", "segment", *tiers]])
    execute(con, "segments_oa",
        "CREATE OR REPLACE TABLE segments_oa AS SELECT s.* FROM seg_df s "
        "WHERE s.oa21cd IN (SELECT oa21cd FROM ref_oa) ORDER BY s.oa21cd"
    )
    con.unregister("seg_df")
    table = names.copy()
    if "level" not in table.columns:
        table.insert(0, "level", "supergroup")
    for col in ("description", "colour"):
        if col not in table.columns:
            table[col] = None
    con.register("names_df", table[["level", "segment", "segment_name", "description", "colour"]])
    execute(con, "segments_names",
        "CREATE OR REPLACE TABLE segments_names AS SELECT * FROM names_df "
        "ORDER BY CASE level WHEN 'supergroup' THEN 1 WHEN 'group' THEN 2 ELSE 3 END, "
        "length(segment), segment"
    )
    con.unregister("names_df")
    missing = execute(con, "segments_missing_oas", "SELECT oa21cd FROM ref_oa ANTI JOIN segments_oa "
                      "USING (oa21cd) ORDER BY 1", fetch="all")
    if missing:
        raise UserValueError(
            f"{len(missing)} OA(s) of the area have no segment in the classification, e.g. "
            f"{[m[0] for m in missing[:10]]}; the classification must cover every OA"
        )


def run(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict[str, int]:
    counts = {}
    for service in cfg.services:
        options = "".join(f", i.{option_column(o)}" for o in service.options)
        options += "".join(f", i.{outcome_column(o.name)}" for o in service.outcomes)
        execute(con, "assign", sql("assign", service=service.name, option_columns=options))
        counts[service.name] = execute(con, "assign_rows", count_sql(f"assign_{service.name}"), fetch="value")
    return counts
