"""National ranges for an area's classification: `insight area ... --national-ranges`.

The classification standardises each variable x_j after the inverse hyperbolic sine
(`segments.transform`):

    z_ij = (asinh(x_ij) - asinh(min_j)) / (asinh(max_j) - asinh(min_j))

Built on the area alone, min_j and max_j are the area's own, so the area's extremes become 0 and 1
and a 'high' in one council is not a 'high' in the next. The official OAC takes them over the
whole country. With `--national-ranges`, `insight area` computes every variable of the spec over
every Output Area in the national census files it was given (all of England and Wales, or a
region if those are the files saved) and writes them as `segmentation.reference`: the area is
still clustered on its own Output Areas, on the national scale. The ranges are those a
census-wide build on the same files uses (`python -m segments` with `scope: census`): values
from `compute_percentages`, gaps filled by `fill_missing`, then min and max per variable.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.area import AreaError
from pipeline.area.cut import Workspace
from pipeline.area.find import Entry
from pipeline.config import Census, Segmentation

#: The file of ranges inside the area's census folder
RANGES_FILE = "national_ranges.csv"


def national_ranges(ws: Workspace, census: dict[str, Entry], drop: list[str], target: Path
                    ) -> tuple[int, int]:
    """Write the range of each variable over every OA of the national `census` files to `target`
    (columns variable,min,max); return (Output Areas covered, variables)."""
    from segments.build import variable_spec
    from segments.census import CensusError
    from segments.transform import fill_missing, reference_ranges
    from segments.variables import SpecError, compute_percentages

    folder = ws.dir / "national_census"
    folder.mkdir(exist_ok=True)
    for table, entry in census.items():  # the national files under the names the reader looks for
        (folder / f"census2021-{table}-oa.csv").symlink_to(ws.local(entry).resolve())
    seg = Segmentation(drop=drop)
    try:
        values = compute_percentages(Census(dir=folder, pattern="census2021-{table}-oa.csv"),
                                     variable_spec(seg), dropped=seg.drop)
    except (CensusError, SpecError) as exc:
        raise AreaError("the national ranges cannot be computed from the national census files",
                        [f"{p}. Fix: save the Nomis bulk files again, or leave out --national-ranges"
                         for p in exc.problems]) from None
    finally:
        for entry in census.values():
            ws.release(entry)
    ranges = reference_ranges(fill_missing(values))
    target.parent.mkdir(parents=True, exist_ok=True)
    ranges.to_csv(target, float_format="%.12g", lineterminator="\n")
    return len(values), len(ranges)
