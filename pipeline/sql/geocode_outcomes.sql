-- Stage 2c: the outcome counts of one service (pipeline.geocode.geocode_service): one row per outcome
-- that occurs, a match level (uprn, address_exact, address_fuzzy, postcode_live, postcode_terminated)
-- or a reject reason (pipeline.geocode.REJECT_REASONS), with its number of rows.
SELECT coalesce(match_level, reject_reason) AS outcome, count(*) AS n
FROM geocode_{service}
GROUP BY ALL
