-- UPRN lookup (pipeline/address/uprn_lookup.py): every row of the ONSUD-layout file(s), under standard
-- names, keyed: the UPRN by the one UPRN rule (uprn_key(), pipeline.address.uprn), the postcode by
-- pc_key(). {source}: read_csv of the file(s), whose path is bound ($1); {uprn}, {postcode}, {oa},
-- {easting}, {northing}: its columns as configured (quoted), or NULL. uprn_lookup_rows.sql keeps the
-- area's rows; the Spark engine keeps these rows, national, in its reference cache
-- (pipeline.spark.reference) and applies uprn_lookup_rows.sql to them on each run.
SELECT {uprn} AS uprn,
       upper(regexp_replace(trim({postcode}), '\s+', ' ', 'g')) AS postcode,
       pc_key({postcode}) AS pc_key,
       trim({oa}) AS oa21cd,
       TRY_CAST({easting} AS DOUBLE) AS x,
       TRY_CAST({northing} AS DOUBLE) AS y
FROM {source}
