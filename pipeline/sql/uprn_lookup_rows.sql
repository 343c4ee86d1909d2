-- UPRN lookup (pipeline/address/uprn_lookup.py): the area's UPRNs of the ONSUD-layout file(s) into
-- ref_uprn. The placeholder keyed: the file's rows keyed (uprn_lookup_keyed.sql, as a subquery; on
-- Spark the reference cache's dataset of them); order_by: ORDER BY u.uprn on DuckDB (the table is
-- stored in UPRN order), nothing on Spark (a view, joined by UPRN).
-- A UPRN of the gazetteer keeps the gazetteer's entry; only the area's OAs (ref_oa) are kept.
INSERT INTO ref_uprn
SELECT u.uprn, u.postcode, u.pc_key, u.oa21cd, o.ward_code, u.x, u.y, 'uprn_lookup'
FROM {keyed} u
JOIN ref_oa o USING (oa21cd)
WHERE u.uprn IS NOT NULL
  AND u.uprn NOT IN (SELECT uprn FROM ref_gazetteer WHERE uprn IS NOT NULL)
{order_by}
