"""Derive the small reference tables the demo-borough generator reads, from real Trafford data.

Derived from Census 2021 (ONS, OGL v3) and the 2021 OAC (ONS/UCL).

Writes, next to this module:

* ``census_structure.csv``: for each of the 46 Census 2021 tables the exact Nomis bulk headers in
  order, each column's role (``total``, ``subtotal``, ``leaf``, ``households``, ``density``) and
  its parent column (the column it sums into), so generated files nest as the real ones do.
* ``type_profiles.csv``: for each 2021 OAC supergroup (type 1-8) and each leaf category, the mean
  share of the category within its table over the Trafford Output Areas of that supergroup.
* ``type_totals.csv``: for each type and table, the mean ratio of the table's population (sum of
  its leaf categories) to the OA's households (TS041), e.g. usual residents per household.

Run from the repository root when the real data is present at ``../shared``::

    .venv/bin/python -m pipeline.synth.derive_type_profiles [--shared ../shared]

The generator itself only reads the committed CSVs, never ``../shared``.
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent

#: Tables whose nesting is not visible in the headers: column -> parent column (0-based).
PARENT_OVERRIDES = {
    "ts039": {3: 2, 4: 2, 6: 5, 7: 5},
    "ts027": {c: 6 for c in range(7, 14)},
}


def _label_parts(header: str) -> list[str]:
    label = re.sub(r";\s*measures:\s*Value\s*$", "", header)
    parts = [p.strip() for p in label.split(":")]
    return parts[1:]  # drop the table name


def table_structure(table: str, headers: list[str]) -> list[dict]:
    """Roles and parents of a Nomis table's value columns, parsed from the headers."""
    if table == "ts041":
        return [{"col": 0, "header": headers[0], "role": "households", "parent": -1}]
    if table == "ts006":
        return [{"col": 0, "header": headers[0], "role": "density", "parent": -1}]
    parts = [_label_parts(h) for h in headers]
    total = None
    if parts[0] and parts[0][0] in ("Total", "All persons"):
        total = 0
    parents: list[int] = []
    for i, p in enumerate(parts):
        parent = -1
        if i != total:
            for j in range(i - 1, -1, -1):
                if j == total:
                    continue
                q = parts[j]
                if len(q) < len(p) and p[: len(q)] == q:
                    parent = j
                    break
            if parent == -1 and total is not None:
                parent = total
        parents.append(parent)
    for col, par in PARENT_OVERRIDES.get(table, {}).items():
        parents[col] = par
    has_children = {p for p in parents if p >= 0}
    rows = []
    for i, h in enumerate(headers):
        if i == total:
            role = "total"
        elif i in has_children:
            role = "subtotal"
        else:
            role = "leaf"
        rows.append({"col": i, "header": h, "role": role, "parent": parents[i]})
    return rows


def derive(shared: Path, out_dir: Path = HERE) -> dict:
    """Compute the three reference tables from the Trafford files under ``shared``."""
    base = shared / "ons" / "trafford"
    census = base / "census2021"
    oac = pd.read_csv(base / "oac2021" / "trafford_oac2021_assignment.csv")
    types = oac.set_index("Geography_Code")["Supergroup"].astype(int)
    hh = pd.read_csv(census / "census2021-ts041-oa-trafford.csv")
    households = hh.set_index("geography code")[hh.columns[3]].astype(float)

    struct_rows, profile_rows, total_rows = [], [], []
    files = sorted(census.glob("census2021-ts*-oa-trafford.csv"))
    for f in files:
        table = f.name.split("-")[1]
        df = pd.read_csv(f).set_index("geography code")
        headers = list(df.columns[2:])
        rows = table_structure(table, headers)
        vals = df[headers].to_numpy(float)
        # check the nesting against the data (cell-key perturbation allows small differences)
        for r in rows:
            kids = [k["col"] for k in rows if k["parent"] == r["col"]]
            if kids:
                diff = np.abs(vals[:, r["col"]] - vals[:, kids].sum(axis=1)).mean()
                if diff > 3:
                    logger.warning("%s col %d differs from its children by %.1f", table, r["col"], diff)
        for r in rows:
            struct_rows.append({"table": table, **r})
        leaves = [r["col"] for r in rows if r["role"] == "leaf"]
        if not leaves:
            continue
        lv = vals[:, leaves]
        tot = lv.sum(axis=1)
        share = np.divide(lv, tot[:, None], out=np.zeros_like(lv), where=tot[:, None] > 0)
        t = types.reindex(df.index).to_numpy()
        ratio = tot / households.reindex(df.index).to_numpy()
        for ty in range(1, 9):
            m = t == ty
            mean_share = share[m].mean(axis=0)
            mean_share = mean_share / mean_share.sum()
            for c, s in zip(leaves, mean_share, strict=True):
                label = ": ".join(_label_parts(headers[c]))
                profile_rows.append(
                    {"type": ty, "table": table, "col": c, "category": label, "share": round(s, 6)}
                )
            total_rows.append({"type": ty, "table": table, "ratio": round(float(ratio[m].mean()), 4)})

    pd.DataFrame(struct_rows).to_csv(out_dir / "census_structure.csv", index=False, lineterminator="\n")
    pd.DataFrame(profile_rows).to_csv(out_dir / "type_profiles.csv", index=False, lineterminator="\n")
    pd.DataFrame(total_rows).to_csv(out_dir / "type_totals.csv", index=False, lineterminator="\n")
    summary = {"tables": len(files), "profile_rows": len(profile_rows)}
    logger.info("Derived type profiles: %s", summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path("../shared"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(derive(args.shared))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
