-- Geocode one service by postcode.
-- household_key: UPRN where known (later), else normalised address + postcode, else the record.
-- Every ingested row gets exactly one outcome:
-- match_level (postcode_live | postcode_terminated) or reject_reason, in this order of precedence:
--   blank_row, duplicate_row, missing_postcode, partial_postcode, invalid_postcode,
--   postcode_not_found, postcode_no_oa, out_of_area.
CREATE OR REPLACE TABLE geocode_{service} AS
WITH src AS (
    SELECT row_number, row_blank,
           upper(regexp_replace(concat_ws(' ', address_1, address_2), '[^A-Za-z0-9]+', ' ', 'g'))
               AS address_key,
           upper(regexp_replace(trim(coalesce(postcode, '')), '\s+', ' ', 'g')) AS pc_spaced,
           upper(regexp_replace(coalesce(postcode, ''), '\s', '', 'g')) AS pc_key,
           row_number() OVER (PARTITION BY row_hash ORDER BY row_number) AS copy_no
    FROM ingest_{service}
),
joined AS (
    SELECT s.*, p.pc_key IS NOT NULL AS in_directory, p.pcds, p.oa21cd, p.is_live,
           p.easting, p.northing, o.oa21cd IS NOT NULL AS in_area, o.ward_code
    FROM src s
    LEFT JOIN ref_postcodes p ON p.pc_key = s.pc_key
    LEFT JOIN ref_oa o ON o.oa21cd = p.oa21cd
),
judged AS (
    SELECT *,
        CASE
            WHEN row_blank THEN 'blank_row'
            WHEN copy_no > 1 THEN 'duplicate_row'
            WHEN pc_key = '' THEN 'missing_postcode'
            WHEN regexp_full_match(pc_spaced, '[A-Z]{{1,2}}[0-9][A-Z0-9]? [0-9]') THEN 'partial_postcode'
            WHEN NOT regexp_full_match(pc_key, '[A-Z]{{1,2}}[0-9][A-Z0-9]?[0-9][ABD-HJLNP-UW-Z]{{2}}')
                THEN 'invalid_postcode'
            WHEN NOT in_directory THEN 'postcode_not_found'
            WHEN oa21cd IS NULL THEN 'postcode_no_oa'
            WHEN NOT in_area THEN 'out_of_area'
        END AS reject_reason
    FROM joined
)
SELECT row_number,
       CASE WHEN reject_reason IS NULL
            THEN CASE WHEN is_live THEN 'postcode_live' ELSE 'postcode_terminated' END END AS match_level,
       reject_reason,
       CASE WHEN reject_reason IS NULL OR reject_reason = 'out_of_area' THEN pcds END AS postcode,
       CASE WHEN reject_reason IS NULL THEN oa21cd END AS oa21cd,
       CASE WHEN reject_reason IS NULL THEN ward_code END AS ward_code,
       CASE WHEN reject_reason IS NULL THEN easting END AS easting,
       CASE WHEN reject_reason IS NULL THEN northing END AS northing,
       -- household key: normalised address + postcode where an address is given, else the record
       CASE WHEN reject_reason IS NOT NULL THEN NULL
            WHEN trim(address_key) <> '' THEN 'addr:' || md5(trim(address_key) || '|' || pc_key)
            ELSE 'row:' || row_number END AS household_key
FROM judged
ORDER BY row_number;
