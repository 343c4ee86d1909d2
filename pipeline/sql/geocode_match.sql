-- Stage 2b: one outcome per record, by the match hierarchy
--   blank_row > header_repeat > footer_row > duplicate_row > uprn > address_exact > address_fuzzy > postcode_live
--   > postcode_terminated > the postcode's reject reason.
-- uprn: the record's UPRN is a UPRN of the area (ref_uprn: the gazetteer's, then the UPRN lookup's) and
-- does not contradict the record: its postcode is the record's (unless the record's postcode is unusable)
-- and the address matcher found no other UPRN for the record's address (a mistyped UPRN is often
-- another real one).
-- address_*: the matcher's UPRN (scratch table scratch_address_match_{service}, written by
-- pipeline.geocode.match_addresses and dropped once this has run).
-- household_key: the UPRN where known, else normalised address + postcode, else the record (service and
-- row), each keyed by insight_key (HMAC-SHA256 under the installation's secret, pipeline.secret): a
-- key cannot be confirmed by hashing a guessed address or UPRN, and is the same for one household
-- in every service of the installation.
-- The table is made empty, in its column types, by geocode_table.sql.
INSERT INTO geocode_{service} BY NAME
WITH u AS (
    SELECT p.*, uprn_key(p.uprn_as_given) AS uprn_clean  -- the one UPRN rule, pipeline.address.uprn
    FROM geocode_pc_{service} p
),
judged AS (
    SELECT u.*, gu.uprn AS uprn_known, a.uprn AS addr_uprn, a.level AS addr_level, a.score AS addr_score,
        CASE WHEN (gu.pc_key = u.pc_key OR u.pc_outcome IN ('missing_postcode', 'partial_postcode',
                                                              'invalid_postcode', 'postcode_not_found',
                                                              'postcode_non_geographic',
                                                              'postcode_terminated'))
                  AND (a.uprn IS NULL OR a.uprn = gu.uprn) THEN gu.uprn END AS uprn_hit,
        CASE
            WHEN row_blank THEN 'blank_row'
            WHEN non_record IS NOT NULL THEN non_record
            WHEN duplicate_of IS NOT NULL THEN 'duplicate_row'
        END AS early_reject
    FROM u
    LEFT JOIN ref_uprn gu ON gu.uprn = u.uprn_clean
    LEFT JOIN scratch_address_match_{service} a USING (row_number)
),
decided AS (
    SELECT j.*,
        CASE WHEN early_reject IS NOT NULL THEN NULL
             WHEN uprn_hit IS NOT NULL THEN 'uprn'
             WHEN addr_uprn IS NOT NULL THEN addr_level
             WHEN pc_outcome IN ('postcode_live', 'postcode_terminated') THEN pc_outcome
        END AS match_level
    FROM judged j
),
located AS (
    SELECT d.*, g.uprn AS g_uprn, g.postcode AS g_postcode, g.oa21cd AS g_oa, g.ward_code AS g_ward,
           g.x AS g_x, g.y AS g_y, g.source AS g_source
    FROM decided d
    LEFT JOIN ref_uprn g
        ON g.uprn = CASE WHEN d.match_level = 'uprn' THEN d.uprn_hit
                         WHEN d.match_level LIKE 'address_%' THEN d.addr_uprn END
),
keyed AS (  -- the household key's kind and the text it is the keyed hash of: one insight_key call a
            -- row (a CASE of three calls is three HMACs a row on Spark, which runs a UDF on every row)
    SELECT l.*,
           CASE WHEN match_level IS NULL THEN NULL
                WHEN g_uprn IS NOT NULL THEN 'uprn'
                WHEN address_key IS NOT NULL THEN 'addr'
                ELSE 'row' END AS key_kind,
           CASE WHEN match_level IS NULL THEN NULL
                WHEN g_uprn IS NOT NULL THEN 'uprn|' || g_uprn
                WHEN address_key IS NOT NULL THEN 'addr|' || address_key || '|' || pc_key
                ELSE 'row|{service}|' || row_number END AS key_text
    FROM located l
)
SELECT row_number,
       match_level,
       CASE WHEN match_level IS NULL THEN coalesce(early_reject, pc_outcome) END AS reject_reason,
       CASE WHEN g_uprn IS NOT NULL THEN g_postcode
            WHEN match_level IS NOT NULL OR (early_reject IS NULL AND pc_outcome = 'out_of_area') THEN pcds
       END AS postcode,
       CASE WHEN g_uprn IS NOT NULL THEN g_oa WHEN match_level IS NOT NULL THEN oa21cd END AS oa21cd,
       CASE WHEN g_uprn IS NOT NULL THEN g_ward WHEN match_level IS NOT NULL THEN ward_code END AS ward_code,
       CASE WHEN g_uprn IS NOT NULL THEN g_x WHEN match_level IS NOT NULL THEN easting END AS easting,
       CASE WHEN g_uprn IS NOT NULL THEN g_y WHEN match_level IS NOT NULL THEN northing END AS northing,
       key_kind || ':' || insight_key(key_text) AS household_key,
       g_uprn AS uprn,
       g_source AS uprn_source,
       CASE WHEN match_level = 'uprn' OR match_level = 'address_exact' THEN 100.0
            WHEN match_level = 'address_fuzzy' THEN addr_score END AS match_score,
       postcode_corrected AND early_reject IS NULL AS postcode_corrected,
       CASE WHEN early_reject IS NULL THEN postcode_attempted END AS postcode_attempted,
       early_reject IS NULL AND pc_outcome = 'postcode_terminated' AS postcode_terminated,
       early_reject IS NULL AND large_user AS postcode_large_user,
       CASE WHEN early_reject IS NULL THEN pc_outcome END AS postcode_outcome,
       CASE WHEN early_reject IS NOT NULL OR uprn_clean IS NULL THEN NULL
            WHEN uprn_hit IS NOT NULL THEN 'used'
            WHEN uprn_known IS NOT NULL THEN 'contradicts_record'
            ELSE 'not_found' END AS uprn_given
FROM keyed
;
