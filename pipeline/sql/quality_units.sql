-- The match report's record-level base (kept in memory for the run): each record's outcome and the
-- ward and segment it belongs to, with a weight. Matched records count once in their OA. A rejected
-- record whose postcode still shows its sector (DM4 7..) is spread over that sector's OAs as the
-- service's matched records of the sector are (else as its postcodes are), weights summing to 1:
-- between-sector differences in match rate show, none is invented within a sector. The rest have
-- no place (ward and segment NULL).
CREATE OR REPLACE TEMP TABLE quality_{service} AS
WITH by_records AS (  -- where the service's matched records of each sector are
    SELECT left(replace(postcode, ' ', ''), length(replace(postcode, ' ', '')) - 2) AS sector,
           oa21cd, count(*) AS n
    FROM geocode_{service} WHERE match_level IS NOT NULL GROUP BY ALL
),
by_postcodes AS (  -- sectors the service has no matched record in: where their postcodes are
    SELECT left(pc_key, length(pc_key) - 2) AS sector, p.oa21cd, count(*) AS n
    FROM ref_postcodes p JOIN ref_oa o USING (oa21cd) GROUP BY ALL
),
sector_oa AS (
    SELECT sector, oa21cd, n / sum(n) OVER (PARTITION BY sector) AS share FROM (
        SELECT * FROM by_records
        UNION ALL
        SELECT * FROM by_postcodes WHERE sector NOT IN (SELECT sector FROM by_records)
    )
),
rows AS (
    SELECT g.row_number, g.match_level, g.reject_reason, g.oa21cd AS matched_oa,
           CASE WHEN g.match_level IS NULL
                     AND g.reject_reason NOT IN ('blank_row', 'duplicate_row', 'out_of_area') THEN
                p.pc_sector END AS sector
    FROM geocode_{service} g JOIN geocode_pc_{service} p USING (row_number)
)
SELECT r.row_number, coalesce(r.match_level, r.reject_reason) AS outcome,
       r.match_level IS NOT NULL AS matched, coalesce(r.matched_oa, s.oa21cd) AS oa21cd,
       r.matched_oa IS NULL AND s.oa21cd IS NOT NULL AS placed_by_sector,
       CASE WHEN r.matched_oa IS NOT NULL THEN 1.0 ELSE coalesce(s.share, 1.0) END AS weight,
       o.ward_code, o.ward_name, seg.segment
FROM rows r
LEFT JOIN sector_oa s ON r.matched_oa IS NULL AND s.sector = r.sector
LEFT JOIN ref_oa o ON o.oa21cd = coalesce(r.matched_oa, s.oa21cd)
LEFT JOIN segments_oa seg ON seg.oa21cd = coalesce(r.matched_oa, s.oa21cd)
ORDER BY r.row_number, oa21cd;
