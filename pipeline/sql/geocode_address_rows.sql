-- Stage 2a': the rows the address matcher is given (pipeline.geocode.match_addresses): every record
-- with address text that is not blank, a duplicate, a non-record row or outside the area. Its
-- postcode as the matcher should read it: the key when valid (or when no sector could be read),
-- else the sector shown as 'M33 2' so the matcher widens to it. widen: the postcode outcome is one
-- of the bound list $1 (pipeline.geocode.WIDEN_FOR: the record's postcode cannot place it, so the matcher may look beyond it).
SELECT p.row_number, p.address_text AS address,
       CASE WHEN p.pc_valid OR p.pc_sector IS NULL THEN p.pc_key
            ELSE left(p.pc_sector, -1) || ' ' || right(p.pc_sector, 1) END AS postcode,
       list_contains($1, p.pc_outcome) AS widen
FROM geocode_pc_{service} p
WHERE NOT p.row_blank AND p.duplicate_of IS NULL AND p.non_record IS NULL
  AND trim(coalesce(p.address_text, '')) <> '' AND p.pc_outcome <> 'out_of_area'
ORDER BY p.row_number
