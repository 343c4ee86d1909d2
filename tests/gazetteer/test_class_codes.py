"""A record matched to a non-residential address is counted as such in the match report
(quality/corrections.csv, non_residential_matches), from the gazetteer's class code."""

from __future__ import annotations

import duckdb

from pipeline.address import published
from pipeline.geocode import EMPTY_GAZETTEER
from pipeline.warehouse import sql


def test_non_residential_matches_are_counted_by_class_code():
    con = duckdb.connect()
    published.install(con)
    con.execute(EMPTY_GAZETTEER)
    # a dwelling, an office, a dual-use shop with flat, an address with no class code
    con.execute("""INSERT INTO ref_gazetteer (uprn, class_code, residential)
                   SELECT uprn, code, gaz_residential(code) FROM (VALUES ('1', 'RD04'), ('2', 'CO01'),
                          ('3', 'X'), ('4', NULL)) t(uprn, code)""")
    assert con.execute("SELECT list(residential ORDER BY uprn) FROM ref_gazetteer").fetchone()[0] == \
        [True, False, True, None]
    con.execute("""CREATE TABLE geocode_svc AS SELECT * FROM (VALUES
        (1, 'uprn', '2'), (2, 'address_exact', '2'), (3, 'address_fuzzy', '1'), (4, 'address_exact', '3'),
        (5, 'address_exact', '4'), (6, 'postcode_live', NULL), (7, NULL, NULL))
        t(row_number, match_level, uprn)""")
    con.execute("""ALTER TABLE geocode_svc ADD COLUMN postcode_corrected BOOLEAN DEFAULT false;
                   ALTER TABLE geocode_svc ADD COLUMN postcode_terminated BOOLEAN DEFAULT false;
                   ALTER TABLE geocode_svc ADD COLUMN postcode_large_user BOOLEAN DEFAULT false;
                   ALTER TABLE geocode_svc ADD COLUMN uprn_given VARCHAR""")
    row = con.execute(sql("quality_corrections", service="svc")).fetchone()
    assert row[-1] == 2  # the office, matched twice; the dwelling, dual use and unclassified are not counted
    assert row[-2] == 1  # fuzzy address matches still counted as before
