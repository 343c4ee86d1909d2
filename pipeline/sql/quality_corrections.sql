-- Match report (pipeline.quality): the postcode corrections and UPRN use of one service's outcome
-- table, a row of quality/corrections.csv.
SELECT count(*) FILTER (postcode_corrected) AS postcodes_corrected,
       count(*) FILTER (postcode_terminated) AS terminated_postcodes,
       count(*) FILTER (postcode_large_user) AS large_user_postcodes,
       count(*) FILTER (uprn_given = 'used') AS uprns_used,
       count(*) FILTER (uprn_given = 'contradicts_record') AS uprns_contradicting_record,
       count(*) FILTER (uprn_given = 'not_found') AS uprns_not_found,
       count(*) FILTER (match_level = 'address_fuzzy') AS fuzzy_address_matches
FROM geocode_{service}
