-- The postcode directory under standard names (boundaries.loaders.postcode_directory_sql, which fills
-- in the configured columns, quoted and cast, or NULL where the directory lacks one).
-- pc_key: the one postcode key rule (macro of pipeline/address/postcode.py). A postcode is live when
-- its termination date is blank (ONSPD doterm) or its live flag is true ({live}); non-geographic when
-- its grid quality is 9 (ONSPD osgrdind: no grid reference, e.g. PO boxes); large-user when its user
-- type is 1 (ONSPD usertype). An easting or northing of 0 means no coordinates.
SELECT pc_key({postcode}) AS pc_key,
       {postcode} AS pcds,
       nullif(trim({oa}), '') AS oa21cd,
       nullif(trim({ward}), '') AS ward_code,
       nullif(trim({lad}), '') AS lad_code,
       nullif(TRY_CAST({easting} AS DOUBLE), 0) AS easting,
       nullif(TRY_CAST({northing} AS DOUBLE), 0) AS northing,
       {live} AS is_live,
       coalesce(trim({grid_quality}) = '9', false) AS non_geographic,
       coalesce(trim({user_type}) = '1', false) AS large_user
FROM read_csv({path}, all_varchar = true, header = true)
WHERE pc_key({postcode}) <> ''
