-- Match report (pipeline.quality): the postcode corrections and UPRN use of one service's outcome
-- table, a row of quality/corrections.csv. non_residential_matches: records matched by UPRN or address
-- to a gazetteer address whose class code is not residential (ref_gazetteer.residential false: an
-- AddressBase class other than R... or X...; addresses without a class code are not counted).
SELECT count(*) FILTER (postcode_corrected) AS postcodes_corrected,
       count(*) FILTER (postcode_terminated) AS terminated_postcodes,
       count(*) FILTER (postcode_large_user) AS large_user_postcodes,
       count(*) FILTER (uprn_given = 'used') AS uprns_used,
       count(*) FILTER (uprn_given = 'contradicts_record') AS uprns_contradicting_record,
       count(*) FILTER (uprn_given = 'not_found') AS uprns_not_found,
       count(*) FILTER (match_level = 'address_fuzzy') AS fuzzy_address_matches,
       count(*) FILTER (match_level IN ('uprn', 'address_exact', 'address_fuzzy')
                        AND g.residential = false) AS non_residential_matches
FROM geocode_{service} m
LEFT JOIN ref_gazetteer g ON g.uprn = m.uprn
