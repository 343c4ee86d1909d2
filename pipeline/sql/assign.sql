-- Give every geocoded, in-area record the segment of its Output Area.
CREATE OR REPLACE TABLE assign_{service} AS
SELECT g.row_number, g.match_level, g.household_key, g.oa21cd, g.ward_code, s.segment,
       i.age_band, i.sex, i.ethnicity, i.disability, i.disability_type, i.religion,
       i.sexual_orientation, i.gender_identity, i.channel, i.date{option_columns}
FROM geocode_{service} g
JOIN ingest_{service} i USING (row_number)
LEFT JOIN segments_oa s USING (oa21cd)
WHERE g.match_level IS NOT NULL
ORDER BY g.row_number;
