-- The match report's record-level base (stays in the warehouse): each record's outcome and the
-- ward and segment it belongs to. Matched records use their OA; a rejected record whose postcode
-- still shows its sector (DM4 7..) takes the OA holding most of that sector's postcodes, so the
-- unmatched can be counted by place too (flag `placed_by_sector`); the rest have no place.
CREATE OR REPLACE TEMP TABLE quality_{service} AS
WITH sector_oa AS (
    SELECT sector, arg_max(oa21cd, n) AS oa21cd FROM (
        SELECT regexp_extract(pc_key, '^([A-Z]{{1,2}}[0-9][A-Z0-9]?[0-9])', 1) AS sector, p.oa21cd,
               count(*) AS n
        FROM ref_postcodes p JOIN ref_oa o USING (oa21cd) GROUP BY ALL
    ) GROUP BY sector
),
rows AS (
    SELECT g.row_number, g.match_level, g.reject_reason, g.oa21cd AS matched_oa,
           CASE WHEN g.match_level IS NULL
                     AND g.reject_reason NOT IN ('blank_row', 'duplicate_row', 'out_of_area') THEN regexp_extract(p.pc_key, '^([A-Z]{{1,2}}[0-9][A-Z0-9]?[0-9])', 1) END AS sector
    FROM geocode_{service} g JOIN geocode_pc_{service} p USING (row_number)
)
SELECT r.row_number, coalesce(r.match_level, r.reject_reason) AS outcome,
       r.match_level IS NOT NULL AS matched, coalesce(r.matched_oa, s.oa21cd) AS oa21cd,
       r.matched_oa IS NULL AND s.oa21cd IS NOT NULL AS placed_by_sector,
       o.ward_code, o.ward_name, seg.segment
FROM rows r
LEFT JOIN sector_oa s ON s.sector = nullif(r.sector, '')
LEFT JOIN ref_oa o ON o.oa21cd = coalesce(r.matched_oa, s.oa21cd)
LEFT JOIN segments_oa seg ON seg.oa21cd = coalesce(r.matched_oa, s.oa21cd)
ORDER BY r.row_number;
