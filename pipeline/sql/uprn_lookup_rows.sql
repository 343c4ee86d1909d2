-- UPRN lookup (pipeline/address/uprn_lookup.py): the ONSUD-layout file's UPRNs of the area into
-- ref_uprn, under standard names. {source}: read_csv of the file(s), whose path is bound ($1); {uprn}, {postcode}, {oa},
-- {easting}, {northing}: its columns as configured (quoted), or NULL; the UPRN keyed by the
-- one UPRN rule (uprn_key(), pipeline.address.uprn), the postcode keyed by pc_key().
-- A UPRN of the gazetteer keeps the gazetteer's entry; only the area's OAs (ref_oa) are kept.
INSERT INTO ref_uprn
SELECT u.uprn, u.postcode, u.pc_key, u.oa21cd, o.ward_code, u.x, u.y, 'uprn_lookup'
FROM (
    SELECT {uprn} AS uprn,
           upper(regexp_replace(trim({postcode}), '\s+', ' ', 'g')) AS postcode,
           pc_key({postcode}) AS pc_key,
           trim({oa}) AS oa21cd,
           TRY_CAST({easting} AS DOUBLE) AS x,
           TRY_CAST({northing} AS DOUBLE) AS y
    FROM {source}
) u
JOIN ref_oa o USING (oa21cd)
WHERE u.uprn IS NOT NULL
  AND u.uprn NOT IN (SELECT uprn FROM ref_gazetteer WHERE uprn IS NOT NULL)
ORDER BY u.uprn
