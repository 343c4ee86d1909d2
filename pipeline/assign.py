"""Stage 3, assign: store the OA classification and give every geocoded record its segment.

Writes `segments_oa` (oa21cd, segment), `segments_names` (segment, segment_name) and
`assign_<service>` (SQL in `sql/assign.sql`).
"""

from __future__ import annotations

import logging

import duckdb
import pandas as pd

from pipeline.config import RunConfig
from pipeline.ingest import option_column
from pipeline.warehouse import sql

logger = logging.getLogger(__name__)


def store_segments(con: duckdb.DuckDBPyConnection, assignments: pd.DataFrame, names: pd.DataFrame) -> None:
    """Keep the classification of the area's OAs; every OA of `ref_oa` must have a segment."""
    con.register("seg_df", assignments[["oa21cd", "segment"]])
    con.execute("CREATE OR REPLACE TABLE segments_oa AS SELECT * FROM seg_df ORDER BY oa21cd")
    con.unregister("seg_df")
    con.register("names_df", names[["segment", "segment_name"]])
    con.execute("CREATE OR REPLACE TABLE segments_names AS SELECT * FROM names_df ORDER BY segment")
    con.unregister("names_df")
    missing = con.execute(
        "SELECT oa21cd FROM ref_oa ANTI JOIN segments_oa USING (oa21cd) ORDER BY 1"
    ).fetchall()
    if missing:
        raise ValueError(
            f"{len(missing)} OA(s) of the area have no segment in the classification, e.g. "
            f"{[m[0] for m in missing[:10]]}; the classification must cover every OA"
        )


def run(con: duckdb.DuckDBPyConnection, cfg: RunConfig) -> dict[str, int]:
    counts = {}
    for service in cfg.services:
        options = "".join(f", i.{option_column(o)}" for o in service.options)
        con.execute(sql("assign", service=service.name, option_columns=options))
        counts[service.name] = con.execute(f"SELECT count(*) FROM assign_{service.name}").fetchall()[0][0]
    return counts
