-- Stage 2a: judge each row's postcode on its own (and read its UPRN and address), one row per record.
-- duplicate_of: for the second and later copies of an identical row, the row number of its first copy.
-- Postcode (macros of pipeline/address/postcode.py): pc_key() reads it as a person would (upper case,
-- full-width and look-alike letters folded, every character that is not a letter or digit dropped);
-- pc_valid() applies the letter-position rules of UK postcodes (and GIR 0AA). An invalid key that
-- reads as exactly one legal postcode once confused characters (O/0, I/1, L/1, Z/2, S/5) are
-- corrected, with the fewest changes, is tried in that reading (pc_reading); the correction counts
-- (postcode_corrected) only when the directory holds it, otherwise the row is postcode_not_found and
-- the reading is kept as postcode_attempted.
-- partial_postcode: the district or sector alone ('DM4', 'AB 10', 'DM4 7'); pc_sector: the sector a
-- postcode shows (no space, 'DM47').
-- pc_outcome is what the postcode alone gives: postcode_live | postcode_terminated, or a reason
--   missing_postcode, partial_postcode, invalid_postcode, postcode_not_found, postcode_non_geographic
--   (the directory gives it no grid reference: PO boxes and the like), postcode_no_oa, out_of_area.
-- non_record: header_repeat (the header row again, as report exports repeat it on each page) or
-- footer_row (a footer or banner: Total ..., End of report, Page N of M, Report generated ...; see
-- pipeline.geocode.row_kind_sql), the latter only when the row gives no usable postcode or UPRN.
-- large_user: the directory marks the postcode as a large user's (one address receiving much mail).
-- located_outside: for a directory without OAs (Code-Point), a postcode point in none of the area's OAs.
CREATE OR REPLACE TEMP VIEW geocode_pc_{service} AS
WITH repeated AS (  -- the few row hashes seen more than once, with the row of their first copy
    SELECT row_hash, min(row_number) AS first_row
    FROM ingest_{service} GROUP BY row_hash HAVING count(*) > 1
),
src AS (
    SELECT i.row_number, row_blank, row_kind, uprn AS uprn_as_given, postcode AS postcode_as_given,
           {address_text} AS address_text,  -- the mapped address lines, joined by spaces
           {address_12} AS address_12,
           pc_key(postcode) AS pc_raw,
           CASE WHEN i.row_number > r.first_row THEN r.first_row END AS duplicate_of
    FROM ingest_{service} i LEFT JOIN repeated r USING (row_hash)
),
checked AS (
    SELECT *, pc_valid(pc_raw) AS raw_valid FROM src
),
keyed AS (
    SELECT *, coalesce(pc_fix, pc_raw) AS pc_key, raw_valid OR pc_fix IS NOT NULL AS pc_valid
    FROM (SELECT *,  -- the reading is looked for on the few invalid keys only
                 CASE WHEN raw_valid OR length(pc_raw) NOT BETWEEN 5 AND 7 OR pc_partial(pc_raw) THEN NULL
                      ELSE pc_reading(pc_raw) END AS pc_fix
          FROM checked)
),
joined AS (
    SELECT k.*,
           CASE WHEN k.row_kind = 'header_repeat' THEN 'header_repeat'
                WHEN k.row_kind = 'footer_row' AND NOT k.pc_valid AND trim(coalesce(k.uprn_as_given, '')) = ''
                THEN 'footer_row' END AS non_record,
           p.pc_key IS NOT NULL AS in_directory, p.pcds, p.oa21cd, p.is_live, p.non_geographic,
           coalesce(p.large_user, false) AS large_user, {located_outside} AS located_outside,
           p.easting, p.northing, o.oa21cd IS NOT NULL AS in_area, o.ward_code
    FROM keyed k
    LEFT JOIN ref_postcodes p ON p.pc_key = k.pc_key
    LEFT JOIN ref_oa o ON o.oa21cd = p.oa21cd
)
SELECT row_number, row_blank, duplicate_of, non_record, uprn_as_given, address_text,
       CASE WHEN trim(address_12) <> ''
            THEN upper(trim(regexp_replace(address_12, '[^A-Za-z0-9]+', ' ', 'g'))) END AS address_key,
       pc_key, pc_valid, pc_fix IS NOT NULL AND in_directory AS postcode_corrected,
       CASE WHEN pc_fix IS NOT NULL AND NOT in_directory THEN pc_fix END AS postcode_attempted,
       pcds, oa21cd, ward_code, easting, northing, large_user,
       CASE WHEN non_record IS NOT NULL OR pc_raw = '' THEN NULL
            WHEN pc_valid THEN left(pc_key, length(pc_key) - 2)  -- the sector the postcode shows, if any
            ELSE nullif(replace(regexp_extract(trim(regexp_replace(pc_fold(postcode_as_given),
                                                                   '[^\p{{L}}\p{{N}}]+', ' ', 'g')),
                                               '^[A-Z]{{1,2}}[0-9][A-Z0-9]? [0-9]'), ' ', ''), '')
       END AS pc_sector,
       CASE
           WHEN pc_key = '' THEN 'missing_postcode'
           WHEN NOT pc_valid THEN CASE WHEN pc_partial(pc_raw) THEN 'partial_postcode' ELSE 'invalid_postcode' END
           WHEN NOT in_directory THEN 'postcode_not_found'
           WHEN non_geographic THEN 'postcode_non_geographic'
           WHEN oa21cd IS NULL AND NOT located_outside THEN 'postcode_no_oa'
           WHEN NOT in_area THEN 'out_of_area'
           WHEN is_live THEN 'postcode_live'
           ELSE 'postcode_terminated'
       END AS pc_outcome
FROM joined;
