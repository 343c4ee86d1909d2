"""`insight area`: build an area's inputs and run config from the national ONS, Nomis and OS products.

One module per step:

- `sources`: the product catalogue (`products.yaml`: publisher, title, tested release, file and
  header patterns, licence, attribution, address, what works without it); `insight sources`.
- `find`: recognise the products in a folder, zipped as downloaded or unpacked, by header.
- `cut`: cut each national file to the chosen local authorities in DuckDB, file to file (CSV in,
  CSV out, never through pandas); boundary layers through GDAL with an attribute filter. The
  postcode directory stays national, in a reusable reference database.
- `ranges`: with `--national-ranges`, the classification variables' ranges over every OA of the
  national census files, for `segmentation.reference`.
- `writeconfig`: write `config/areas/<name>.yaml` and validate it.
- `build`: the whole command, and what it prints.
- `download`: the optional `--download` of the products with a published address, into a cache.

See docs/area.md.
"""

from __future__ import annotations

from pipeline.config import UserError


class AreaError(UserError):
    """A problem with the national products or the local authority codes given to `insight area`:
    printed as `error:` lines, each naming the product and the fix."""
