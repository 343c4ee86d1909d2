-- Stage 2a: judge each row's postcode on its own (and read its UPRN and address), one row per record.
-- duplicate_of: for the second and later copies of an identical row, the row number of its first copy.
-- Postcode: upper case, spaces removed; an invalid postcode whose only fault is letter O / digit 0 or
-- letter I / digit 1 in a position where only one of them is legal is corrected and flagged:
--   outward A9: 1st letter, 2nd digit; A9A / A99 / AA9: 1st letter; AA9A / AA99: 1st, 2nd letters,
--   3rd digit; inward: 1st digit (its two letters may be neither O nor I, so they are never guessed).
-- partial_postcode: the district or sector alone ('DM4', 'DM4 7'); pc_sector: the sector a postcode shows.
-- pc_outcome is what the postcode alone gives: postcode_live | postcode_terminated, or a reason
--   missing_postcode, partial_postcode, invalid_postcode, postcode_not_found, postcode_non_geographic
--   (the directory gives it no grid reference: PO boxes and the like), postcode_no_oa, out_of_area.
-- large_user: the directory marks the postcode as a large user's (one address receiving much mail).
-- located_outside: for a directory without OAs (Code-Point), a postcode point in none of the area's OAs.
CREATE OR REPLACE TEMP VIEW geocode_pc_{service} AS
WITH repeated AS (  -- the few row hashes seen more than once, with the row of their first copy
    SELECT row_hash, min(row_number) AS first_row
    FROM ingest_{service} GROUP BY row_hash HAVING count(*) > 1
),
src AS (
    SELECT i.row_number, row_blank, uprn AS uprn_as_given, postcode AS postcode_as_given,
           {address_text} AS address_text,  -- the mapped address lines, joined by spaces
           {address_12} AS address_12,
           upper(replace(replace(replace(coalesce(postcode, ''), ' ', ''), chr(9), ''), chr(160), ''))
               AS pc_raw,
           CASE WHEN i.row_number > r.first_row THEN r.first_row END AS duplicate_of
    FROM ingest_{service} i LEFT JOIN repeated r USING (row_hash)
),
checked AS (
    SELECT *, regexp_full_match(pc_raw, '[A-Z]{{1,2}}[0-9][A-Z0-9]?[0-9][ABD-HJLNP-UW-Z]{{2}}') AS raw_valid
    FROM src
),
fixed AS (
    SELECT *,
        CASE WHEN raw_valid OR length(pc_raw) NOT BETWEEN 5 AND 7 THEN pc_raw ELSE
            translate(substr(pc_raw, 1, 1), '01', 'OI')
            || CASE length(pc_raw) - 3
                   WHEN 2 THEN translate(substr(pc_raw, 2, 1), 'OI', '01')
                   WHEN 3 THEN substr(pc_raw, 2, 2)
                   ELSE translate(substr(pc_raw, 2, 1), '01', 'OI')
                        || translate(substr(pc_raw, 3, 1), 'OI', '01') || substr(pc_raw, 4, 1) END
            || translate(substr(pc_raw, -3, 1), 'OI', '01') || substr(pc_raw, -2, 2)
        END AS pc_fix
    FROM checked
),
keyed AS (
    SELECT * EXCLUDE (pc_fix, postcode_corrected), postcode_corrected,
           CASE WHEN postcode_corrected THEN pc_fix ELSE pc_raw END AS pc_key,
           raw_valid OR postcode_corrected AS pc_valid
    FROM (SELECT *, NOT raw_valid AND pc_fix <> pc_raw
                    AND regexp_full_match(pc_fix, '[A-Z]{{1,2}}[0-9][A-Z0-9]?[0-9][ABD-HJLNP-UW-Z]{{2}}')
                    AS postcode_corrected
          FROM fixed)
),
joined AS (
    SELECT k.*, p.pc_key IS NOT NULL AS in_directory, p.pcds, p.oa21cd, p.is_live, p.non_geographic,
           coalesce(p.large_user, false) AS large_user, {located_outside} AS located_outside,
           p.easting, p.northing, o.oa21cd IS NOT NULL AS in_area, o.ward_code
    FROM keyed k
    LEFT JOIN ref_postcodes p ON p.pc_key = k.pc_key
    LEFT JOIN ref_oa o ON o.oa21cd = p.oa21cd
)
SELECT row_number, row_blank, duplicate_of, uprn_as_given, address_text,
       CASE WHEN trim(address_12) <> ''
            THEN upper(trim(regexp_replace(address_12, '[^A-Za-z0-9]+', ' ', 'g'))) END AS address_key,
       pc_key, postcode_corrected, pcds, oa21cd, ward_code, easting, northing, large_user,
       CASE WHEN pc_valid THEN left(pc_key, length(pc_key) - 2)  -- the sector the postcode shows, if any
            ELSE nullif(replace(regexp_extract(upper(regexp_replace(trim(coalesce(postcode_as_given, '')),
                                                                     '\s+', ' ', 'g')),
                                               '^[A-Z]{{1,2}}[0-9][A-Z0-9]? [0-9]'), ' ', ''), '')
       END AS pc_sector,
       CASE
           WHEN pc_key = '' THEN 'missing_postcode'
           WHEN NOT pc_valid THEN  -- the regex runs on the few invalid rows only
               CASE WHEN regexp_full_match(upper(regexp_replace(trim(postcode_as_given), '\s+', ' ', 'g')),
                                           '[A-Z]{{1,2}}[0-9][A-Z0-9]?( [0-9])?')
                    THEN 'partial_postcode' ELSE 'invalid_postcode' END
           WHEN NOT in_directory THEN 'postcode_not_found'
           WHEN non_geographic THEN 'postcode_non_geographic'
           WHEN oa21cd IS NULL AND NOT located_outside THEN 'postcode_no_oa'
           WHEN NOT in_area THEN 'out_of_area'
           WHEN is_live THEN 'postcode_live'
           ELSE 'postcode_terminated'
       END AS pc_outcome
FROM joined;
